"""Serve the emulator for a benchmark, in its own process, from a pre-built state.

``python -m bench.serve --port P [--latency-ms MS] [--rate-limit RPS] [--test-delay S]
[--state FILE] [--log-out FILE] [--request-log FILE] [--arrivals FILE]``

Unlike ``convai-ops emulator --state FILE``, the state file is only read, never written after
each change (writing it would add the emulator's own disk time to apply's figures). On SIGTERM
the server stops and, with ``--log-out``, writes a summary of its request log as JSON:
``{"total": n, "by_status": {"200": n}, "by_route": {"GET /v1/convai/agents/{id}": n}, "median_ms":
{"GET /v1/convai/agents/{id}": ms}}``. ``--request-log FILE`` appends each request as a JSON line
while serving (the emulator's ``--request-log``: its ``timestamp`` is the arrival time).
``--arrivals FILE`` appends only ``{"timestamp", "method", "path", "query"}`` per request, as it
arrives: what a benchmark timing the client needs, without the request log's masking and
encoding of every answer (about as much CPU per agent GET as answering it, spent on the
emulator's event loop while the client waits).
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import socket
import statistics
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from convai_ops.emulator import EmulatorConfig, RequestLogEntry, create_app
from convai_ops.emulator.server import UVICORN_OPTIONS
from convai_ops.emulator.store import load_store

_ID_SEGMENT = re.compile(r"^(?=.*\d)[A-Za-z0-9_]{12,}$")


def route_of(path: str) -> str:
    """``/v1/convai/agents/agent_8x...`` -> ``/v1/convai/agents/{id}``."""
    return "/".join("{id}" if _ID_SEGMENT.match(part) else part for part in path.split("/"))


def summarise(log: Iterable[RequestLogEntry]) -> dict[str, object]:
    """Counts of the request log by status and by ``METHOD /route``, and the median time the
    emulator took per route (milliseconds, injected latency included)."""
    entries = list(log)
    statuses = Counter(str(entry.status) for entry in entries)
    durations: dict[str, list[float]] = {}
    for entry in entries:
        durations.setdefault(f"{entry.method} {route_of(entry.path)}", []).append(entry.duration_ms)
    return {
        "total": len(entries),
        "by_status": dict(statuses),
        "by_route": {route: len(times) for route, times in durations.items()},
        "median_ms": {route: statistics.median(times) for route, times in durations.items()},
    }


def _socket(port: int) -> socket.socket:
    # IPPROTO_TCP lets asyncio set TCP_NODELAY on each connection (as the emulator's own
    # server does); without it answers written in two parts wait ~40 ms for delayed ACKs.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


class ArrivalLog:
    """ASGI wrapper appending one JSON line per HTTP request to ``path`` on its arrival."""

    def __init__(self, app: ASGIApp, path: Path) -> None:
        self.app = app
        self.out = path.open("a", encoding="utf-8")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = scope.get("query_string", b"").decode("latin-1")
            line = {"timestamp": time.time(), "method": scope["method"], "path": scope["path"]}
            self.out.write(json.dumps({**line, "query": query}) + "\n")
            self.out.flush()
        await self.app(scope, receive, send)


def main(argv: list[str] | None = None) -> None:
    """Parse the flags above, serve until SIGTERM, then write the log summary."""
    parser = argparse.ArgumentParser(prog="python -m bench.serve")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--rate-limit", type=float, default=None)
    parser.add_argument("--test-delay", type=float, default=1.0)
    parser.add_argument("--state", type=Path, default=None)
    parser.add_argument("--log-out", type=Path, default=None)
    parser.add_argument("--request-log", type=Path, default=None)
    parser.add_argument("--arrivals", type=Path, default=None)
    args = parser.parse_args(argv)
    config = EmulatorConfig(
        latency_ms=args.latency_ms,
        rate_limit=args.rate_limit,
        test_delay_s=args.test_delay,
        request_log_file=args.request_log,
    )
    app = create_app(config)
    if args.state is not None:
        app.state.emulator.store = load_store(args.state)
    served: ASGIApp = ArrivalLog(app, args.arrivals) if args.arrivals else app
    server = uvicorn.Server(uvicorn.Config(served, **UVICORN_OPTIONS))
    sock = _socket(args.port)
    # uvicorn stops gracefully on SIGTERM, then raises it again under the handler found before
    # it started: make that one harmless, so that the summary below is still written.
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    if args.log_out is not None:
        summary = summarise(app.state.emulator.request_log)
        args.log_out.write_text(json.dumps(summary, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
