"""Branches: create from a version, update, and the three-way merge into a target branch.

- Branch names hold only letters, numbers and ``( ) [ ] { } - / .``, at most 140 characters
  (the versioning docs), and are unique within the agent: other names answer ``422`` at
  ``["body", "name"]``, a taken one ``409 branch_name_taken``.
- A new branch starts with a version whose ``out_of_branch_parent_id`` is the parent version; the
  request's ``conversation_config`` / ``platform_settings`` are deep-merged onto the parent's
  (agent-wide platform settings go to the agent or nowhere: ``agents.write_agent_wide``).
- Merges carry only versioned config: agent-wide platform settings are not part of a version.
- The merge base of two branch tips is their nearest common ancestor in the version graph
  (edges: ``in_branch_parent_id``, ``out_of_branch_parent_id``, ``merged_from_version_id``).
- Merging compares the resolved configs (server defaults included) leaf by leaf; a leaf both
  sides changed differently is a conflict, settled by timestamp: the side whose tip version was
  committed later wins (``force``: the source always wins). A merge never answers 409. It
  commits a version on the target whose parents record ``merged_from_branch_id`` /
  ``merged_from_version_id``; the source's tip records ``merged_into_branch_id``.
- A merge whose source config equals the target's answers ``422 source_identical_to_target``
  (``identical_merge="refuse"``) or commits nothing (``"commit-nothing"``).
- A merge into a protected branch (``admin_perms_required``) answers ``403``: the emulated key
  has no admin permissions. So does lifting a branch's protection.
- Archiving a branch that holds live traffic (a PATCH, or a merge archiving its source) is
  refused or moves its share to main: knob ``live_branch_archive``
  (:mod:`convai_ops.emulator.deployments`).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from convai_ops.emulator.agents import (
    ADMIN_ONLY,
    CONFIG_SECTIONS,
    commit_version,
    find_version,
    patched_config,
    resolved_versioned,
    write_agent_wide,
)
from convai_ops.emulator.configtree import Conflict, three_way
from convai_ops.emulator.core import Emulator
from convai_ops.emulator.deployments import check_archivable, release_archived
from convai_ops.emulator.problems import InvalidRequest, bad_request, conflict, forbidden
from convai_ops.emulator.store import Agent, Branch, Version

__all__ = [
    "MAX_BRANCH_NAME",
    "MergePlan",
    "ancestors",
    "check_branch_name",
    "create_branch",
    "merge_branch",
    "plan_merge",
    "protect_main_branches",
    "update_branch",
]

MAX_BRANCH_NAME = 140
_BRANCH_NAME = re.compile(r"[A-Za-z0-9()\[\]{}/.-]+")
_ALLOWED = "letters, numbers and ( ) [ ] { } - / ."

_PARENT_KEYS = ("in_branch_parent_id", "out_of_branch_parent_id", "merged_from_version_id")


@dataclass(frozen=True)
class MergePlan:
    """What merging ``source`` into ``target`` gives: ``config`` (per section), the conflicts
    as ``(section, Conflict)`` pairs, whether source and target configs are identical, and
    ``source_wins``: whether conflicts were settled for the source (forced, or its tip was
    committed later)."""

    source: Branch
    target: Branch
    config: dict[str, Any]
    conflicts: list[tuple[str, Conflict]]
    identical: bool
    source_wins: bool


def check_branch_name(name: str) -> None:
    """Raise ``422`` at ``["body", "name"]`` unless ``name`` is 1-140 characters among
    letters, numbers and ``( ) [ ] { } - / .`` (BEHAVIOUR.md "Versions and branches")."""
    if len(name) > MAX_BRANCH_NAME:
        raise InvalidRequest.one(
            ["body", "name"],
            f"String should have at most {MAX_BRANCH_NAME} characters",
            "string_too_long",
        )
    if not _BRANCH_NAME.fullmatch(name):
        bad = sorted({char for char in name if not _BRANCH_NAME.fullmatch(char)})
        found = ", ".join(repr(char) for char in bad) if bad else "an empty name"
        raise InvalidRequest.one(
            ["body", "name"],
            f"A branch name may contain only {_ALLOWED} (found {found})",
            "string_pattern_mismatch",
        )


def protect_main_branches(emu: Emulator) -> None:
    """Mark every agent's main branch ``admin_perms_required`` (the ``protect_main`` knob)."""
    with emu.lock:
        for agent in emu.store.agents.values():
            emu.store.branches[agent.main_branch_id].protection_status = ADMIN_ONLY


def create_branch(emu: Emulator, agent: Agent, body: dict[str, Any]) -> tuple[Branch, Version]:
    """Create a branch from ``body["parent_version_id"]`` and commit its first version."""
    check_branch_name(body["name"])
    parent = find_version(emu, agent, body["parent_version_id"])
    _require_unique_name(emu, agent, body["name"], exclude=None)
    now = int(emu.now())
    branch = Branch(
        id=emu.new_id("agtbrch_"),
        agent_id=agent.id,
        name=body["name"],
        description=body["description"],
        created_at=now,
        last_committed_at=now,
        tip_version_id="",
        parent_branch_id=parent.branch_id,
    )
    emu.store.branches[branch.id] = branch
    write_agent_wide(emu, agent, body, on_main=False)
    config = patched_config(parent.config, body)
    parents: dict[str, str | None] = {"out_of_branch_parent_id": parent.id}
    version = commit_version(emu, branch, config, f"Created branch {branch.name}", parents)
    return branch, version


def update_branch(emu: Emulator, agent: Agent, branch: Branch, body: dict[str, Any]) -> None:
    """Apply ``name``, ``is_archived`` and ``protection_status`` (main cannot be archived; a
    protected branch's protection cannot be lifted without admin permissions: 403)."""
    if body.get("name") is not None:
        check_branch_name(body["name"])
        _require_unique_name(emu, agent, body["name"], exclude=branch.id)
        branch.name = body["name"]
    if body.get("is_archived") is not None:
        if body["is_archived"] and branch.id == agent.main_branch_id:
            raise bad_request("cannot_archive_main_branch", "The main branch cannot be archived.")
        if body["is_archived"]:
            check_archivable(emu, agent, branch)
            release_archived(agent, branch)
        branch.is_archived = body["is_archived"]
    wanted = body.get("protection_status")
    if wanted is not None:
        if branch.protection_status == ADMIN_ONLY and wanted != ADMIN_ONLY:
            raise _admin_needed(agent, branch, "lift its protection")
        branch.protection_status = wanted


def _admin_needed(agent: Agent, branch: Branch, action: str) -> Exception:
    return forbidden(
        "branch_protected",
        f"Branch {branch.name!r} of agent {agent.id!r} is protected (admin_perms_required); "
        f"this API key has no admin permissions to {action}.",
    )


def _require_unique_name(emu: Emulator, agent: Agent, name: str, exclude: str | None) -> None:
    for other in emu.store.branches.values():
        if other.agent_id == agent.id and other.name == name and other.id != exclude:
            raise conflict(
                "branch_name_taken", f"Agent {agent.id!r} already has a branch {name!r}."
            )


def ancestors(emu: Emulator, version_id: str) -> Iterator[Version]:
    """Yield ``version_id`` and its ancestors, nearest first (breadth-first)."""
    seen: set[str] = set()
    queue = deque([version_id])
    while queue:
        current = queue.popleft()
        version = emu.store.versions.get(current)
        if current in seen or version is None:
            continue
        seen.add(current)
        yield version
        queue.extend(parent for key in _PARENT_KEYS if (parent := version.parents.get(key)))


def merge_base(emu: Emulator, source: Version, target: Version) -> Version:
    """Return the nearest ancestor of ``source`` that is also an ancestor of ``target``."""
    target_line = {version.id for version in ancestors(emu, target.id)}
    for version in ancestors(emu, source.id):
        if version.id in target_line:
            return version
    return source  # unreachable for branches of one agent: all share the first version


def plan_merge(emu: Emulator, source: Branch, target: Branch, *, force: bool) -> MergePlan:
    """Three-way merge of the tips of ``source`` and ``target``; a conflict goes to the source
    when ``force`` or when the source's tip was committed later, else to the target."""
    if source.id == target.id:
        raise bad_request("invalid_merge", "A branch cannot be merged into itself.")
    source_tip = emu.store.versions[source.tip_version_id]
    target_tip = emu.store.versions[target.tip_version_id]
    source_wins = force or _commit_order(emu, source_tip) > _commit_order(emu, target_tip)
    base = resolved_versioned(merge_base(emu, source_tip, target_tip).config)
    mine, theirs = resolved_versioned(source_tip.config), resolved_versioned(target_tip.config)
    config: dict[str, Any] = {}
    conflicts: list[tuple[str, Conflict]] = []
    for section in CONFIG_SECTIONS:
        merged, found = three_way(
            base[section], mine[section], theirs[section], source_wins=source_wins
        )
        config[section] = merged
        conflicts.extend((section, item) for item in found)
    return MergePlan(source, target, config, conflicts, mine == theirs, source_wins)


def _commit_order(emu: Emulator, version: Version) -> tuple[float, int]:
    """When ``version`` was committed; ties (same clock reading) go by commit order."""
    return version.committed_at, list(emu.store.versions).index(version.id)


def merge_branch(emu: Emulator, agent: Agent, plan: MergePlan, *, archive_source: bool) -> Version:
    """Commit ``plan`` on its target and return the target's new tip. Raises 403 when the
    target is protected; for an identical source, 422 ``source_identical_to_target`` or (knob
    ``identical_merge="commit-nothing"``) no commit, answering the target's tip as it is."""
    if plan.target.protection_status == ADMIN_ONLY:
        raise _admin_needed(agent, plan.target, "merge into it")
    if archive_source and plan.source.id != agent.main_branch_id:
        check_archivable(emu, agent, plan.source)
    if plan.identical:
        return _merge_identical(emu, agent, plan, archive_source=archive_source)
    source_tip = emu.store.versions[plan.source.tip_version_id]
    parents: dict[str, str | None] = {
        "merged_from_branch_id": plan.source.id,
        "merged_from_version_id": source_tip.id,
    }
    description = f"Merged branch {plan.source.name} into {plan.target.name}"
    version = commit_version(emu, plan.target, plan.config, description, parents)
    source_tip.parents["merged_into_branch_id"] = plan.target.id
    plan.source.merged_into_branch_id = plan.target.id
    _archive_source(agent, plan, archive_source)
    return version


def _merge_identical(
    emu: Emulator, agent: Agent, plan: MergePlan, *, archive_source: bool
) -> Version:
    if emu.config.identical_merge == "refuse":
        raise InvalidRequest.one(
            ["path", "source_branch_id"],
            f"source_identical_to_target: branch {plan.source.name!r} holds the same config as "
            f"{plan.target.name!r}; there is nothing to merge",
            "source_identical_to_target",
        )
    _archive_source(agent, plan, archive_source)
    return emu.store.versions[plan.target.tip_version_id]


def _archive_source(agent: Agent, plan: MergePlan, archive_source: bool) -> None:
    if archive_source and plan.source.id != agent.main_branch_id:
        release_archived(agent, plan.source)
        plan.source.is_archived = True
