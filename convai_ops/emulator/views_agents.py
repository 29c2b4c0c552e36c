"""Response bodies for agents, branches and versions, shaped per the OpenAPI document.

Each function returns a JSON-ready dict named after the schema it produces.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from convai_ops.emulator.agent_tools import with_tools
from convai_ops.emulator.agents import agent_config, resolved_config, resolved_value
from convai_ops.emulator.branches import MergePlan, ancestors
from convai_ops.emulator.configtree import MISSING, Conflict, deep_merge
from convai_ops.emulator.core import ACCESS_INFO, Emulator
from convai_ops.emulator.deployments import live_share
from convai_ops.emulator.store import Agent, Branch, Version

__all__ = [
    "agent_response",
    "agent_summary",
    "branch_response",
    "branch_summary",
    "merge_preview_response",
    "version_metadata",
]

_PARENT_FIELDS = (
    "in_branch_parent_id",
    "out_of_branch_parent_id",
    "merged_into_branch_id",
    "merged_from_branch_id",
    "merged_from_version_id",
    "rebased_from_version_id",
)
_RECENT_VERSIONS = 10
_WEEK_S = 7 * 24 * 3600


def agent_response(emu: Emulator, agent: Agent, version: Version) -> dict[str, Any]:
    """``GetAgentResponseModel`` of ``agent`` at ``version`` (server defaults included, inside
    list items too; ``prompt.tools`` and ``prompt.tool_ids`` both answered): the version's
    versioned config with the agent's current agent-wide platform settings."""
    config = _resolved(json.dumps(agent_config(agent, version)))
    return _agent_body(agent, version, with_tools(emu, config))


@lru_cache(maxsize=4096)
def _resolved(stored: str) -> dict[str, Any]:
    """:func:`resolved_config` of a stored config given as JSON (its key order kept), worked
    out once per distinct config: most GETs read an agent nobody changed since the last one.
    The answer is shared, so it is never modified (``with_tools`` copies what it changes)."""
    return resolved_config(json.loads(stored))


def _agent_body(agent: Agent, version: Version, config: dict[str, Any]) -> dict[str, Any]:
    versioned = agent.versioned
    body = {
        "agent_id": agent.id,
        "name": agent.name,
        "conversation_config": config["conversation_config"],
        "metadata": {
            "created_at_unix_secs": agent.created_at,
            "updated_at_unix_secs": agent.updated_at,
        },
        "platform_settings": config["platform_settings"],
        "phone_numbers": [],
        "whatsapp_accounts": [],
        "workflow": config["workflow"],
        "access_info": dict(ACCESS_INFO),
        "tags": list(agent.tags),
        "version_id": version.id if versioned else None,
        "branch_id": version.branch_id if versioned else None,
        "main_branch_id": agent.main_branch_id if versioned else None,
        "procedures": {},
    }
    if not config["workflow"]:
        del body["workflow"]
    return body


def agent_summary(emu: Emulator, agent: Agent) -> dict[str, Any]:
    """``AgentSummaryResponseModel`` of ``agent`` as its main branch says."""
    branch = emu.store.branches[agent.main_branch_id]
    stored = emu.store.versions[branch.tip_version_id].config
    agent_wide = {"platform_settings": agent.agent_wide}
    return {
        "agent_id": agent.id,
        "name": agent.name,
        "voice_id": resolved_value(stored, "conversation_config", "tts", "voice_id") or "",
        "tags": list(agent.tags),
        "created_at_unix_secs": agent.created_at,
        "access_info": dict(ACCESS_INFO),
        "last_call_time_unix_secs": None,
        "archived": bool(resolved_value(agent_wide, "platform_settings", "archived")),
    }


def version_metadata(version: Version) -> dict[str, Any]:
    """``AgentVersionMetadata`` of ``version``."""
    return {
        "id": version.id,
        "agent_id": version.agent_id,
        "branch_id": version.branch_id,
        "version_description": version.description,
        "seq_no_in_branch": version.seq_no_in_branch,
        "time_committed_secs": int(version.committed_at),
        "parents": {field: version.parents.get(field) for field in _PARENT_FIELDS},
        "access_info": dict(ACCESS_INFO),
    }


def _branch_common(agent: Agent, branch: Branch) -> dict[str, Any]:
    return {
        "id": branch.id,
        "name": branch.name,
        "agent_id": branch.agent_id,
        "description": branch.description,
        "created_at": branch.created_at,
        "last_committed_at": branch.last_committed_at,
        "is_archived": branch.is_archived,
        "protection_status": branch.protection_status,
        "access_info": dict(ACCESS_INFO),
        "current_live_percentage": live_share(agent, branch.id),
    }


def branch_summary(
    emu: Emulator, agent: Agent, branch: Branch, *, commit_status: bool
) -> dict[str, Any]:
    """``AgentBranchSummary``; ``commits_ahead``/``behind`` (vs main) only when asked;
    ``calls_7d`` counts the branch's synthetic live conversations of the last 7 days."""
    ahead, behind = _commit_status(emu, agent, branch) if commit_status else (None, None)
    return {
        **_branch_common(agent, branch),
        "parent_branch_id": branch.parent_branch_id,
        "draft_exists": False,
        "draft_created_at": None,
        "draft_is_behind_tip": False,
        "calls_7d": emu.live.calls_since(branch.id, emu.now() - _WEEK_S),
        "commits_ahead": ahead,
        "commits_behind": behind,
        "merged_into_branch_id": branch.merged_into_branch_id,
    }


def _commit_status(emu: Emulator, agent: Agent, branch: Branch) -> tuple[int, int]:
    main = emu.store.branches[agent.main_branch_id]
    mine = {version.id for version in ancestors(emu, branch.tip_version_id)}
    theirs = {version.id for version in ancestors(emu, main.tip_version_id)}
    return len(mine - theirs), len(theirs - mine)


def branch_response(emu: Emulator, agent: Agent, branch: Branch) -> dict[str, Any]:
    """``AgentBranchResponse`` with the branch's most recent versions, newest first."""
    parent = emu.store.branches.get(branch.parent_branch_id or "")
    recent = [
        version
        for version in reversed(emu.store.versions.values())
        if version.branch_id == branch.id
    ][:_RECENT_VERSIONS]
    return {
        **_branch_common(agent, branch),
        "parent_branch": {"id": parent.id, "name": parent.name} if parent else None,
        "most_recent_versions": [version_metadata(version) for version in recent],
    }


def merge_preview_response(emu: Emulator, agent: Agent, plan: MergePlan) -> dict[str, Any]:
    """``MergePreviewResponseModel``: the merged config at the target plus its conflicts."""
    target_tip = emu.store.versions[plan.target.tip_version_id]
    agent_wide = resolved_config({"platform_settings": agent.agent_wide})["platform_settings"]
    settings = deep_merge(agent_wide, plan.config["platform_settings"])
    config = with_tools(emu, {**plan.config, "platform_settings": settings})
    body = _agent_body(agent, target_tip, config)
    paths = [f"{section}.{'.'.join(item.path)}" for section, item in plan.conflicts]
    body["overridden_fields"] = paths
    body["conflicts"] = [_field_conflict(section, item) for section, item in plan.conflicts]
    body["source_identical_to_target"] = plan.identical
    return body


def _field_conflict(section: str, item: Conflict) -> dict[str, Any]:
    return {
        "path": ".".join(item.path),
        "section": section,
        "base_value": _present(item.base),
        "source_value": _present(item.source),
        "target_value": _present(item.target),
    }


def _present(value: Any) -> Any:
    return None if value is MISSING else value
