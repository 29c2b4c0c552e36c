"""The pull-request check: each changed agent's change staged on a branch named after the pull
request, its tests run there, nothing ever merged.

Per agent with changes in the plan (agents in parallel, as in ``apply``: up to
``GATES_PER_SLOT x concurrency`` at once, ``concurrency`` requests in flight):

1. ``apply.stage_agent`` with ``branch_name``: the agent's branches are listed
   (``GET /v1/convai/agents/{id}/branches``) and a name that is main's is refused before
   anything is written; new knowledge documents and content-addressed tests are created, then
   the branch of that name is reused (unarchived first if it was archived:
   ``PATCH /v1/convai/agents/{id}/branches/{branch_id}``, then
   ``PATCH /v1/convai/agents/{id}?branch_id=``) or created
   (``POST /v1/convai/agents/{id}/branches``), and the agent's tests run on it
   (``POST /v1/convai/agents/{id}/run-tests``, polling ``GET /v1/convai/test-invocations/{id}``).
   A new agent is first created as an empty shell, as ``apply`` does.
2. Nothing is merged: the branch stays for inspection and for the next push to update.

The CLI then adds what the merge changes in every environment of ``convai-ops.yaml``
(``CheckResult.environments``, :mod:`convai_ops.env_plans`): live where the run holds that
environment's key, else offline between the base and head commits.

When the pull request closes, :func:`close_check` (``check --close``) archives its branch on
every agent that has one.

An agent whose plan is empty (for example only a YAML comment changed) is reported as having
no changes to test; no API call is made for it. What no version holds (name, tags, agent-wide
platform settings, attached tests) is never written by a check: the branch carries only the
versioned config, the tests are named in the run-tests call, and the report says those fields
are written at apply. An agent whose plan changes only name, tags or agent-wide settings
(``AgentPlan.metadata_only``) is not staged at all: status ``metadata_only``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from convai_ops import agent_branches
from convai_ops.apply import (
    GATES_PER_SLOT,
    ApplyContext,
    ApplyOptions,
    Reporter,
    Staged,
    stage_agent,
)
from convai_ops.errors import EXIT_ERROR, EXIT_OK, EXIT_TESTS_FAILED, ConvaiOpsError, UsageError
from convai_ops.git import changed_agents, commit_info, current_branch
from convai_ops.state import find_agent_ids, map_bounded
from convai_ops.testing import PollPolicy, TestReport

if TYPE_CHECKING:
    from convai_ops.api import ConvaiClient
    from convai_ops.env_plans import EnvironmentPlan
    from convai_ops.plan import AgentPlan, Plan
    from convai_ops.settings import Settings
    from convai_ops.spec import Project
    from convai_ops.state import RemoteIndex

__all__ = [
    "BRANCH_PREFIX",
    "AgentCheck",
    "BranchName",
    "CheckResult",
    "CheckStatus",
    "ClosedBranch",
    "check_branch",
    "close_check",
    "run_check",
    "sanitise_branch_name",
    "select_changed",
]

BRANCH_PREFIX = "convai-ops-"
_PULL_REF = re.compile(r"refs/pull/(\d+)/(?:merge|head)")
# apply's wording for an agent without tests speaks of merging, which a check never does.

CheckStatus = Literal[
    "passed", "tests_failed", "no_tests", "untested", "no_changes", "metadata_only", "error"
]


@dataclass(frozen=True)
class BranchName:
    """The agent branch a check stages on, and ``source``: how the name was chosen."""

    name: str
    source: str


@dataclass(frozen=True)
class AgentCheck:
    """The check of one agent; ``branch_id`` is the (never merged) branch the tests ran on."""

    slug: str
    status: CheckStatus
    agent_id: str | None = None
    branch_id: str | None = None
    report: TestReport | None = None
    message: str = ""


@dataclass(frozen=True)
class CheckResult:
    """Everything one check did: the ``plan`` of the selected agents, the branch, one
    ``AgentCheck`` per planned agent, the ``since`` ref and the checked commit (if any), and
    ``environments``: what the merge changes in each environment (``env_plans``)."""

    plan: Plan
    branch: BranchName
    checks: tuple[AgentCheck, ...]
    since: str | None = None
    commit: str | None = None
    environments: tuple[EnvironmentPlan, ...] = ()

    def count(self, status: CheckStatus) -> int:
        """How many agents ended with ``status``."""
        return sum(1 for c in self.checks if c.status == status)

    @property
    def exit_code(self) -> int:
        """1 if any agent errored or an environment's live plan failed, else 3 if any agent's
        tests failed or an agent without tests would not be merged (``require_tests``), else 0."""
        if self.count("error") or any(e.kind == "error" for e in self.environments):
            return EXIT_ERROR
        blocked = self.count("tests_failed") + self.count("untested")
        return EXIT_TESTS_FAILED if blocked else EXIT_OK


def sanitise_branch_name(raw: str) -> str:
    """``convai-ops-<raw>`` with every run of characters other than ASCII letters, digits,
    ``.`` and ``-`` turned into ``-`` (``feature/my_fix`` -> ``convai-ops-feature-my-fix``), at
    most 140 characters: always a name the API accepts. Raises ``UsageError`` when nothing
    usable is left."""
    return agent_branches.sanitise_branch_name(raw, BRANCH_PREFIX)


def check_branch(explicit: str | None, environ: Mapping[str, str], root: Path) -> BranchName:
    """The branch a check stages on: ``explicit`` (``--branch-name``) as given, refused offline
    (``UsageError``) when the API would refuse it; else from
    ``GITHUB_REF`` ``refs/pull/<n>/merge`` -> ``convai-ops-pr-<n>``; else ``GITHUB_HEAD_REF``;
    else the checked-out git branch (both sanitised). Raises ``UsageError`` when none applies."""
    if explicit is not None:
        return BranchName(_validated(explicit), "--branch-name")
    pull = _PULL_REF.fullmatch(environ.get("GITHUB_REF", ""))
    if pull:
        return BranchName(f"{BRANCH_PREFIX}pr-{pull[1]}", f"pull request #{pull[1]} (GITHUB_REF)")
    head = environ.get("GITHUB_HEAD_REF")
    if head:
        return BranchName(sanitise_branch_name(head), f"GITHUB_HEAD_REF {head!r}")
    local = current_branch(root)
    if local:
        return BranchName(sanitise_branch_name(local), f"git branch {local!r}")
    raise UsageError(
        "cannot name the agent branch: not in a pull request and no git branch is checked out; "
        "pass --branch-name"
    )


def _validated(name: str) -> str:
    return agent_branches.require_branch_name(name, "--branch-name")


def select_changed(project: Project, since: str) -> Project:
    """``project`` restricted to the agents whose files changed since git ref ``since`` (the
    working tree counts; a change to ``convai-ops.yaml`` selects every agent). Raises
    ``UsageError`` for an unknown ref or outside git."""
    touched = set(changed_agents(project.root, since))
    agents = tuple(a for a in project.agents if a.slug in touched)
    return project.model_copy(update={"agents": agents})


def run_check(
    client: ConvaiClient,
    project: Project,
    plan: Plan,
    index: RemoteIndex,
    settings: Settings,
    branch: BranchName,
    *,
    since: str | None = None,
    report: Reporter | None = None,
) -> CheckResult:
    """Stage and test every changed agent of ``plan`` on ``branch``; see the module docstring.

    Never merges and never raises for one agent's failure: it becomes an ``AgentCheck`` with
    status ``error``. ``index`` is the list-call index ``plan`` was made with.
    """
    policy = PollPolicy(settings.poll_initial, settings.poll_max, settings.test_timeout)
    options = ApplyOptions(
        settings.environment, settings.concurrency, policy, f"convai-ops check ({branch.source})"
    )
    ctx = ApplyContext(client, project, index, options, report or _silent)
    gates = GATES_PER_SLOT * settings.concurrency
    checks = map_bounded(lambda a: _check_agent(ctx, a, branch.name), list(plan.agents), gates)
    commit = commit_info(project.root)
    return CheckResult(plan, branch, tuple(checks), since, commit.describe() if commit else None)


@dataclass(frozen=True)
class ClosedBranch:
    """One agent's check branch when its pull request closed: ``archived``, or kept and why."""

    slug: str
    agent_id: str
    branch_id: str
    archived: bool
    message: str


def close_check(
    client: ConvaiClient,
    project: Project,
    settings: Settings,
    branch: BranchName,
    report: Reporter | None = None,
) -> tuple[ClosedBranch, ...]:
    """Archive the unarchived branch called ``branch.name`` on every agent of ``project`` that
    has one (``GET /v1/convai/agents/{id}/branches``, then ``PATCH
    /v1/convai/agents/{id}/branches/{branch_id}`` with ``is_archived``). A branch that serves
    live traffic (``current_live_percentage`` above 0, main among them) is kept and reported.
    An agent whose unarchived list came back full (the API lists at most 100, no cursor)
    without the branch is reported as kept: it may hold the branch beyond the list.
    Stages, tests and merges nothing; agents certainly without the branch are left out of the
    result. Raises the ``ConvaiOpsError`` of a failed call."""
    ids = find_agent_ids(client, project.agents, settings.environment)

    def close(slug: str) -> list[ClosedBranch]:
        listed = client.list_branches(ids[slug], limit=agent_branches.LIST_LIMIT)
        found = [b for b in listed if b["name"] == branch.name]
        if not found and len(listed) >= agent_branches.LIST_LIMIT:
            return [_unseen(slug, ids[slug], branch.name, report or _silent)]
        return [_close_one(client, slug, ids[slug], b, report or _silent) for b in found]

    closed = map_bounded(close, list(ids), settings.concurrency)
    return tuple(item for items in closed for item in items)


def _close_one(
    client: ConvaiClient, slug: str, agent_id: str, branch: Mapping[str, Any], report: Reporter
) -> ClosedBranch:
    name, branch_id = branch["name"], str(branch["id"])
    live = branch.get("current_live_percentage") or 0
    if live > 0:
        message = f"kept branch {name} ({branch_id}): it serves {live:g}% of live traffic"
    else:
        client.update_branch(agent_id, branch_id, is_archived=True)
        message = f"archived branch {name} ({branch_id})"
    report(slug, message)
    return ClosedBranch(slug, agent_id, branch_id, live <= 0, message)


def _unseen(slug: str, agent_id: str, name: str, report: Reporter) -> ClosedBranch:
    message = (
        f"could not tell whether agent {agent_id} has an unarchived branch {name}: the API "
        f"lists only {agent_branches.LIST_LIMIT} branches and its list is full; archive old "
        "branches of this agent in the dashboard, then re-run check --close"
    )
    report(slug, message)
    return ClosedBranch(slug, agent_id, "", False, message)


def _silent(slug: str, message: str) -> None:
    """A reporter that prints nothing."""


def _check_agent(ctx: ApplyContext, planned: AgentPlan, branch_name: str) -> AgentCheck:
    if planned.action == "no-op":
        message = "no changes to test"
        return AgentCheck(planned.slug, "no_changes", planned.agent_id, message=message)
    if planned.metadata_only:
        message = "metadata only (not gated by tests): nothing to test; apply writes it directly"
        ctx.report(planned.slug, message)
        return AgentCheck(planned.slug, "metadata_only", planned.agent_id, message=message)
    if planned.blocked_without_tests:  # apply would stage it and refuse the merge
        message = (
            "no tests: will not merge (add tests under "
            f"agents/{planned.slug}/tests/, or set require_tests: false)"
        )
        ctx.report(planned.slug, message)
        return AgentCheck(planned.slug, "untested", planned.agent_id, message=message)
    try:
        staged = stage_agent(ctx, planned, branch_name=branch_name)
    except ConvaiOpsError as exc:
        ctx.report(planned.slug, f"error: {exc}")
        return AgentCheck(planned.slug, "error", planned.agent_id, message=str(exc))
    checked = _outcome(ctx, planned.slug, staged)
    if not planned.ungated:
        return checked
    note = f"; {len(planned.ungated)} change(s) not gated by tests are written at apply"
    return replace(checked, message=checked.message + note)


def _outcome(ctx: ApplyContext, slug: str, staged: Staged) -> AgentCheck:
    report, branch_id = staged.report, staged.branch_id
    status: CheckStatus
    if not report.verdicts:
        status, message = "no_tests", f"no tests declared: nothing to run on branch {branch_id}"
    elif report.ok:
        status = "passed"
        message = f"{len(report.verdicts)} test(s) passed on branch {branch_id}; not merged"
    else:
        names = ", ".join(v.name for v in report.failed)
        status, message = "tests_failed", f"tests failed ({names}) on branch {branch_id}"
    ctx.report(slug, message)
    return AgentCheck(slug, status, staged.agent_id, branch_id, report, message)
