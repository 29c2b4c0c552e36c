"""Peak memory of ``convai-ops plan`` on 500 agents, run as a user runs it (its own process).

The peak resident set size is the process's own ``ru_maxrss`` (from ``wait4``); target: under
250 MB. The same run's wall time (start-up, loading 2,000 YAML files, the plan, rendering) and
the ``--format json`` variant are printed too.

    .venv/bin/python -m bench.memory
"""

from __future__ import annotations

from bench.common import (
    LATENCY_MS,
    Figure,
    Workspace,
    cli_command,
    cli_environment,
    emulator,
    median,
    run_main,
    run_process,
)

AGENTS = 500
RUNS = 2
TARGET_MB = 250.0


def run(workspace: Workspace) -> list[Figure]:
    """``convai-ops plan`` (text and JSON) on the in-sync 500-agent project."""
    root = workspace.project(AGENTS)
    figures = []
    with emulator(latency_ms=LATENCY_MS, state=workspace.state(AGENTS)) as served:
        for fmt in ("text", "json"):
            command = [*cli_command(), "-C", str(root), "plan", "--format", fmt]
            runs = [run_process(command, cli_environment(served.url)) for _ in range(RUNS)]
            failed = [r for r in runs if r.returncode != 0]
            if failed:
                raise RuntimeError(f"convai-ops plan failed: {failed[0].stderr}")
            section = f"convai-ops plan --format {fmt}, {AGENTS} agents"
            peak = max(r.max_rss_mb for r in runs)
            figures += [
                Figure(
                    section,
                    f"peak RSS (max of {RUNS})",
                    peak,
                    "MB",
                    f"< {TARGET_MB:g} MB",
                    peak < TARGET_MB,
                ),
                Figure(
                    section,
                    f"wall time end to end (median of {RUNS})",
                    median([r.seconds for r in runs]),
                    "s",
                ),
            ]
    return figures


if __name__ == "__main__":
    run_main("memory", run)
