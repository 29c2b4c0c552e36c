"""Cold start: ``convai-ops --help`` and ``--version`` as a user runs them (median of runs).

Target: under 0.3 s, which needs the heavy libraries (httpx, pydantic, deepdiff, ruamel.yaml,
FastAPI, uvicorn, ...) to be imported only by the commands that use them. The benchmark also
lists which of them ``import convai_ops.cli`` pulls in (target: none).

    .venv/bin/python -m bench.cold_start
"""

from __future__ import annotations

import subprocess
import sys

from bench.common import Figure, Workspace, cli_command, median, run_main, run_process

RUNS = 9
TARGET_S = 0.3
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


def time_command(args: list[str]) -> float:
    """Median wall seconds of ``args`` over ``RUNS`` runs (after one warm-up run)."""
    run_process(args)  # warm the file-system cache, as a user's second run would be
    return median([run_process(args).seconds for _ in range(RUNS)])


def run(workspace: Workspace) -> list[Figure]:
    """Time ``--help``, ``--version`` and ``plan --help``; list eager heavy imports."""
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
    return figures


if __name__ == "__main__":
    run_main("cold start", run)
