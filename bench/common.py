"""What every benchmark shares: generated projects, a populated emulator in its own process,
timed library calls and processes, and the table of figures.

A benchmark project is ``agents/support`` copied ``N`` times (``agent-0000`` ...), two tests
each. "Populated" means the emulator already holds those agents exactly as ``apply`` would
leave them (declared config, managed tag, content-addressed tests attached), so a plan of the
unchanged project is all no-op.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from convai_ops.api import ClientStats, ConvaiClient
from convai_ops.emulator import EmulatorConfig, run_in_thread
from convai_ops.emulator.store import save_store
from convai_ops.plan import Plan, build_plan
from convai_ops.settings import Settings
from convai_ops.spec import AgentSpec, Project, ToolSpec, load_project
from convai_ops.state import RemoteIndex, managed_tag, map_bounded
from convai_ops.testing import sync_tests
from convai_ops.workspace_tools import resolve_tools

__all__ = [
    "KEY",
    "LATENCY_MS",
    "REPO",
    "Figure",
    "ProcessRun",
    "Served",
    "Workspace",
    "cli_command",
    "cli_environment",
    "emulator",
    "median",
    "print_table",
    "run_main",
    "run_process",
    "settings_for",
    "timed_plan",
    "touch_prompts",
]

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "agents" / "support"
KEY = "bench-key-0123456789"
LATENCY_MS = 50.0
_READY_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Figure:
    """One printed figure; ``met`` is ``None`` when the figure has no target."""

    section: str
    name: str
    value: float | int | str
    unit: str = ""
    target: str = ""
    met: bool | None = None


def print_table(figures: Sequence[Figure], title: str = "") -> None:
    """Print ``figures`` as an aligned table (section, figure, value, target, verdict)."""
    rows = [("section", "figure", "value", "target", "")]
    for fig in figures:
        value = f"{fig.value:.3g}" if isinstance(fig.value, float) else str(fig.value)
        verdict = {True: "met", False: "MISSED", None: ""}[fig.met]
        rows.append((fig.section, fig.name, f"{value} {fig.unit}".strip(), fig.target, verdict))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    if title:
        print(f"\n== {title} ==")
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    sys.stdout.flush()


def median(values: Sequence[float]) -> float:
    """The median of ``values`` (at least one)."""
    return float(statistics.median(values))


def settings_for(project: Project, url: str) -> Settings:
    """Settings as the CLI would resolve them with ``ELEVENLABS_BASE_URL=url`` and the key."""
    environ = {"ELEVENLABS_API_KEY": KEY}
    return Settings.resolve(project.root, project.config, base_url=url, environ=environ)


def timed_plan(project: Project, url: str) -> tuple[float, ClientStats, Plan]:
    """Run ``build_plan`` as ``convai-ops plan`` does; return seconds, the client's counters
    and the plan. Only ``build_plan`` is timed (the project is already loaded)."""
    settings = settings_for(project, url)
    with ConvaiClient(url, KEY, max_concurrency=settings.concurrency) as client:
        started = time.perf_counter()
        plan, _ = build_plan(client, project, settings)
        return time.perf_counter() - started, client.stats, plan


def touch_prompts(root: Path, slugs: Sequence[str], revision: str) -> None:
    """Append a harmless line to the prompt of each agent in ``slugs`` (a real change that
    keeps its tests passing)."""
    for slug in slugs:
        prompt = root / "agents" / slug / "prompt.md"
        prompt.write_text(f"{prompt.read_text(encoding='utf-8')}\nRevision {revision}.\n")


# --- projects and populated states -------------------------------------------------------


def _write_project(root: Path, count: int) -> None:
    root.mkdir(parents=True)
    shutil.copy2(REPO / "convai-ops.yaml", root / "convai-ops.yaml")
    shutil.copytree(REPO / "tools", root / "tools")
    for index in range(count):
        shutil.copytree(TEMPLATE, root / "agents" / f"agent-{index:04d}")


def _create_remotely(
    client: ConvaiClient, spec: AgentSpec, tools: tuple[ToolSpec, ...], index: RemoteIndex
) -> str:
    """Create ``spec``'s tools (once per workspace), tests and the agent itself as ``apply``
    would leave them."""
    tool_ids = resolve_tools(client, spec, tools, index.tools, (), lambda _: None)
    synced = sync_tests(client, spec.slug, spec.tests, index, tool_ids)
    desired = spec.desired("staging")
    platform = {
        **desired["platform_settings"],
        "testing": {"attached_tests": [{"test_id": test.test_id} for test in synced]},
    }
    config = copy.deepcopy(desired["conversation_config"])
    if spec.tools is not None:
        prompt = config.setdefault("agent", {}).setdefault("prompt", {})
        prompt["tool_ids"] = [tool_ids[name] for name in spec.tools]
    body = {
        "name": desired["name"],
        "tags": sorted({*desired.get("tags", ()), managed_tag(spec.slug)}),
        "conversation_config": config,
        "platform_settings": platform,
    }
    return client.create_agent(body)


def _populate(root: Path, state: Path) -> None:
    """Create every agent of the project at ``root`` in a fresh emulator; save its state."""
    project = load_project(root)
    with (
        run_in_thread(EmulatorConfig()) as server,
        ConvaiClient(server.url, KEY, max_concurrency=16) as client,
    ):
        index = RemoteIndex()
        map_bounded(
            lambda spec: _create_remotely(client, spec, project.tools, index),
            list(project.agents),
            16,
        )
        save_store(server.emulator.store, state)


class Workspace:
    """Generated projects and populated emulator states, built once per size and reused.

    ``project(n)`` gives a fresh copy each call (benchmarks edit prompts in their copy);
    ``state(n)`` is the path of the populated state, read-only for ``bench.serve``.
    """

    def __init__(self) -> None:
        self._temp = tempfile.TemporaryDirectory(prefix="convai-ops-bench-")
        self.root = Path(self._temp.name)
        self._copies = 0

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self._temp.cleanup()

    def _template(self, count: int) -> Path:
        root = self.root / f"template-{count}"
        if not root.exists():
            _write_project(root, count)
        return root

    def project(self, count: int) -> Path:
        """A new copy of the ``count``-agent project."""
        self._copies += 1
        copy = self.root / f"project-{count}-{self._copies}"
        shutil.copytree(self._template(count), copy)
        return copy

    def state(self, count: int) -> Path:
        """The emulator state holding the ``count`` agents in sync with the project."""
        state = self.root / f"state-{count}.json"
        if not state.exists():
            _populate(self._template(count), state)
        return state


# --- the emulator in its own process -----------------------------------------------------


@dataclass
class Served:
    """A running emulator: ``url``; ``log`` is its request-log summary once it stopped."""

    url: str
    log: dict[str, Any] = field(default_factory=dict)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + _READY_TIMEOUT_S
    headers = {"xi-api-key": KEY}
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the emulator exited with code {process.returncode}")
        try:
            if httpx.get(f"{url}/v1/convai/agents?page_size=1", headers=headers).is_success:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError("the emulator did not answer within 30 s")


@contextmanager
def emulator(
    *,
    latency_ms: float = 0.0,
    rate_limit: float | None = None,
    test_delay_s: float = 1.0,
    state: Path | None = None,
    request_log: Path | None = None,
    arrivals: Path | None = None,
) -> Iterator[Served]:
    """Run ``bench.serve`` in its own process on a free loopback port until the block ends;
    with ``request_log``, the emulator appends each request to that file as it is answered,
    with ``arrivals`` only its arrival time, method, path and query (``bench.serve``)."""
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="convai-ops-bench-log-") as temp:
        log_out = Path(temp) / "log.json"
        command = [sys.executable, "-m", "bench.serve", "--port", str(port)]
        command += ["--latency-ms", str(latency_ms), "--test-delay", str(test_delay_s)]
        command += ["--log-out", str(log_out)]
        if rate_limit is not None:
            command += ["--rate-limit", str(rate_limit)]
        if state is not None:
            command += ["--state", str(state)]
        if request_log is not None:
            command += ["--request-log", str(request_log)]
        if arrivals is not None:
            command += ["--arrivals", str(arrivals)]
        process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL)
        served = Served(f"http://127.0.0.1:{port}")
        try:
            _wait_ready(served.url, process)
            yield served
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if log_out.exists():
            served.log = json.loads(log_out.read_text(encoding="utf-8"))


# --- processes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessRun:
    """A finished process: wall ``seconds``, peak resident memory ``max_rss_mb``, exit code
    and output."""

    seconds: float
    max_rss_mb: float
    returncode: int
    stdout: str
    stderr: str


def cli_command() -> list[str]:
    """The installed ``convai-ops`` console script (what a user runs)."""
    script = Path(sys.executable).with_name("convai-ops")
    return [str(script)] if script.exists() else [sys.executable, "-m", "convai_ops"]


def cli_environment(url: str | None = None) -> dict[str, str]:
    """This process's environment without convai-ops variables, plus the key (and URL)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ELEVENLABS_", "CONVAI_"))}
    env["ELEVENLABS_API_KEY"] = KEY
    if url is not None:
        env["ELEVENLABS_BASE_URL"] = url
    return env


def run_process(command: Sequence[str], env: dict[str, str] | None = None) -> ProcessRun:
    """Run ``command`` to its end; peak RSS is the process's own (``wait4``), in MB."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return ProcessRun(
            seconds,
            usage.ru_maxrss / 1024.0,  # kilobytes on Linux
            process.returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
        )


def run_main(name: str, run: Callable[[Workspace], list[Figure]]) -> None:
    """``python -m bench.<name>``: run one benchmark in its own workspace, print its table."""
    with Workspace() as workspace:
        print_table(run(workspace), name)
