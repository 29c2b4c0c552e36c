"""The gated apply: branch, test, merge — main never receives untested config.

Per agent with changes (agents run in parallel: up to ``GATES_PER_SLOT x concurrency`` gates
at once, while the client keeps at most ``concurrency`` requests in flight, since a gate waiting
for its test run sends nothing):

1-5. :mod:`convai_ops.stage`: the agent (a new one as an empty shell), main read, tools,
   documents and tests synced, the change put on a new branch (only what a version holds),
   RAG indexes waited for, the tests run there.
6. All passed and main still at the same version -> merge
   (``POST .../branches/{branch}/merge?target_branch_id={main}``), then what no version holds
   (name, tags, agent-wide platform settings, attached tests) is written on main with one
   ``PATCH /v1/convai/agents/{id}``, then main is read back and must re-plan empty. Otherwise
   nothing is merged, those fields are not written, and the branch is kept for inspection.
   An agent with no tests is never merged (its gate would pass vacuously; status ``no_tests``,
   exit 3 like failed tests) unless its ``require_tests`` is false (agent.yaml, else
   convai-ops.yaml): then it is merged and reported ``UNTESTED``.

An agent whose plan changes only such fields (``AgentPlan.direct``) skips steps 4-6: the PATCH
on main is sent directly (no branch, no merge), then verified; status ``written``. Only when its
attached tests change do they run first, on main (``run-tests`` without ``branch_id``), and
nothing is written unless they pass.

Break-glass (``ApplyOptions.break_glass``, ``--skip-tests --reason``): no test runs (step 5
reports none), the merge goes ahead, the branch description carries the record that plan and
drift read back, the metadata PATCH on main adds the marker tag ``convai-ops-untested`` (a
tested merge removes it; :mod:`convai_ops.breakglass`), and the outcome says ``UNTESTED``. A
gate that refuses an agent without tests must let such a run through.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from convai_ops.agent_branches import archive_matching
from convai_ops.errors import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_TESTS_FAILED,
    ConvaiOpsError,
    MainMovedError,
    VerifyError,
)
from convai_ops.merge import merge_into_main
from convai_ops.plan import AgentPlan, Plan, make_agent_plan
from convai_ops.stage import (
    BRANCH_PREFIX,
    ApplyContext,
    ApplyOptions,
    Reporter,
    Staged,
    apply_branch_name,
    read_main,
    run_tests_on,
    stage_agent,
    sync_agent_tools,
)
from convai_ops.state import UNTESTED_TAG, RemoteAgent, RemoteIndex, map_bounded
from convai_ops.testing import SyncedTest, TestReport, sync_tests
from convai_ops.unversioned import needs_tests, unversioned_body

if TYPE_CHECKING:
    from convai_ops.api import ConvaiClient
    from convai_ops.spec import AgentSpec, Project

__all__ = [
    "GATES_PER_SLOT",
    "UNTESTED_MERGE",
    "AgentOutcome",
    "ApplyContext",
    "ApplyOptions",
    "ApplyResult",
    "Reporter",
    "Staged",
    "apply_branch_name",
    "apply_plan",
    "merge_tested",
    "stage_agent",
]

# apply's own branches: convai-ops-<milliseconds>-<8 hex>; older ones lack the random part
_APPLY_BRANCH = re.compile(rf"{BRANCH_PREFIX}\d{{10,}}(-[0-9a-f]{{8}})?")
Status = Literal[
    "merged", "written", "unchanged", "tests_failed", "no_tests", "rolled_back", "error"
]


@dataclass(frozen=True)
class AgentOutcome:
    """What happened to one agent; ``branch_id`` is kept (not merged) on failure."""

    slug: str
    status: Status
    agent_id: str | None = None
    branch_id: str | None = None
    created: bool = False
    report: TestReport | None = None
    message: str = ""


#: Gates run at once per request slot: a gate spends most of its time waiting for its test run
#: between polls, holding no request slot (the client's limiter bounds requests in flight).
GATES_PER_SLOT = 4


@dataclass(frozen=True)
class ApplyResult:
    """All outcomes; ``exit_code`` is 0 (all good), 3 (tests failed, or an agent without tests
    not merged) or 1 (an error)."""

    outcomes: tuple[AgentOutcome, ...]

    @property
    def exit_code(self) -> int:
        """1 if any agent errored, else 3 if any agent's tests failed, it has none (not
        merged) or its canary rolled back, else 0."""
        statuses = {o.status for o in self.outcomes}
        if "error" in statuses:
            return EXIT_ERROR
        blocked = {"tests_failed", "no_tests", "rolled_back"}
        return EXIT_TESTS_FAILED if statuses & blocked else EXIT_OK


def apply_plan(
    client: ConvaiClient,
    project: Project,
    plan: Plan,
    index: RemoteIndex,
    options: ApplyOptions,
    report: Reporter | None = None,
) -> ApplyResult:
    """Apply every changed agent of ``plan`` through the gate; see the module docstring.

    Never raises for a single agent's failure: each agent's error becomes an ``AgentOutcome``
    with status ``error`` and its message.
    """
    ctx = ApplyContext(client, project, index, options, report or (lambda slug, msg: None))
    changed = [a for a in plan.agents if a.action != "no-op"]
    gates = GATES_PER_SLOT * options.concurrency
    outcomes = map_bounded(lambda a: _guarded(ctx, a), changed, gates)
    unchanged = [
        AgentOutcome(a.slug, "unchanged", a.agent_id) for a in plan.agents if a.action == "no-op"
    ]
    if options.cleanup:
        _archive_kept_branches(ctx, [o for o in outcomes + unchanged if o.agent_id])
    return ApplyResult(tuple(outcomes + unchanged))


def _guarded(ctx: ApplyContext, planned: AgentPlan) -> AgentOutcome:
    try:
        return _apply_agent(ctx, planned)
    except ConvaiOpsError as exc:
        message = str(exc).removeprefix(f"{planned.slug}: ")  # the outcome names the agent
        ctx.report(planned.slug, f"error: {message}")
        return AgentOutcome(planned.slug, "error", planned.agent_id, message=message)


def _apply_agent(ctx: ApplyContext, planned: AgentPlan) -> AgentOutcome:
    try:
        return _stage_and_merge(ctx, planned)
    except MainMovedError as exc:
        if not ctx.options.rebase or planned.agent_id is None:
            raise
        ctx.report(planned.slug, f"{exc}; --rebase: planning again on the new main")
        return _stage_and_merge(ctx, _replan(ctx, planned.slug, planned.agent_id))


def _replan(ctx: ApplyContext, slug: str, agent_id: str) -> AgentPlan:
    spec = ctx.project.agent(slug)
    main = RemoteAgent(agent_id, ctx.client.get_agent(agent_id))
    ignore = tuple(ctx.project.config.ignore)
    return make_agent_plan(spec, main, ctx.index, ctx.options.environment, ignore)


def _stage_and_merge(ctx: ApplyContext, planned: AgentPlan) -> AgentOutcome:
    if planned.direct:
        return _write_directly(ctx, planned)
    ctx = _traffic_checked(ctx, planned)
    staged = stage_agent(ctx, planned)
    slug, report, branch_id = planned.slug, staged.report, staged.branch_id
    if not report.ok:
        names = ", ".join(v.name for v in report.failed)
        ctx.report(slug, f"tests failed ({names}): not merged; branch {branch_id} kept")
        return AgentOutcome(
            slug, "tests_failed", staged.agent_id, branch_id, staged.created, report
        )
    spec = ctx.project.agent(slug)
    if not spec.tests and spec.require_tests and ctx.options.break_glass is None:
        return _not_merged_untested(ctx, slug, staged)  # --skip-tests merges it anyway
    if ctx.options.canary is not None and not staged.created:
        from convai_ops.canary.run import run_canary

        return run_canary(ctx, planned, staged)
    return merge_tested(ctx, planned, staged)


def merge_tested(
    ctx: ApplyContext, planned: AgentPlan, staged: Staged, tested: str | None = None
) -> AgentOutcome:
    """Step 6 for a branch whose tests passed: merge (:func:`merge_into_main`), write what no
    version holds on main, verify main re-plans empty; the ``merged`` outcome. ``tested``
    replaces the "N test(s) passed" note (a canary merged by a later run)."""
    slug, report, branch_id = planned.slug, staged.report, staged.branch_id
    spec = ctx.project.agent(slug)
    merged = merge_into_main(ctx, spec, staged)
    merged = _patch_metadata(ctx, spec, merged, planned, staged.tests, merged=True)
    _verify(ctx, spec, merged, staged.tests)
    if tested is None:
        tested = _tested(ctx, report)
    ctx.report(slug, f"merged into main ({tested})")
    message = UNTESTED_MERGE if ctx.options.break_glass else ""
    return AgentOutcome(slug, "merged", staged.agent_id, branch_id, staged.created, report, message)


#: The outcome of a merge under ``--skip-tests``.
UNTESTED_MERGE = "UNTESTED: merged with --skip-tests, no test ran"


def _tested(ctx: ApplyContext, report: TestReport) -> str:
    if ctx.options.break_glass is not None:
        return UNTESTED_MERGE
    return f"{len(report.verdicts)} test(s) passed" if report.verdicts else "UNTESTED: no tests"


def _not_merged_untested(ctx: ApplyContext, slug: str, staged: Staged) -> AgentOutcome:
    """The outcome of a staged agent that has no tests and requires them: nothing merged."""
    message = (
        f"no tests: NOT merged, main unchanged; branch {staged.branch_id} kept. Add tests "
        f"under agents/{slug}/tests/, or set require_tests: false (agent.yaml or "
        "convai-ops.yaml) to merge it UNTESTED"
    )
    ctx.report(slug, message)
    return AgentOutcome(
        slug, "no_tests", staged.agent_id, staged.branch_id, staged.created, message=message
    )


def _traffic_checked(ctx: ApplyContext, planned: AgentPlan) -> ApplyContext:
    """Refuse (``TrafficSplitError``) to merge into an agent whose main shares live traffic
    with a split not made by convai-ops, unless ``--ignore-traffic-split``; with a canary, the
    context whose branch description carries the canary's plan."""
    if planned.agent_id is None:
        return ctx
    from convai_ops.canary.run import check_traffic, with_canary_description

    if planned.main_branch_id is not None:
        check_traffic(ctx, planned)
    return with_canary_description(ctx, planned)


def _write_directly(ctx: ApplyContext, planned: AgentPlan) -> AgentOutcome:
    """A plan of ungated changes only (``AgentPlan.direct``): no branch, no merge. When the
    attached tests change they run on main first (nothing versioned changes, so main is what
    they would test) and nothing is written unless they pass; then one PATCH on main, verified.
    """
    spec, agent_id = ctx.project.agent(planned.slug), str(planned.agent_id)
    main = read_main(ctx, spec, agent_id, planned.base_version_id)
    tests = []
    if needs_tests(planned):
        tool_ids = sync_agent_tools(ctx, spec, main)
        tests = sync_tests(ctx.client, spec.slug, spec.tests, ctx.index, tool_ids)
    report = run_tests_on(ctx, spec.slug, agent_id, tests, None) if tests else None
    if report is not None and not report.ok:
        names = ", ".join(v.name for v in report.failed)
        ctx.report(spec.slug, f"tests failed on main ({names}): nothing written")
        return AgentOutcome(spec.slug, "tests_failed", agent_id, report=report)
    _verify(ctx, spec, _patch_metadata(ctx, spec, main, planned, tests, merged=False), tests)
    message = (
        f"{len(report.verdicts)} test(s) passed on main; written directly (no branch)"
        if report and report.verdicts
        else "metadata only: written directly on main (no branch, no tests)"
    )
    if ctx.options.break_glass is not None and needs_tests(planned):
        message = "UNTESTED (--skip-tests): written directly on main (no branch, no test ran)"
    ctx.report(spec.slug, message)
    return AgentOutcome(spec.slug, "written", agent_id, report=report, message=message)


def _patch_metadata(
    ctx: ApplyContext,
    spec: AgentSpec,
    main: RemoteAgent,
    planned: AgentPlan,
    tests: Sequence[SyncedTest],
    *,
    merged: bool,
) -> RemoteAgent:
    """What no version holds (name, tags, agent-wide platform settings, attached ``tests``;
    ``unversioned.unversioned_body``) is written on main with one ``PATCH
    /v1/convai/agents/{id}`` without ``branch_id``, its ``version_description`` naming the
    commit as the branch's does (``drift`` reads it back: ``applied_commit``); returns main
    as the PATCH answered it (unchanged when there is nothing to write).

    After a merge (``merged``) the same PATCH adds the break-glass marker tag (under
    ``--skip-tests``) or removes it (tested), so it is sent whenever the marker must change;
    a direct write leaves the marker as main has it (:mod:`convai_ops.breakglass`)."""
    untested = (ctx.options.break_glass is not None) if merged else None
    live_tags = [str(t) for t in main.config.get("tags") or ()]
    body = unversioned_body(
        spec, ctx.options.environment, planned, tests, live_tags=live_tags, untested=untested
    )
    if not body:
        return main
    recorded = {**body, "version_description": ctx.options.description}  # names the commit
    written = RemoteAgent(main.agent_id, ctx.client.update_agent(main.agent_id, recorded))
    _report_written(ctx, spec.slug, body, planned, live_tags)
    return written


def _report_written(
    ctx: ApplyContext, slug: str, body: dict[str, Any], planned: AgentPlan, live: list[str]
) -> None:
    """Say what the metadata PATCH wrote: the planned fields, and the marker tag's change."""
    planned_fields = {c.path[0] for c in planned.ungated}
    fields = sorted(
        f"{key}.{sub}" if isinstance(value, dict) else key
        for key, value in body.items()
        if key != "tags" or "tags" in planned_fields
        for sub in (value if isinstance(value, dict) else [key])
    )
    if fields:
        ctx.report(slug, f"wrote on main, not gated by tests: {', '.join(fields)}")
    marked = UNTESTED_TAG in body.get("tags", live)
    if marked != (UNTESTED_TAG in live):
        done = "tagged" if marked else "removed the tag"
        ctx.report(slug, f"{done} {UNTESTED_TAG} on main (plan and drift read it)")


def _verify(
    ctx: ApplyContext, spec: AgentSpec, main: RemoteAgent, tests: Sequence[SyncedTest]
) -> None:
    """Main (as read back) must re-plan empty, else ``VerifyError`` naming the fields."""
    index = replace(
        ctx.index,
        test_names={**ctx.index.test_names, **{t.test_id: t.remote_name for t in tests}},
    )
    replan = make_agent_plan(
        spec, main, index, ctx.options.environment, tuple(ctx.project.config.ignore)
    )
    if replan.changes:
        fields = ", ".join(c.dotted for c in replan.changes)
        raise VerifyError(f"{spec.slug}: after the merge main does not hold: {fields}")


def _archive_kept_branches(ctx: ApplyContext, outcomes: Sequence[AgentOutcome]) -> None:
    """``--cleanup``: archive every unarchived branch of these agents that apply named
    (``convai-ops-<time>-<hex>``: branches of failed applies). Branches of ``check`` (for a pull
    request, ``convai-ops-pr-<n>``, or named with ``--branch-name``) are left."""
    for outcome in outcomes:
        archive_matching(
            ctx.client,
            str(outcome.agent_id),
            lambda name: _APPLY_BRANCH.fullmatch(name) is not None,
            functools.partial(ctx.report, outcome.slug),
        )
