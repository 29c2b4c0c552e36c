"""Cold start: ``convai-ops --help`` and ``--version`` as a user runs them (median of runs),
then the commands that call the API, against the emulator at 100 ms per request.

Targets: ``--help`` under 0.3 s, which needs the heavy libraries (httpx, pydantic, deepdiff,
ruamel.yaml, FastAPI, uvicorn, ...) to be imported only by the commands that use them (the
benchmark lists which of them ``import convai_ops.cli`` pulls in: target none). Time to first
request of ``convai-ops plan`` (from the moment the process is started to the arrival of its
first request, as ``bench.serve --arrivals`` logs it) under 0.2 s; its bound is the
interpreter's own start (``python -c pass``). A no-change ``convai-ops apply --auto-approve``
of 10 agents found by their managed tag within 1.5x of its network bound plus the
interpreter's start: the agents list, then ``ceil(10 / concurrency)`` rounds of agent reads
(the tests list is read beside them), each one round trip of 100 ms. Ratios are taken within
the same run. The project is run once before timing, as a user's second command would be:
its unchanged files are then known valid (``.convai-ops/cache``), so the reads start while it
loads (``convai_ops.early_reads``). The time to first request is also shown after one file
was edited (the project is then loaded before anything is sent, its unchanged contents still
known valid) and without any cache (a fresh clone).

    .venv/bin/python -m bench.cold_start
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import (
    Figure,
    Workspace,
    cli_command,
    cli_environment,
    emulator,
    median,
    run_main,
    run_process,
)
from convai_ops.spec.check_cache import CACHE_DIR

RUNS = 9
TARGET_S = 0.3
API_RUNS = 7
API_AGENTS = 10
API_LATENCY_MS = 100.0
CONCURRENCY = 8  # the CLI's default
FIRST_REQUEST_TARGET_S = 0.2
APPLY_TARGET_RATIO = 1.5
HEAVY = (
    "httpx",
    "pydantic",
    "deepdiff",
    "ruamel.yaml",
    "fastapi",
    "uvicorn",
    "starlette",
    "jsonschema",
    "tenacity",
    "git",
    "rich",
    "convai_ops.api",
    "convai_ops.spec",
    "convai_ops.emulator",
)
_PROBE = f"import sys, convai_ops.cli; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"


def heavy_imports() -> list[str]:
    """The heavy modules loaded by ``import convai_ops.cli`` (empty when all are lazy)."""
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True
    ).stdout
    return [name for name in out.strip().split(",") if name]


def user_environment(url: str | None = None) -> dict[str, str]:
    """:func:`cli_environment` as on a user's machine: bytecode may be cached.

    ``pip install`` compiles every module; an editable install (this checkout) compiles on
    first import, unless ``PYTHONDONTWRITEBYTECODE`` is set, as it may be where benchmarks
    run: then every run would compile convai-ops from source, which no user pays."""
    env = cli_environment(url)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def time_command(args: list[str]) -> float:
    """Median wall seconds of ``args`` over ``RUNS`` runs (after one warm-up run)."""
    env = user_environment()
    run_process(args, env=env)  # warm the caches, as a user's second run would find them
    return median([run_process(args, env=env).seconds for _ in range(RUNS)])


def interpreter_start() -> float:
    """Median wall seconds of ``python -c pass`` (the floor of any command)."""
    return time_command([sys.executable, "-c", "pass"])


def _log_lines(log: Path) -> list[dict[str, object]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line]


def first_request_after(args: list[str], env: dict[str, str], log: Path) -> float:
    """Seconds from starting ``args`` to the arrival of its first request in ``log``.

    Raises ``RuntimeError`` when the command fails or sends nothing."""
    before = len(_log_lines(log))
    started = time.time()  # the emulator stamps arrivals with the same wall clock
    done = run_process(args, env=env)
    sent = _log_lines(log)[before:]
    if done.returncode != 0 or not sent:
        raise RuntimeError(f"{args} exited {done.returncode}, sent {len(sent)}: {done.stderr}")
    return float(str(sent[0]["timestamp"])) - started


def timed_run(args: list[str], env: dict[str, str]) -> float:
    """Wall seconds of ``args``; ``RuntimeError`` when it fails or finds changes."""
    done = run_process(args, env=env)
    if done.returncode != 0 or "No changes" not in done.stdout:
        raise RuntimeError(f"{args} exited {done.returncode}: {done.stdout}{done.stderr}")
    return done.seconds


def network_bound(agents: int, latency_s: float) -> float:
    """The agents list, then ``ceil(2 * agents / concurrency)`` rounds of reads (each agent's
    ``GET /v1/convai/agents/{id}`` and its branches list, which says whether a traffic split
    keeps main under 100%: plan and apply warn about it): seconds."""
    return (1 + math.ceil(2 * agents / CONCURRENCY)) * latency_s


def api_figures(workspace: Workspace) -> list[Figure]:
    """Time to first request of ``plan``, and a no-change ``apply`` of 10 agents, against
    their bounds, at 100 ms per request (median of ``API_RUNS``, bounds from the same run)."""
    root = workspace.project(API_AGENTS)
    log = workspace.root / "cold-start-requests.jsonl"
    command = [*cli_command(), "-C", str(root)]
    with emulator(
        latency_ms=API_LATENCY_MS, state=workspace.state(API_AGENTS), arrivals=log
    ) as served:
        env = user_environment(served.url)
        timed_run([*command, "plan"], env)  # warm-up, and the validation cache is written
        firsts, applies, uncached, edited = [], [], [], []
        for run in range(API_RUNS):
            edit_comment(root, run)  # a file changed: loaded before any request is sent
            edited.append(first_request_after([*command, "plan"], env, log))
            firsts.append(first_request_after([*command, "plan"], env, log))
            applies.append(timed_run([*command, "apply", "--auto-approve"], env))
            shutil.rmtree(root / CACHE_DIR)  # as after a fresh clone
            uncached.append(first_request_after([*command, "plan"], env, log))
    start = interpreter_start()
    firsts_all = FirstRequests(median(firsts), median(edited), median(uncached))
    return _api_table(start, firsts_all, median(applies))


@dataclass(frozen=True)
class FirstRequests:
    """Medians of the time to first request: unchanged project, one file edited (its
    content still known valid), no cache at all (seconds)."""

    unchanged: float
    edited: float
    uncached: float


def edit_comment(root: Path, run: int) -> None:
    """Append a comment to one ``agent.yaml``: the project's files changed, its plan did not."""
    path = root / "agents" / "agent-0000" / "agent.yaml"
    path.write_text(f"{path.read_text(encoding='utf-8')}# edit {run}\n", encoding="utf-8")


def _api_table(start: float, firsts: FirstRequests, apply: float) -> list[Figure]:
    section = "first request"
    first = firsts.unchanged
    bound = network_bound(API_AGENTS, API_LATENCY_MS / 1000) + start
    ratio = apply / bound
    runs = f"median of {API_RUNS}"
    return [
        Figure(section, f"interpreter start, `python -c pass` (median of {RUNS})", start, "s"),
        Figure(
            section,
            f"`convai-ops plan`: process start to first request ({runs})",
            first,
            "s",
            f"< {FIRST_REQUEST_TARGET_S} s (bound {start:.3f} s)",
            first < FIRST_REQUEST_TARGET_S,
        ),
        Figure(
            section,
            f"the same after editing a file (loaded before any request; {runs})",
            firsts.edited,
            "s",
        ),
        Figure(
            section,
            f"the same, first run after a clone: no cache at all ({runs})",
            firsts.uncached,
            "s",
        ),
        Figure(
            section,
            f"no-change `apply --auto-approve`, {API_AGENTS} agents, 100 ms/request ({runs})",
            apply,
            "s",
            f"bound {bound:.3f} s (network + start)",
        ),
        Figure(
            section,
            "no-change apply / its bound",
            round(ratio, 2),
            "x",
            f"<= {APPLY_TARGET_RATIO}x",
            ratio <= APPLY_TARGET_RATIO,
        ),
    ]


def run(workspace: Workspace) -> list[Figure]:
    """Time ``--help``, ``--version`` and ``plan --help``; list eager heavy imports; then the
    API figures (:func:`api_figures`)."""
    figures = []
    for flags in (["--help"], ["--version"], ["plan", "--help"]):
        seconds = time_command([*cli_command(), *flags])
        figures.append(
            Figure(
                "cold start",
                f"convai-ops {' '.join(flags)} (median of {RUNS})",
                seconds,
                "s",
                f"< {TARGET_S} s",
                seconds < TARGET_S,
            )
        )
    eager = heavy_imports()
    figures.append(
        Figure(
            "cold start",
            "heavy modules imported by `import convai_ops.cli`",
            ", ".join(eager) or "none",
            target="none",
            met=not eager,
        )
    )
    return figures + api_figures(workspace)


if __name__ == "__main__":
    run_main("cold start", run)
