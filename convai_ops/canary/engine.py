"""A canary on live traffic: deploy a tested branch to a share of callers, step by step,
and take one decision at a time from what callers experienced.

- :func:`start` deploys step 1 (``POST /v1/convai/agents/{id}/deployments``: the branch gets
  the step's share, main the rest; other branches keep theirs).
- :func:`status` reads the conversations of the step's window on both sides and decides
  (:mod:`convai_ops.canary.metrics`, :mod:`convai_ops.canary.stats`): nothing is changed.
- :func:`advance` acts on a decision: ``wait`` (re-sends the step's split if the API does not
  show it: a process killed between rename and deployment), ``promote`` to the next step, or,
  after the last step, ``merge`` (main gets its share back first; the merge itself is the
  gated apply's, :mod:`convai_ops.canary.run`), ``rollback`` (branch to 0%, main takes its
  share back, the branch is renamed ``...-canary-rolled-back`` and kept, never merged).

Every step is recorded in the API (:mod:`convai_ops.canary.state`), so a killed process
loses nothing. Times are Unix seconds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from convai_ops.canary.metrics import criteria_ids, measure, metric_names
from convai_ops.canary.state import (
    Canary,
    rename_for_step,
    rolled_back_name,
    shares_for,
)
from convai_ops.canary.stats import Decision, decide

if TYPE_CHECKING:
    from convai_ops.api import ConvaiClient

__all__ = [
    "Next",
    "Status",
    "advance",
    "deploy_step",
    "restore_main",
    "roll_back",
    "start",
    "status",
]

Next = Literal["waiting", "next_step", "merge", "rolled_back"]


@dataclass(frozen=True)
class Status:
    """A canary read and judged now: its ``decision``, the window's start and the seconds
    left in the step (``None`` before the first deployment)."""

    canary: Canary
    decision: Decision
    since: int | None
    time_left_s: float | None


def now_s() -> int:
    """The current Unix time in whole seconds."""
    return int(time.time())


def _other_shares(client: ConvaiClient, canary: Canary) -> dict[str, float]:
    return {
        branch_id: share
        for branch_id, share in client.traffic_shares(canary.agent_id).items()
        if share > 0 and branch_id not in (canary.main_branch_id, canary.branch_id)
    }


def deploy_step(client: ConvaiClient, canary: Canary, step: int, now: int) -> Canary:
    """Rename the branch for step ``step`` (0-based) from ``now``, then deploy its share.
    Calls ``PATCH .../branches/{id}`` and ``POST .../deployments``; returns the canary as it
    now is."""
    share = canary.plan.config.steps[step]
    shares = shares_for(canary, share, _other_shares(client, canary))  # may refuse: before
    name = rename_for_step(canary, step, now)  # the rename, so nothing changed then
    client.update_branch(canary.agent_id, canary.branch_id, name=name)
    client.deploy_traffic(canary.agent_id, shares)
    main_share = shares[canary.main_branch_id]
    return replace(canary, name=name, step=step, since=now, share=share, main_share=main_share)


def start(client: ConvaiClient, canary: Canary, now: int | None = None) -> Canary:
    """Deploy step 1 of a canary not deployed yet (see :func:`deploy_step`)."""
    return deploy_step(client, canary, 0, now_s() if now is None else now)


def restore_main(client: ConvaiClient, canary: Canary) -> None:
    """Branch to 0%, main takes its share back (other branches keep theirs). Calls
    ``POST /v1/convai/agents/{id}/deployments``."""
    client.deploy_traffic(canary.agent_id, shares_for(canary, 0.0, _other_shares(client, canary)))


def roll_back(client: ConvaiClient, canary: Canary) -> Canary:
    """Rename the branch ``...-canary-rolled-back`` (kept, not merged, not archived), then
    :func:`restore_main`. Calls ``PATCH .../branches/{id}`` and ``POST .../deployments``."""
    name = rolled_back_name(canary)  # renamed first: a kill in between still reads rolled back
    client.update_branch(canary.agent_id, canary.branch_id, name=name)
    restore_main(client, canary)
    return replace(canary, name=name, share=0.0, rolled_back=True)


def _metrics(client: ConvaiClient, canary: Canary) -> list[str]:
    main = client.get_agent(canary.agent_id)
    branch = client.get_agent(canary.agent_id, branch_id=canary.branch_id)
    criteria = list(dict.fromkeys([*criteria_ids(main), *criteria_ids(branch)]))
    return metric_names(canary.plan.config.metrics, criteria)


def status(client: ConvaiClient, canary: Canary, now: int | None = None) -> Status:
    """Judge the canary's current step over its window (conversations started since the step
    began, both sides). Changes nothing. Calls ``GET /v1/convai/agents/{id}`` (main and
    branch, for the evaluation criteria) and ``GET /v1/convai/conversations``."""
    now = now_s() if now is None else now
    if canary.rolled_back:
        return Status(canary, Decision("rollback", "rolled back"), canary.since, None)
    if canary.step is None or canary.since is None:
        return Status(canary, Decision("wait", "not deployed yet"), None, None)
    results = measure(client, canary, canary.since, _metrics(client, canary))
    left = canary.since + canary.plan.config.max_duration_s - now
    return Status(canary, decide(results, expired=left <= 0), canary.since, max(left, 0.0))


def advance(client: ConvaiClient, judged: Status, now: int | None = None) -> tuple[Next, Canary]:
    """Act on ``judged.decision`` (see the module docstring); returns what happened and the
    canary as it now is. ``merge`` changes nothing: the caller restores main and merges."""
    canary, action = judged.canary, judged.decision.action
    now = now_s() if now is None else now
    if canary.rolled_back:
        if canary.share > 0:  # killed between the rename and the deployment
            restore_main(client, canary)
        return "rolled_back", replace(canary, share=0.0)
    if canary.step is None:
        return "waiting", start(client, canary, now)
    if action == "rollback":
        return "rolled_back", roll_back(client, canary)
    if action == "promote" and canary.step + 1 < len(canary.plan.config.steps):
        return "next_step", deploy_step(client, canary, canary.step + 1, now)
    if action == "promote":
        return "merge", canary
    if canary.share != canary.step_share:
        shares = shares_for(canary, float(canary.step_share or 0), _other_shares(client, canary))
        client.deploy_traffic(canary.agent_id, shares)
    return "waiting", canary
