"""Plan of 10, 100 and 500 agents against the emulator answering every request after 50 ms.

A plan reads main of every agent once, ``concurrency`` (8) at a time, so its wall time is at
least ``ceil(N / concurrency) x 50 ms``. Three states of the remote account:

- *in sync*: every agent exists as the repository says (the plan is all no-op);
- *all updated*: every prompt was edited locally (the plan is all update);
- *to create*: the account is empty (only the list calls are needed).

Printed per size: the median wall time of ``build_plan`` over runs, the lower bound and their
ratio (target within 1.3x), GETs of an agent per agent (target 1.00) and the list calls. To
tell convai-ops' own cost from the emulator's, each run also times a *floor*: the same agent
GETs sent by a bare ``httpx`` client at the same concurrency (no lists, no diff), and the
emulator's median time per agent GET (50 ms latency included) is shown.

    .venv/bin/python -m bench.plan_scale
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.common import (
    KEY,
    LATENCY_MS,
    Figure,
    Workspace,
    emulator,
    median,
    run_main,
    timed_plan,
    touch_prompts,
)
from convai_ops.api import ClientStats
from convai_ops.spec import load_project
from convai_ops.state import map_bounded

SIZES = (10, 100, 500)
RUNS = 3
TARGET_RATIO = 1.3
GET_AGENT = "GET /v1/convai/agents/{agent_id}"


def lower_bound(count: int, concurrency: int, latency_ms: float = LATENCY_MS) -> float:
    """Seconds a plan of ``count`` agents needs at least: one round trip per agent."""
    return math.ceil(count / concurrency) * latency_ms / 1000.0


def list_calls(stats: ClientStats) -> str:
    """The list calls of one plan, e.g. ``agents x5, agent-testing x10``."""
    calls = [
        f"{route.rsplit('/', 1)[-1]} x{n}"
        for route, n in sorted(stats.by_route.items())
        if route != GET_AGENT
    ]
    return ", ".join(calls) or "none"


def floor_seconds(url: str, agent_ids: list[str], concurrency: int) -> float:
    """Seconds a bare httpx client takes for one GET per agent at ``concurrency``."""
    with httpx.Client(base_url=url, headers={"xi-api-key": KEY}) as http:
        started = time.perf_counter()
        map_bounded(lambda i: http.get(f"/v1/convai/agents/{i}").json(), agent_ids, concurrency)
        return time.perf_counter() - started


@dataclass(frozen=True)
class Measured:
    """Medians over runs: ``build_plan`` seconds, floor seconds (0 when not measured), load
    seconds, and the last run's client counters."""

    seconds: float
    floor: float
    load: float
    stats: ClientStats


def measure(root: Path, url: str, action: str, with_floor: bool) -> Measured:
    """``RUNS`` plans of ``root`` (each agent must plan as ``action``), each beside a floor."""
    started = time.perf_counter()
    project = load_project(root)
    load = time.perf_counter() - started
    concurrency = project.config.concurrency or 8
    plans, floors, stats = [], [], ClientStats()
    for _ in range(RUNS):
        seconds, stats, plan = timed_plan(project, url)
        if plan.count(action) != len(project.agents):
            raise RuntimeError(f"expected every agent to plan as {action!r}")
        plans.append(seconds)
        if with_floor:
            ids = [a.agent_id for a in plan.agents if a.agent_id]
            floors.append(floor_seconds(url, ids, concurrency))
    return Measured(median(plans), median(floors) if floors else 0.0, load, stats)


def _figures(count: int, scenario: str, measured: Measured, concurrency: int) -> list[Figure]:
    section = f"plan {count} agents, {scenario}"
    bound = lower_bound(count, concurrency)
    figures = [Figure(section, f"build_plan wall time (median of {RUNS})", measured.seconds, "s")]
    if scenario != "to create":
        ratio = measured.seconds / bound
        per_agent = measured.stats.by_route.get(GET_AGENT, 0) / count
        figures += [
            Figure(section, f"lower bound ceil(N/{concurrency}) x 50 ms", bound, "s"),
            Figure(section, "wall / lower bound", ratio, "x", f"<= {TARGET_RATIO}", ratio <= 1.3),
            Figure(section, "agent GETs per agent", per_agent, "", "1.00", per_agent == 1),
        ]
    if measured.floor:
        figures += [
            Figure(section, "floor: same GETs by bare httpx", measured.floor, "s"),
            Figure(
                section, "floor / lower bound (emulator + machine)", measured.floor / bound, "x"
            ),
            Figure(
                section,
                "wall / floor (convai-ops' own cost)",
                measured.seconds / measured.floor,
                "x",
            ),
        ]
    figures += [
        Figure(section, "requests in all", measured.stats.requests),
        Figure(section, "list calls", list_calls(measured.stats)),
    ]
    return figures


def run_size(workspace: Workspace, count: int) -> list[Figure]:
    """All three scenarios for ``count`` agents."""
    root = workspace.project(count)
    concurrency = load_project(root).config.concurrency or 8
    with emulator(latency_ms=LATENCY_MS, state=workspace.state(count)) as served:
        in_sync = measure(root, served.url, "no-op", with_floor=True)
        touch_prompts(root, [f"agent-{i:04d}" for i in range(count)], "plan-bench")
        updated = measure(root, served.url, "update", with_floor=False)
    with emulator(latency_ms=LATENCY_MS) as empty:
        to_create = measure(root, empty.url, "create", with_floor=False)
    emulator_ms = served.log.get("median_ms", {}).get("GET /v1/convai/agents/{id}", 0.0)
    section = f"plan {count} agents"
    return [
        Figure(section, f"load_project ({count * 4} files)", in_sync.load, "s"),
        Figure(section, "emulator's median time per agent GET", emulator_ms, "ms"),
        *_figures(count, "in sync", in_sync, concurrency),
        *_figures(count, "all updated", updated, concurrency),
        *_figures(count, "to create", to_create, concurrency),
    ]


def run(workspace: Workspace, sizes: Sequence[int] = SIZES) -> list[Figure]:
    """Every size in ``sizes``."""
    return [figure for count in sizes for figure in run_size(workspace, count)]


if __name__ == "__main__":
    run_main("plan", run)
