"""Promotion: apply to one environment (``production``) what another (``staging``) runs, only
when the agents' tests pass on the source environment's main.

1. Plan against the source environment: it must be empty, i.e. the source's live main equals
   the repository; otherwise ``OutOfSyncError`` (apply to the source first). Then plan against
   the target environment (read only: ``GET /v1/convai/agents/{id}`` and the list calls of
   ``state.read_snapshot``, on each environment's base URL with its own API key).
2. For each agent the target plan would change: its tests run on the source's main
   (``POST /v1/convai/agents/{id}/run-tests`` without ``branch_id``, polling
   ``GET /v1/convai/test-invocations/{id}``). Any failure: the promotion stops there and the
   target is never written to (exit 3).
3. The repository is applied to the target through the normal gate (``apply.apply_plan``:
   branch, tests on the branch, merge only when they pass; with a ``canary:`` block for the
   target environment, a canary on its live traffic before each merge, docs/canary.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from convai_ops.apply import GATES_PER_SLOT, ApplyOptions, ApplyResult, Reporter, apply_plan
from convai_ops.errors import EXIT_OK, EXIT_TESTS_FAILED, OutOfSyncError, UsageError
from convai_ops.knowledge import wait_for_rag_indexes
from convai_ops.plan import build_plan
from convai_ops.state import map_bounded
from convai_ops.testing import PollPolicy, TestReport, run_agent_tests, sync_tests
from convai_ops.workspace_tools import resolve_tools

if TYPE_CHECKING:
    from convai_ops.api import ConvaiClient
    from convai_ops.plan import AgentPlan, Plan
    from convai_ops.settings import Settings
    from convai_ops.spec import Project
    from convai_ops.state import RemoteIndex

__all__ = [
    "Environment",
    "GateResult",
    "PromoteResult",
    "Promotion",
    "prepare_promotion",
    "run_promotion",
]


@dataclass(frozen=True)
class Environment:
    """One side of a promotion: its resolved ``settings`` and a ``client`` for its API."""

    settings: Settings
    client: ConvaiClient

    @property
    def name(self) -> str:
        """The environment's name in ``convai-ops.yaml``."""
        return self.settings.environment


@dataclass(frozen=True)
class Promotion:
    """What ``prepare_promotion`` read: both environments, the (empty) source plan and the
    target plan with the list-call index of each."""

    project: Project
    source: Environment
    target: Environment
    source_plan: Plan
    source_index: RemoteIndex
    target_plan: Plan
    target_index: RemoteIndex


@dataclass(frozen=True)
class GateResult:
    """The tests of one agent on the source environment's main (``report.branch_id`` None)."""

    slug: str
    report: TestReport


@dataclass(frozen=True)
class PromoteResult:
    """The gate's results and the apply to the target (``None`` when the gate blocked or the
    target already matched the repository)."""

    source: str
    target: str
    gate: tuple[GateResult, ...]
    applied: ApplyResult | None

    @property
    def blocked(self) -> bool:
        """True when a test failed on the source: the target was not touched."""
        return not all(g.report.ok for g in self.gate)

    @property
    def exit_code(self) -> int:
        """3 when the gate blocked, else the apply's exit code (0 with nothing to apply)."""
        if self.blocked:
            return EXIT_TESTS_FAILED
        return self.applied.exit_code if self.applied else EXIT_OK


def prepare_promotion(project: Project, source: Environment, target: Environment) -> Promotion:
    """Step 1 of the module docstring. Raises ``UsageError`` when both sides are the same
    environment and ``OutOfSyncError`` when the source does not match the repository."""
    if source.name == target.name:
        raise UsageError(f"--from and --to are both {source.name!r}: name two environments")
    source_plan, source_snapshot = build_plan(source.client, project, source.settings)
    _require_in_sync(source_plan)
    target_plan, target_snapshot = build_plan(target.client, project, target.settings)
    return Promotion(
        project,
        source,
        target,
        source_plan,
        source_snapshot.index,
        target_plan,
        target_snapshot.index,
    )


def _require_in_sync(plan: Plan) -> None:
    behind = [a.slug for a in plan.agents if a.action != "no-op"]
    if behind:
        raise OutOfSyncError(
            f"{plan.environment} is not in sync with the repository ({', '.join(behind)}): "
            f"apply to {plan.environment} first"
        )


def run_promotion(promotion: Promotion, report: Reporter | None = None) -> PromoteResult:
    """Steps 2 and 3 of the module docstring; the target is written to only when every test
    passed on the source. Raises ``TestRunError`` or an ``ApiError`` from the source's tests
    (the target untouched); an agent's failure on the target becomes its ``AgentOutcome``."""
    say = report or (lambda slug, message: None)
    moving = [a for a in promotion.target_plan.agents if a.action != "no-op"]
    gate = tuple(_gate(promotion, moving, say))
    source, target = promotion.source.name, promotion.target.name
    if not moving or not all(g.report.ok for g in gate):
        return PromoteResult(source, target, gate, None)
    settings = promotion.target.settings
    block = promotion.project.config.environments.get(target)
    options = ApplyOptions(
        target,
        settings.concurrency,
        _policy(settings),
        f"convai-ops promote from {source}",
        canary=block.canary.config() if block is not None and block.canary else None,
    )
    applied = apply_plan(
        promotion.target.client,
        promotion.project,
        promotion.target_plan,
        promotion.target_index,
        options,
        say,
    )
    return PromoteResult(source, target, gate, applied)


def _gate(promotion: Promotion, moving: Sequence[AgentPlan], say: Reporter) -> list[GateResult]:
    source = promotion.source
    ids = {a.slug: a.agent_id for a in promotion.source_plan.agents}

    def test_on_source(planned: AgentPlan) -> GateResult:
        spec = promotion.project.agent(planned.slug)
        agent_id = str(ids[planned.slug])
        progress = _progress(say, spec.slug, source.name)
        index = promotion.source_index
        tools = resolve_tools(
            source.client, spec, promotion.project.tools, index.tools, (), progress
        )
        tests = sync_tests(source.client, spec.slug, spec.tests, index, tools)
        if not tests:
            progress("no tests declared: nothing to run")
            return GateResult(spec.slug, TestReport(agent_id, None, (), ()))
        policy = _policy(source.settings)
        if spec.knowledge:  # the source's main may still be indexing a document
            wait_for_rag_indexes(source.client, agent_id, None, policy, progress)
        tested = run_agent_tests(
            source.client, agent_id, tests, branch_id=None, policy=policy, progress=progress
        )
        return GateResult(spec.slug, tested)

    return map_bounded(test_on_source, list(moving), GATES_PER_SLOT * source.settings.concurrency)


def _progress(say: Reporter, slug: str, environment: str) -> Callable[[str], None]:
    return lambda message: say(slug, f"{environment} main: {message}")


def _policy(settings: Settings) -> PollPolicy:
    return PollPolicy(settings.poll_initial, settings.poll_max, settings.test_timeout)
