"""Rollback: make main hold an earlier version's config again, through the normal gate.

1. :func:`plan_rollback` reads main (``GET /v1/convai/agents/{id}``) and walks its versions back
   from the tip (``GET .../versions/{id}`` for the parents, ``GET /v1/convai/agents/{id}
   ?version_id=`` for each version's config; at most :data:`MAX_VERSIONS_WALKED`). A *change*
   is a version whose versioned config (``conversation_config``, ``workflow``, the versioned
   subset of ``platform_settings``: :mod:`convai_ops.versioning`) differs from its parent's:
   versions that changed nothing versioned (the metadata PATCH after a merge) are walked past.
   ``--steps N`` targets the version main held before its N latest changes; ``--to VERSION_ID``
   a given version. The result holds the field diff current main -> target and, per undone
   change, the git commit its merged branch's description records (``convai-ops apply from
   <sha> ...``), for the ``git revert`` that makes the repository agree.
2. :func:`run_rollback` puts the target's versioned config on a new branch from the current
   main (``POST .../branches``; the API deep-merges it onto main's), runs the repository's
   tests (HEAD) there, and merges into main only when all pass (:mod:`convai_ops.merge`: main
   must not have moved; the merge is proven by the version walk). Then main is read back and
   must hold the target's versioned config. A target lacking keys main holds outside lists
   and the workflow is refused before anything is written (a write deep-merges objects, so it
   cannot remove them). ``--skip-tests --reason`` (``ApplyOptions.
   break_glass``) skips the tests and records why, as apply does. After the merge, one
   ``PATCH /v1/convai/agents/{id}`` (tags only) adds the break-glass marker tag (under
   ``--skip-tests``) or removes it (tested), when main's tags do not already say so.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from convai_ops.agent_branches import create_named_branch
from convai_ops.apply import UNTESTED_MERGE, AgentOutcome
from convai_ops.breakglass import UNTESTED_TAG, marked_tags, parse_untested
from convai_ops.dicts import json_equal
from convai_ops.errors import NotFoundError, UsageError, VerifyError
from convai_ops.field_diff import is_item_segment
from convai_ops.knowledge import wait_for_rag_indexes
from convai_ops.merge import merge_into_main
from convai_ops.plan import FieldChange, diff_views, masked_changes
from convai_ops.stage import (
    ApplyContext,
    Staged,
    apply_branch_name,
    run_tests_on,
    sync_agent_tools,
)
from convai_ops.state import RemoteAgent
from convai_ops.testing import sync_tests
from convai_ops.versioning import split_platform_settings

if TYPE_CHECKING:
    from convai_ops.api import ConvaiClient
    from convai_ops.spec import AgentSpec

__all__ = [
    "MAX_VERSIONS_WALKED",
    "RollbackPlan",
    "UndoneChange",
    "plan_rollback",
    "revert_advice",
    "run_rollback",
    "versioned_view",
]

#: How many of main's versions a rollback walks back at most.
MAX_VERSIONS_WALKED = 50
_COMMIT = re.compile(r"convai-ops apply from (?P<sha>[0-9a-f]{7,40})\b")


@dataclass(frozen=True)
class UndoneChange:
    """One change of main a rollback undoes: its ``version_id``, the git ``commit`` its
    merged branch recorded (``None`` when unknown: written directly on main, merged from a
    branch convai-ops did not make, or a rollback), and whether it was merged ``untested``."""

    version_id: str
    commit: str | None
    untested: bool = False


@dataclass(frozen=True)
class RollbackPlan:
    """What a rollback of ``slug`` does: main (as read) -> ``target_version_id``, whose
    versioned config is ``target``; ``changes`` is the field diff (values masked as in a plan);
    ``undone`` the changes undone, newest first."""

    slug: str
    main: RemoteAgent
    target_version_id: str
    target: Mapping[str, Any]
    changes: tuple[FieldChange, ...]
    undone: tuple[UndoneChange, ...]


def versioned_view(config: Mapping[str, Any]) -> dict[str, Any]:
    """What a version holds of a GET agent body: ``conversation_config``, ``workflow`` (when
    set) and the versioned subset of ``platform_settings``."""
    view: dict[str, Any] = {"conversation_config": config.get("conversation_config") or {}}
    if config.get("workflow") is not None:
        view["workflow"] = config["workflow"]
    versioned, _ = split_platform_settings(config.get("platform_settings"))
    view["platform_settings"] = versioned
    return view


def plan_rollback(
    client: ConvaiClient, slug: str, agent_id: str, *, to: str | None = None, steps: int = 1
) -> RollbackPlan:
    """The rollback of agent ``agent_id`` (``slug``) to version ``to``, else to the version
    main held before its ``steps`` latest changes (module docstring, step 1).

    Raises ``UsageError`` when main has fewer changes than ``steps`` within the walk, when
    ``to`` is not a version of the agent, or when main has versioning off."""
    main = RemoteAgent(agent_id, client.get_agent(agent_id))
    if main.version_id is None:
        raise UsageError(f"{slug}: agent {agent_id} has versioning off: nothing to roll back to")
    walk = _Walk(client, slug, main)
    target_id, undone = walk.to_version(to) if to else walk.back(steps)
    target = versioned_view(client.get_agent(agent_id, version_id=target_id))
    changes = diff_views(versioned_view(main.config), target)
    _check_writable(slug, target_id, target, changes)
    return RollbackPlan(slug, main, target_id, target, masked_changes(changes), undone)


def _check_writable(
    slug: str, target_id: str, target: Mapping[str, Any], changes: list[FieldChange]
) -> None:
    """A branch write deep-merges objects onto main (BEHAVIOUR.md "Reads and writes"): a key
    main holds that the target lacks cannot be removed, unless a list (written whole) or the
    workflow (replaced whole) holds it. Raises ``UsageError`` naming such fields."""
    stuck = [
        c.dotted
        for c in changes
        if c.kind == "remove"
        and not any(is_item_segment(key) for key in c.path)
        and not (c.path[0] == "workflow" and "workflow" in target)
    ]
    if stuck:
        raise UsageError(
            f"{slug}: cannot roll back to version {target_id}: it lacks fields main holds "
            f"({', '.join(stuck)}) and a branch write cannot remove them (objects are "
            "deep-merged); pick a later version with --to"
        )


class _Walk:
    """Main's versions from the tip back, each with its versioned config (read once)."""

    def __init__(self, client: ConvaiClient, slug: str, main: RemoteAgent) -> None:
        self.client, self.slug, self.main = client, slug, main

    def back(self, steps: int) -> tuple[str, tuple[UndoneChange, ...]]:
        """``(target version, undone changes)`` for ``--steps``."""
        undone: list[UndoneChange] = []
        for child, parent, changed in self._pairs():
            if changed:
                undone.append(self._undone(child))
            if len(undone) == steps:
                return parent, tuple(undone)
        raise UsageError(
            f"{self.slug}: main holds {len(undone)} change(s) within its last "
            f"{MAX_VERSIONS_WALKED} versions, fewer than --steps {steps}; "
            "pass --to VERSION_ID"
        )

    def to_version(self, target: str) -> tuple[str, tuple[UndoneChange, ...]]:
        """``(target, undone changes)`` for ``--to``; the target must be of this agent
        (``GET .../versions/{id}``); when it is not among main's last versions, the undone
        changes are unknown (empty)."""
        try:
            self.client.get_version(self.main.agent_id, target)
        except NotFoundError:
            raise UsageError(
                f"{self.slug}: agent {self.main.agent_id} has no version {target!r}"
            ) from None
        undone: list[UndoneChange] = []
        for child, parent, changed in self._pairs():
            if child == target:
                return target, tuple(undone)
            if changed:
                undone.append(self._undone(child))
            if parent == target:
                return target, tuple(undone)
        return target, ()

    def _pairs(self) -> Any:
        """``(version, its in-branch parent, whether the versioned config differs)`` from the
        tip back, while versions have a parent and within the bound."""
        child, config = str(self.main.version_id), versioned_view(self.main.config)
        for _ in range(MAX_VERSIONS_WALKED):
            parents = self.client.get_version(self.main.agent_id, child).get("parents") or {}
            parent = parents.get("in_branch_parent_id")
            if not parent:
                return
            before = versioned_view(self.client.get_agent(self.main.agent_id, version_id=parent))
            yield child, str(parent), not json_equal(before, config)
            child, config = str(parent), before

    def _undone(self, version_id: str) -> UndoneChange:
        """The change ``version_id`` made, with the commit its merged branch recorded."""
        agent_id = self.main.agent_id
        merged = (self.client.get_version(agent_id, version_id).get("parents") or {}).get(
            "merged_from_version_id"
        )
        if not merged:
            return UndoneChange(version_id, None)
        branch_id = self.client.get_version(agent_id, str(merged)).get("branch_id")
        try:
            branch = self.client.get_branch(agent_id, str(branch_id)) if branch_id else {}
        except NotFoundError:
            branch = {}
        description = str(branch.get("description") or "")
        found = _COMMIT.search(description)
        untested = parse_untested(description) is not None
        return UndoneChange(version_id, found["sha"] if found else None, untested)


def revert_advice(plan: RollbackPlan) -> list[str]:
    """Lines telling how to make the repository agree: ``git revert --no-edit <sha> ...``
    (newest first) for the undone changes whose commit is known, and one line per change
    whose commit is unknown."""
    known = [u.commit for u in plan.undone if u.commit]
    lines = [f"To make the repository agree, run: git revert --no-edit {' '.join(known)}"]
    lines = lines if known else []
    for undone in plan.undone:
        if undone.commit is None:
            lines.append(
                f"The git commit of main's version {undone.version_id} is unknown (not merged "
                "by convai-ops apply): make the repository agree by hand."
            )
    if not plan.undone:
        lines.append(
            f"Which commits version {plan.target_version_id} undoes is unknown (not among "
            "main's recent versions): make the repository agree by hand."
        )
    return lines


def run_rollback(ctx: ApplyContext, spec: AgentSpec, plan: RollbackPlan) -> AgentOutcome:
    """Stage ``plan.target`` on a new branch from main, run the repository's tests there and
    merge only when all pass (module docstring, step 2). Returns the outcome: ``merged``, or
    ``tests_failed`` with the branch kept (nothing merged). Raises ``MainMovedError`` when
    main moved since the plan, ``VerifyError`` when main does not hold the target after the
    merge, or the ``ApiError`` of a call."""
    staged = _stage(ctx, spec, plan)
    report, branch_id = staged.report, staged.branch_id
    if not report.ok:
        names = ", ".join(v.name for v in report.failed)
        ctx.report(spec.slug, f"tests failed ({names}): not merged; branch {branch_id} kept")
        return AgentOutcome(spec.slug, "tests_failed", staged.agent_id, branch_id, report=report)
    merged = merge_into_main(ctx, spec, staged)
    _verify(spec, merged, plan)
    _mark(ctx, spec, merged)
    message = UNTESTED_MERGE if ctx.options.break_glass else ""
    ctx.report(spec.slug, f"rolled back main to version {plan.target_version_id}")
    return AgentOutcome(spec.slug, "merged", staged.agent_id, branch_id, False, report, message)


def _mark(ctx: ApplyContext, spec: AgentSpec, main: RemoteAgent) -> None:
    """After the merge, put the break-glass marker tag on main (``--skip-tests``) or take it
    off (tested) with ``PATCH /v1/convai/agents/{id}`` (tags only); nothing sent when main's
    tags already say so (:mod:`convai_ops.breakglass`)."""
    untested = ctx.options.break_glass is not None
    tags = marked_tags(main.config.get("tags"), untested)
    if tags is None:
        return
    body = {"tags": tags, "version_description": ctx.options.description}
    ctx.client.update_agent(main.agent_id, body)
    done = "tagged" if untested else "removed the tag"
    ctx.report(spec.slug, f"{done} {UNTESTED_TAG} on main (plan and drift read it)")


def _stage(ctx: ApplyContext, spec: AgentSpec, plan: RollbackPlan) -> Staged:
    main = plan.main
    tool_ids = sync_agent_tools(ctx, spec, main)
    tests = tuple(sync_tests(ctx.client, spec.slug, spec.tests, ctx.index, tool_ids))
    created = create_named_branch(
        ctx.client,
        main.agent_id,
        parent_version_id=str(main.version_id),
        name=apply_branch_name(),
        description=ctx.options.description,
        change=_branch_change(plan.target),
        who=spec.slug,
    )
    branch_id: str = created["created_branch_id"]
    ctx.report(spec.slug, f"created branch {branch_id} holding version {plan.target_version_id}")
    say = functools.partial(ctx.report, spec.slug)
    wait_for_rag_indexes(ctx.client, main.agent_id, branch_id, ctx.options.policy, say)
    report = run_tests_on(ctx, spec.slug, main.agent_id, tests, branch_id)
    version_id = created.get("created_version_id")
    return Staged(main.agent_id, False, main, branch_id, tests, report, version_id)


def _branch_change(target: Mapping[str, Any]) -> dict[str, Any]:
    """The branch-create body of ``target``: a GET answers both ``prompt.tools`` and
    ``prompt.tool_ids`` but a write may name only one (BEHAVIOUR.md), so ``tools`` goes."""
    change = copy.deepcopy(dict(target))
    prompt = change["conversation_config"].get("agent", {}).get("prompt", {})
    if "tool_ids" in prompt:
        prompt.pop("tools", None)
    return change


def _verify(spec: AgentSpec, main: RemoteAgent, plan: RollbackPlan) -> None:
    """Main (as read back after the merge) must hold the target's versioned config."""
    left = diff_views(versioned_view(main.config), dict(plan.target))
    if left:
        fields = ", ".join(c.dotted for c in left)
        raise VerifyError(
            f"{spec.slug}: after the merge main does not hold version "
            f"{plan.target_version_id}'s {fields}"
        )
