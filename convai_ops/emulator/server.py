"""Serve the emulator: blocking (:func:`serve`) or in a thread (:func:`run_in_thread`)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn

from convai_ops.emulator.app import create_app
from convai_ops.emulator.config import EmulatorConfig
from convai_ops.emulator.core import Emulator
from convai_ops.emulator.traffic import TrafficTicker

__all__ = ["UVICORN_OPTIONS", "EmulatorServer", "run_in_thread", "serve"]

_START_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class EmulatorServer:
    """A running emulator: ``url`` like ``"http://127.0.0.1:54321"`` and its ``emulator``."""

    url: str
    emulator: Emulator


#: How every emulator server runs: quiet, no lifespan or websockets, the httptools parser and
#: uvloop where installed (about 5% less time per request than h11 on asyncio's loop).
UVICORN_OPTIONS: dict[str, Any] = {
    "log_level": "warning",
    "access_log": False,
    "lifespan": "off",
    "ws": "none",
    "http": "httptools",
    "loop": "auto",
}


def _uvicorn_config(config: EmulatorConfig | None, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(create_app(config), host=host, port=port, **UVICORN_OPTIONS)


def serve(config: EmulatorConfig | None = None, host: str = "127.0.0.1", port: int = 8787) -> None:
    """Serve the emulated ElevenLabs ``/v1/convai`` API on ``host:port`` until interrupted.

    Knobs (:class:`EmulatorConfig`):

    - ``latency_ms`` (0): delay added to every answer, in milliseconds.
    - ``fail_rate`` (0): share of requests answered ``500`` before any processing.
    - ``rate_limit`` (None): requests/second; above it ``429`` with ``Retry-After``.
    - ``api_key`` (None): the only accepted ``xi-api-key``; None accepts any key of 16 or more
      characters (a shorter one: ``401 invalid_api_key``).
    - ``state_file`` (None): JSON file holding the state across restarts.
    - ``test_delay_s`` (1.0): seconds a test run stays ``pending``.
    - ``seed`` (0): seeds ids, injected failures and nondeterministic replies.
    - ``nondeterminism`` (0): chance a run of an agent with temperature > 0 gives its
      second-best reply.
    - ``conversations_file`` (None): recorded conversations to serve instead of the bundled
      ones.
    - ``traffic_rate`` (0): synthetic live conversations per second per agent, generated in
      the background and before each request (:mod:`convai_ops.emulator.traffic`).
    """
    sock = _listening_socket(host, port)
    uv_config = _uvicorn_config(config, host, port)
    ticker = _ticker(uv_config)
    try:
        uvicorn.Server(uv_config).run(sockets=[sock])
    finally:
        ticker.stop()
        sock.close()


def _ticker(uv_config: uvicorn.Config) -> TrafficTicker:
    """Start the synthetic live traffic's background clock (a no-op thread at rate 0 is not
    started)."""
    emulator: Emulator = uv_config.app.state.emulator  # type: ignore[union-attr]
    ticker = TrafficTicker(emulator)
    if emulator.config.traffic_rate > 0:
        ticker.start()
    return ticker


def _listening_socket(host: str, port: int) -> socket.socket:
    """Bind a TCP socket; ``IPPROTO_TCP`` lets asyncio set ``TCP_NODELAY`` on connections
    (without it, answers written in two parts wait for delayed ACKs, ~40 ms each)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


@contextmanager
def run_in_thread(
    config: EmulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0
) -> Iterator[EmulatorServer]:
    """Run the emulator on ``host:port`` (0: a free port) in a daemon thread.

    Yields an :class:`EmulatorServer` once the server accepts connections; stops the server and
    joins the thread on exit. Raises ``RuntimeError`` when the server does not start in 10 s.
    """
    uv_config = _uvicorn_config(config, host, port)
    server = uvicorn.Server(uv_config)
    sock = _listening_socket(host, port)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    ticker = _ticker(uv_config)
    try:
        thread.start()
        _wait_started(server, thread)
        bound_port = sock.getsockname()[1]
        emulator: Emulator = uv_config.app.state.emulator  # type: ignore[union-attr]
        shown = f"[{host}]" if ":" in host else host
        yield EmulatorServer(url=f"http://{shown}:{bound_port}", emulator=emulator)
    finally:
        ticker.stop()
        server.should_exit = True
        thread.join(timeout=_START_TIMEOUT_S)
        sock.close()


def _wait_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the emulator did not start")
        time.sleep(0.005)
