"""The canary inside the gated apply, and the resumable steps of ``convai-ops canary``.

``apply --canary`` (or an environment's ``canary:`` block): after the branch's tests pass,
:func:`run_canary` deploys step 1 and analyses every ``analysis_interval`` seconds until the
decision is taken; promote = main takes its share back, then the normal merge
(:func:`merge_released`); rollback = the ``rolled_back`` outcome (exit 3),
naming the failing metric, its numbers and the failed conversation ids.

``canary analyse`` / ``promote`` / ``abort`` take one decision on canaries read back from
the API (:mod:`convai_ops.canary.state`): a process killed anywhere is resumed by the next.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from convai_ops.canary.config import CanaryPlan, describe
from convai_ops.canary.engine import Next, Status, advance, restore_main, roll_back, start, status
from convai_ops.canary.state import Canary, find_canaries, foreign_split, read_canary
from convai_ops.errors import ConvaiOpsError, MainMovedError, TrafficSplitError

if TYPE_CHECKING:
    from convai_ops.apply import AgentOutcome
    from convai_ops.canary.stats import Decision
    from convai_ops.plan import AgentPlan
    from convai_ops.stage import ApplyContext, Staged
    from convai_ops.testing import TestReport

__all__ = [
    "Analysed",
    "abort",
    "analyse",
    "check_traffic",
    "explain",
    "merge_released",
    "progress",
    "promote",
    "run_canary",
    "running_canaries",
    "with_canary_description",
]

#: Failed conversation ids named per metric in a rollback message.
SHOWN_IDS = 10


@dataclass(frozen=True)
class Analysed:
    """One canary after ``canary analyse``: how it was judged, what happened, and the merge's
    outcome when it was promoted."""

    slug: str
    judged: Status
    next: Next
    canary: Canary
    outcome: AgentOutcome | None = None


def check_traffic(ctx: ApplyContext, planned: AgentPlan) -> None:
    """Before staging: a running canary on the agent, or (without a canary) a split not made
    by convai-ops, raises ``TrafficSplitError`` unless ``--ignore-traffic-split``; with a
    canary such a split is reported and kept. Calls ``GET .../branches``."""
    agent_id, slug, main_id = str(planned.agent_id), planned.slug, str(planned.main_branch_id)
    branches = ctx.client.list_branches(agent_id)
    found = find_canaries(ctx.client, agent_id, main_id, branches)
    running = [c for c in found if not c.rolled_back or c.share > 0]
    if running:
        raise TrafficSplitError(
            f"{slug}: a canary is running on branch {running[0].name}: finish it first "
            f"(`convai-ops canary promote {slug}` or `convai-ops canary abort {slug}`)"
        )
    foreign = foreign_split(branches, main_id)
    if not foreign or ctx.options.ignore_traffic_split:
        return
    split = ", ".join(f"{name} {share:g}%" for name, share in foreign.items())
    if ctx.options.canary is not None:
        ctx.report(slug, f"note: live traffic split not made by convai-ops kept ({split})")
        return
    raise TrafficSplitError(
        f"{slug}: main holds {100 - sum(foreign.values()):g}% of live traffic; a split not "
        f"made by convai-ops gives {split}, so a merge would reach only main's share of "
        "callers. Not applied: remove the split, or pass --ignore-traffic-split"
    )


def with_canary_description(ctx: ApplyContext, planned: AgentPlan) -> ApplyContext:
    """With a canary, the context whose branch description carries the canary's plan (main's
    version from the plan, the commit from the apply's description); else ``ctx``."""
    config = ctx.options.canary
    if config is None:
        return ctx
    commit = ctx.options.description.removeprefix("convai-ops apply").removeprefix(" from ")
    plan = CanaryPlan(config, planned.base_version_id, commit or None)
    return replace(ctx, options=replace(ctx.options, description=describe(plan)))


def explain(decision: Decision) -> str:
    """A rollback's reason with each failing metric's failed conversation ids."""
    lines = [decision.reason]
    for metric in decision.failed:
        ids = metric.branch.failed_ids
        if ids:
            more = f" (+{len(ids) - SHOWN_IDS} more)" if len(ids) > SHOWN_IDS else ""
            lines.append(f"{metric.name} failed in: {', '.join(ids[:SHOWN_IDS])}{more}")
    return "; ".join(lines)


def progress(judged: Status) -> str:
    """``canary step 1/2 20%: call_successful 12/12 vs 50/50 ... 290s left``."""
    canary = judged.canary
    step = "" if canary.step is None else f" step {canary.step + 1}/{len(canary.plan.config.steps)}"
    counts = ", ".join(
        f"{m.name} {m.branch.successes}/{m.branch.total} vs {m.main.successes}/{m.main.total}"
        for m in judged.decision.metrics
    )
    left = "" if judged.time_left_s is None else f", {judged.time_left_s:.0f}s left"
    return f"canary{step} {canary.share:g}%: {counts or judged.decision.reason}{left}"


def _rolled_back(
    ctx: ApplyContext, slug: str, canary: Canary, judged: Status, report: TestReport | None = None
) -> AgentOutcome:
    from convai_ops.apply import AgentOutcome

    message = (
        f"canary rolled back: {explain(judged.decision)}; NOT merged, main unchanged; "
        f"branch {canary.name} ({canary.branch_id}) kept at 0%"
    )
    ctx.report(slug, message)
    return AgentOutcome(
        slug, "rolled_back", canary.agent_id, canary.branch_id, report=report, message=message
    )


def run_canary(ctx: ApplyContext, planned: AgentPlan, staged: Staged) -> AgentOutcome:
    """Deploy the tested branch's step 1 and analyse until decided (see the module
    docstring); the ``merged`` or ``rolled_back`` outcome. Raises ``ConvaiOpsError`` when the
    branch is not a canary's, and what the merge raises (see :func:`merge_released`)."""
    client, slug = ctx.client, planned.slug
    canary = read_canary(client, staged.agent_id, staged.branch_id)
    if canary is None:
        raise ConvaiOpsError(f"{slug}: branch {staged.branch_id} is not a canary branch")
    canary = start(client, canary)
    ctx.report(slug, f"canary step 1: {canary.share:g}% of live traffic on {canary.name}")
    interval = canary.plan.config.analysis_interval_s
    while True:
        time.sleep(interval)
        judged = status(client, canary)
        ctx.report(slug, progress(judged))
        happened, canary = advance(client, judged)
        if happened == "rolled_back":
            return _rolled_back(ctx, slug, canary, judged, staged.report)
        if happened == "merge":
            ctx.report(slug, "canary holds on every metric: merging, main back to 100%")
            return merge_released(ctx, canary, planned, staged)


def merge_released(
    ctx: ApplyContext, canary: Canary, planned: AgentPlan, staged: Staged, tested: str | None = None
) -> AgentOutcome:
    """Main takes its share back, then the gated apply's merge
    (:func:`convai_ops.apply.merge_tested`). When the merge raises ``MainMovedError`` (main
    moved since the branch was made) the canary is rolled back first, so it no longer counts
    as running, and the error is raised."""
    from convai_ops.apply import merge_tested

    restore_main(ctx.client, canary)
    try:
        return merge_tested(ctx, planned, staged, tested)
    except MainMovedError:
        roll_back(ctx.client, canary)
        raise


def running_canaries(ctx: ApplyContext, slugs: dict[str, str]) -> list[tuple[str, Canary]]:
    """``(slug, canary)`` for each canary branch of the agents ``slugs`` (slug -> agent id)
    not rolled back, or rolled back with traffic left (a process killed between the rename
    and the deployment). Calls ``GET /v1/convai/agents/{id}`` and ``GET .../branches``."""
    return [
        (slug, canary)
        for slug, agent_id in slugs.items()
        for canary in find_canaries(ctx.client, agent_id)
        if not canary.rolled_back or canary.share > 0
    ]


def _merge(ctx: ApplyContext, slug: str, canary: Canary) -> AgentOutcome:
    """The merge of a canary's branch by a later run (:mod:`convai_ops.canary.resume`)."""
    from convai_ops.canary.resume import rebuild

    planned, staged = rebuild(ctx, slug, canary)
    return merge_released(ctx, canary, planned, staged, "tests passed before its canary")


def analyse(ctx: ApplyContext, slug: str, canary: Canary) -> Analysed:
    """Take the canary's next decision (see :func:`convai_ops.canary.engine.advance`); a promotion
    after the last step merges."""
    judged = status(ctx.client, canary)
    happened, canary = advance(ctx.client, judged)
    outcome = None
    if happened == "rolled_back":
        outcome = _rolled_back(ctx, slug, canary, judged)
    elif happened == "merge":
        outcome = _merge(ctx, slug, canary)
    return Analysed(slug, judged, happened, canary, outcome)


def promote(ctx: ApplyContext, slug: str, canary: Canary) -> AgentOutcome:
    """Decide by hand: merge the canary's branch now, whatever its metrics say."""
    ctx.report(slug, f"promoting canary {canary.name} by hand")
    return _merge(ctx, slug, canary)


def abort(ctx: ApplyContext, slug: str, canary: Canary) -> Canary:
    """Decide by hand: roll back (branch to 0%, kept, not merged)."""
    rolled = roll_back(ctx.client, canary)
    ctx.report(slug, f"canary aborted: branch {rolled.name} kept at 0%, not merged")
    return rolled
