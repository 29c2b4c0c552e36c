"""Plan of 10, 100 and 500 agents against the emulator answering every request after 50 ms.

A plan reads main of every agent once, ``concurrency`` (8) at a time, so its wall time is at
least ``ceil(N / concurrency) x 50 ms``. Four states:

- *in sync*: every agent exists as the repository says (the plan is all no-op);
- *ids pinned*: the same, with each agent's id written in its ``agent.yaml``
  (``environments.staging``), so no agent is looked up by its managed tag;
- *all updated*: every prompt was edited locally (the plan is all update);
- *to create*: the account is empty (only the list calls are needed).

Printed per size: the median wall time of ``build_plan`` over runs, the lower bound and their
ratio, GETs of an agent per agent (target 1.00) and the list calls. An agent found by its
managed tag cannot be read before the first page of ``GET /v1/convai/agents`` names it, so the
lower bound of those scenarios is ``(ceil(N / concurrency) + 1) x 50 ms``: the 1.3x target is
judged against that bound there, and against ``ceil(N / concurrency) x 50 ms`` when ids are
pinned (both ratios are printed). To tell convai-ops' own cost from the
emulator's, each run also times a *floor*: the same agent GETs sent by a bare ``httpx`` client
at the same concurrency (no lists, no diff), and the emulator's median time per agent GET (50
ms latency included) is shown.

    .venv/bin/python -m bench.plan_scale
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
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
RUNS = 5
RUNS_AT_500 = 3  # keeps the whole of ``python -m bench`` well under 5 minutes


def runs_for(count: int) -> int:
    """Plans per median: fewer for the largest size, whose single run is longest."""
    return RUNS_AT_500 if count >= 500 else RUNS


TARGET_RATIO = 1.3
GET_AGENT = "GET /v1/convai/agents/{agent_id}"


def lower_bound(count: int, concurrency: int, latency_ms: float = LATENCY_MS) -> float:
    """Seconds a plan of ``count`` agents needs at least: one round trip per agent."""
    return math.ceil(count / concurrency) * latency_ms / 1000.0


def pin_ids(root: Path, ids: Mapping[str, str], env: str = "staging") -> None:
    """Write each agent's id into its ``agent.yaml`` as ``environments.<env>``."""
    for slug, agent_id in ids.items():
        agent_yaml = root / "agents" / slug / "agent.yaml"
        text = agent_yaml.read_text(encoding="utf-8")
        agent_yaml.write_text(f"{text}\nenvironments:\n  {env}: {agent_id}\n", encoding="utf-8")


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
    seconds; the last run's client counters and the agent ids its plan found."""

    seconds: float
    floor: float
    load: float
    stats: ClientStats
    ids: Mapping[str, str]


def measure(root: Path, url: str, action: str, with_floor: bool) -> Measured:
    """``runs_for(N)`` plans of ``root`` (each agent must plan as ``action``), each beside a
    floor."""
    started = time.perf_counter()
    project = load_project(root)
    load = time.perf_counter() - started
    concurrency = project.config.concurrency or 8
    plans, floors, stats, ids = [], [], ClientStats(), {}
    for _ in range(runs_for(len(project.agents))):
        seconds, stats, plan = timed_plan(project, url)
        if plan.count(action) != len(project.agents):
            raise RuntimeError(f"expected every agent to plan as {action!r}")
        plans.append(seconds)
        ids = {a.slug: a.agent_id for a in plan.agents if a.agent_id}
        if with_floor:
            floors.append(floor_seconds(url, list(ids.values()), concurrency))
    return Measured(median(plans), median(floors) if floors else 0.0, load, stats, ids)


def _ratio(section: str, name: str, ratio: float, *, judged: bool) -> Figure:
    if not judged:
        return Figure(section, name, ratio, "x")
    return Figure(section, name, ratio, "x", f"<= {TARGET_RATIO}", ratio <= TARGET_RATIO)


def _figures(count: int, scenario: str, measured: Measured, concurrency: int) -> list[Figure]:
    section = f"plan {count} agents, {scenario}"
    bound = lower_bound(count, concurrency)
    pinned = scenario == "ids pinned"
    figures = [
        Figure(
            section, f"build_plan wall time (median of {runs_for(count)})", measured.seconds, "s"
        )
    ]
    if scenario != "to create":
        per_agent = measured.stats.by_route.get(GET_AGENT, 0) / count
        figures += [
            Figure(section, f"lower bound ceil(N/{concurrency}) x 50 ms", bound, "s"),
            _ratio(section, "wall / lower bound", measured.seconds / bound, judged=pinned),
            Figure(section, "agent GETs per agent", per_agent, "", "1.00", per_agent == 1),
        ]
        if not pinned:  # found by tag: judged against the bound with the agents list first
            after_list = bound + LATENCY_MS / 1000.0
            figures += [
                Figure(section, "bound with the agents list first (+1 x 50 ms)", after_list, "s"),
                _ratio(section, "wall / that bound", measured.seconds / after_list, judged=True),
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
        pinned_root = workspace.project(count)
        pin_ids(pinned_root, in_sync.ids)
        pinned = measure(pinned_root, served.url, "no-op", with_floor=False)
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
        *_figures(count, "ids pinned", pinned, concurrency),
        *_figures(count, "all updated", updated, concurrency),
        *_figures(count, "to create", to_create, concurrency),
    ]


def run(workspace: Workspace, sizes: Sequence[int] = SIZES) -> list[Figure]:
    """Every size in ``sizes``."""
    return [figure for count in sizes for figure in run_size(workspace, count)]


if __name__ == "__main__":
    run_main("plan", run)
