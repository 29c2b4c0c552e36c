"""Run every benchmark in one workspace (projects and emulator states built once) and print
one table of all figures; about two and a half minutes on two cores.

    .venv/bin/python -m bench            # or: python -m bench.run_all
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bench import apply_gate, cold_start, memory, plan_scale, rate_limit
from bench.common import Figure, Workspace, print_table

BENCHMARKS: list[tuple[str, Callable[[Workspace], list[Figure]]]] = [
    ("cold start", cold_start.run),
    ("plan", plan_scale.run),
    ("apply", apply_gate.run),
    ("memory", memory.run),
    ("rate limit", rate_limit.run),
]


def main() -> None:
    """Run each benchmark, print its table as it finishes, then all figures together."""
    started = time.perf_counter()
    figures: list[Figure] = []
    with Workspace() as workspace:
        for name, run in BENCHMARKS:
            part = run(workspace)
            print_table(part, name)
            figures += part
    print_table(figures, f"all figures ({time.perf_counter() - started:.0f} s in all)")
    missed = [f"{f.section}: {f.name}" for f in figures if f.met is False]
    print(f"\n{len(missed)} target(s) missed" + "".join(f"\n  {m}" for m in missed))


if __name__ == "__main__":
    main()
