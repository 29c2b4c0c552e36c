"""Apply of 1 and of 20 changed agents among 200 (two tests each), at 50 ms per request.

Each run edits the prompts of the first 1 (or 20) agents, then does what
``convai-ops apply --auto-approve`` does: ``build_plan`` (one GET per agent, list calls) and
``apply_plan`` (per changed agent: read main, branch, run the two tests on it, poll the
invocation, re-read main, merge, read back). The emulator keeps a test run pending for 1 s;
polling starts at 1 s and doubles (the CLI's defaults).

Printed: median wall time, requests of the plan and of the gate per changed agent, polls per
test invocation.

    .venv/bin/python -m bench.apply_gate
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.common import (
    KEY,
    LATENCY_MS,
    Figure,
    Workspace,
    emulator,
    median,
    run_main,
    settings_for,
    touch_prompts,
)
from convai_ops.api import ConvaiClient
from convai_ops.apply import ApplyOptions, apply_plan
from convai_ops.plan import build_plan
from convai_ops.spec import load_project
from convai_ops.testing import PollPolicy

AGENTS = 200
CHANGED = (1, 20)
RUNS = 3
TEST_DELAY_S = 1.0
RUN_TESTS = "POST /v1/convai/agents/{agent_id}/run-tests"
POLL = "GET /v1/convai/test-invocations/{test_invocation_id}"


@dataclass(frozen=True)
class ApplyRun:
    """One apply: wall seconds, requests of the plan and of the gate, runs started, polls."""

    seconds: float
    plan_requests: int
    gate_requests: int
    invocations: int
    polls: int


def apply_once(root: Path, url: str, changed: int) -> ApplyRun:
    """Plan and apply ``root`` as ``convai-ops apply --auto-approve`` would."""
    project = load_project(root)
    settings = settings_for(project, url)
    policy = PollPolicy(settings.poll_initial, settings.poll_max, settings.test_timeout)
    options = ApplyOptions(settings.environment, settings.concurrency, policy)
    with ConvaiClient(url, KEY, max_concurrency=settings.concurrency) as client:
        started = time.perf_counter()
        plan, snapshot = build_plan(client, project, settings)
        plan_requests = client.stats.requests
        result = apply_plan(client, project, plan, snapshot.index, options)
        seconds = time.perf_counter() - started
        stats = client.stats
    merged = sum(outcome.status == "merged" for outcome in result.outcomes)
    if result.exit_code != 0 or merged != changed:
        raise RuntimeError(f"expected {changed} merged agents, got {merged}: {result}")
    return ApplyRun(
        seconds,
        plan_requests,
        stats.requests - plan_requests,
        stats.by_route.get(RUN_TESTS, 0),
        stats.by_route.get(POLL, 0),
    )


def _figures(changed: int, runs: Sequence[ApplyRun]) -> list[Figure]:
    section = f"apply {changed} of {AGENTS} changed"
    last = runs[-1]
    return [
        Figure(
            section,
            f"wall time, plan + gate (median of {len(runs)})",
            median([r.seconds for r in runs]),
            "s",
        ),
        Figure(section, "requests of the plan", last.plan_requests),
        Figure(section, "requests of the gate per changed agent", last.gate_requests / changed),
        Figure(section, "test invocations", last.invocations),
        Figure(section, "polls per test invocation", last.polls / max(1, last.invocations)),
    ]


def run(workspace: Workspace, changes: Sequence[int] = CHANGED) -> list[Figure]:
    """Each count of changed agents, ``RUNS`` applies each."""
    root = workspace.project(AGENTS)
    figures: list[Figure] = []
    with emulator(
        latency_ms=LATENCY_MS, test_delay_s=TEST_DELAY_S, state=workspace.state(AGENTS)
    ) as served:
        for changed in changes:
            runs = []
            for attempt in range(RUNS):
                touch_prompts(
                    root, [f"agent-{i:04d}" for i in range(changed)], f"{changed}.{attempt}"
                )
                runs.append(apply_once(root, served.url, changed))
            figures += _figures(changed, runs)
    return figures


if __name__ == "__main__":
    run_main("apply", run)
