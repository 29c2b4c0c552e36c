"""Branches: create from a version, update, and the three-way merge into a target branch.

- A new branch starts with a version whose ``out_of_branch_parent_id`` is the parent version; the
  request's ``conversation_config`` / ``platform_settings`` are deep-merged onto the parent's
  (agent-wide platform settings go to the agent or nowhere: ``agents.write_agent_wide``).
- Merges carry only versioned config: agent-wide platform settings are not part of a version.
- The merge base of two branch tips is their nearest common ancestor in the version graph
  (edges: ``in_branch_parent_id``, ``out_of_branch_parent_id``, ``merged_from_version_id``).
- Merging compares the resolved configs (server defaults included) leaf by leaf; a leaf both
  sides changed differently is a conflict. ``POST .../merge`` refuses conflicts with
  ``409 merge_conflict`` unless ``force`` (then the source wins) - a deliberate choice, as the
  document lists no status for it. A merge commits a version on the target whose parents record
  ``merged_from_branch_id`` / ``merged_from_version_id``; the source's tip records
  ``merged_into_branch_id``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from convai_ops.emulator.agents import (
    CONFIG_SECTIONS,
    commit_version,
    find_version,
    patched_config,
    resolved_versioned,
    write_agent_wide,
)
from convai_ops.emulator.configtree import Conflict, three_way
from convai_ops.emulator.core import Emulator
from convai_ops.emulator.problems import bad_request, conflict
from convai_ops.emulator.store import Agent, Branch, Version

__all__ = [
    "MergePlan",
    "ancestors",
    "create_branch",
    "merge_branch",
    "plan_merge",
    "update_branch",
]

_PARENT_KEYS = ("in_branch_parent_id", "out_of_branch_parent_id", "merged_from_version_id")


@dataclass(frozen=True)
class MergePlan:
    """What merging ``source`` into ``target`` gives: ``config`` (per section), the conflicts
    as ``(section, Conflict)`` pairs, and whether source and target configs are identical."""

    source: Branch
    target: Branch
    config: dict[str, Any]
    conflicts: list[tuple[str, Conflict]]
    identical: bool


def create_branch(emu: Emulator, agent: Agent, body: dict[str, Any]) -> tuple[Branch, Version]:
    """Create a branch from ``body["parent_version_id"]`` and commit its first version."""
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
    """Apply ``name``, ``is_archived`` and ``protection_status`` (main cannot be archived)."""
    if body.get("name") is not None:
        _require_unique_name(emu, agent, body["name"], exclude=branch.id)
        branch.name = body["name"]
    if body.get("is_archived") is not None:
        if body["is_archived"] and branch.id == agent.main_branch_id:
            raise bad_request("cannot_archive_main_branch", "The main branch cannot be archived.")
        branch.is_archived = body["is_archived"]
    if body.get("protection_status") is not None:
        branch.protection_status = body["protection_status"]


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
    """Three-way merge of the tips of ``source`` and ``target``; conflicts go to the source
    when ``force`` and to the target otherwise."""
    if source.id == target.id:
        raise bad_request("invalid_merge", "A branch cannot be merged into itself.")
    source_tip = emu.store.versions[source.tip_version_id]
    target_tip = emu.store.versions[target.tip_version_id]
    base = resolved_versioned(merge_base(emu, source_tip, target_tip).config)
    mine, theirs = resolved_versioned(source_tip.config), resolved_versioned(target_tip.config)
    config: dict[str, Any] = {}
    conflicts: list[tuple[str, Conflict]] = []
    for section in CONFIG_SECTIONS:
        merged, found = three_way(base[section], mine[section], theirs[section], source_wins=force)
        config[section] = merged
        conflicts.extend((section, item) for item in found)
    return MergePlan(source, target, config, conflicts, identical=mine == theirs)


def merge_branch(
    emu: Emulator, agent: Agent, plan: MergePlan, *, archive_source: bool, force: bool
) -> Version:
    """Commit ``plan`` on its target; refuse unresolved conflicts with 409 unless ``force``."""
    if plan.conflicts and not force:
        paths = ", ".join(f"{section}.{'.'.join(item.path)}" for section, item in plan.conflicts)
        raise conflict(
            "merge_conflict",
            f"Both branches changed the same fields differently: {paths}. "
            "Use merge-preview to inspect them, or merge with force=true (source wins).",
        )
    source_tip = emu.store.versions[plan.source.tip_version_id]
    parents: dict[str, str | None] = {
        "merged_from_branch_id": plan.source.id,
        "merged_from_version_id": source_tip.id,
    }
    description = f"Merged branch {plan.source.name} into {plan.target.name}"
    version = commit_version(emu, plan.target, plan.config, description, parents)
    source_tip.parents["merged_into_branch_id"] = plan.target.id
    plan.source.merged_into_branch_id = plan.target.id
    if archive_source and plan.source.id != agent.main_branch_id:
        plan.source.is_archived = True
    return version
