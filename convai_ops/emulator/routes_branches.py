"""Branch and version routes under ``/v1/convai/agents/{agent_id}``: ``branches`` (POST, GET),
``branches/{branch_id}`` (GET, PATCH), ``versions/{version_id}``,
``branches/{source_branch_id}/merge-preview`` and ``branches/{source_branch_id}/merge``.

Every route answers ``400 agent_not_versioned`` for an agent without versioning."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from convai_ops.emulator import agents, branches
from convai_ops.emulator.agent_tools import take_inline_tools
from convai_ops.emulator.core import Emulator
from convai_ops.emulator.http import Body, Emu
from convai_ops.emulator.problems import bad_request
from convai_ops.emulator.store import Agent, Branch
from convai_ops.emulator.views_agents import (
    agent_response,
    branch_response,
    branch_summary,
    merge_preview_response,
    version_metadata,
)

__all__ = ["router"]

router = APIRouter()


def _versioned_agent(emu: Emulator, agent_id: str) -> Agent:
    agent = agents.find_agent(emu, agent_id)
    agents.require_versioned(agent)
    return agent


@router.post("/v1/convai/agents/{agent_id}/branches")
def create_branch_route(agent_id: str, emu: Emu, body: Body) -> dict[str, Any]:
    """``CreateAgentBranchResponseModel`` ``{"created_branch_id", "created_version_id"}``."""
    with emu.lock:
        agent = _versioned_agent(emu, agent_id)
        branch, version = branches.create_branch(emu, agent, take_inline_tools(emu, body))
    return {"created_branch_id": branch.id, "created_version_id": version.id}


@router.get("/v1/convai/agents/{agent_id}/branches")
def get_branches_route(
    agent_id: str,
    emu: Emu,
    include_archived: bool = False,
    limit: Annotated[int, Query(gt=1, le=100)] = 100,
    include_commit_status: bool = False,
) -> dict[str, Any]:
    """``ListResponse_AgentBranchSummary_``: the agent's branches in creation order."""
    with emu.lock:
        agent = _versioned_agent(emu, agent_id)
        chosen = [
            branch
            for branch in emu.store.branches.values()
            if branch.agent_id == agent.id and (include_archived or not branch.is_archived)
        ]
        results = [
            branch_summary(emu, agent, branch, commit_status=include_commit_status)
            for branch in chosen[:limit]
        ]
    meta = {"total": len(chosen), "page": None, "page_size": limit}
    return {"meta": meta, "results": results}


@router.get("/v1/convai/agents/{agent_id}/branches/{branch_id}")
def get_branch_route(agent_id: str, branch_id: str, emu: Emu) -> dict[str, Any]:
    """``AgentBranchResponse`` with ``most_recent_versions`` (newest first, at most 10)."""
    with emu.lock:
        agent = _versioned_agent(emu, agent_id)
        return branch_response(emu, agent, agents.find_branch(emu, agent, branch_id))


@router.patch("/v1/convai/agents/{agent_id}/branches/{branch_id}")
def update_branch_route(agent_id: str, branch_id: str, emu: Emu, body: Body) -> dict[str, Any]:
    """Rename, archive or protect a branch; answers ``AgentBranchResponse``."""
    with emu.lock:
        agent = _versioned_agent(emu, agent_id)
        branch = agents.find_branch(emu, agent, branch_id)
        branches.update_branch(emu, agent, branch, body)
        return branch_response(emu, agent, branch)


@router.get("/v1/convai/agents/{agent_id}/versions/{version_id}")
def get_version_metadata_route(agent_id: str, version_id: str, emu: Emu) -> dict[str, Any]:
    """``AgentVersionMetadata`` (with ``parents``)."""
    with emu.lock:
        agent = _versioned_agent(emu, agent_id)
        return version_metadata(agents.find_version(emu, agent, version_id))


def _merge_pair(
    emu: Emulator, agent: Agent, source_id: str, target_id: str
) -> tuple[Branch, Branch]:
    source = agents.find_branch(emu, agent, source_id)
    target = agents.find_branch(emu, agent, target_id)
    if target.is_archived:
        raise bad_request("branch_archived", f"Target branch {target.id!r} is archived.")
    return source, target


@router.get("/v1/convai/agents/{agent_id}/branches/{source_branch_id}/merge-preview")
def merge_preview_route(
    agent_id: str, source_branch_id: str, target_branch_id: str, emu: Emu, force: bool = False
) -> dict[str, Any]:
    """``MergePreviewResponseModel``: the merged config exactly as ``merge`` would commit it
    (conflicts to the side committed later, to the source when ``force``),
    ``overridden_fields``, ``conflicts`` and ``source_identical_to_target``."""
    with emu.lock:
        agent = _versioned_agent(emu, agent_id)
        source, target = _merge_pair(emu, agent, source_branch_id, target_branch_id)
        plan = branches.plan_merge(emu, source, target, force=force)
        return merge_preview_response(emu, agent, plan)


@router.post("/v1/convai/agents/{agent_id}/branches/{source_branch_id}/merge")
def merge_branch_into_target(
    agent_id: str, source_branch_id: str, target_branch_id: str, emu: Emu, body: Body
) -> dict[str, Any]:
    """Merge and answer the target's ``GetAgentResponseModel`` at its new tip. Conflicts are
    settled by timestamp (``force``: source wins); ``403`` into a protected target; an
    identical source: ``422`` or no commit (``identical_merge``)."""
    force = bool(body.get("force", False))
    with emu.lock:
        agent = _versioned_agent(emu, agent_id)
        source, target = _merge_pair(emu, agent, source_branch_id, target_branch_id)
        plan = branches.plan_merge(emu, source, target, force=force)
        archive = bool(body.get("archive_source_branch", True))
        version = branches.merge_branch(emu, agent, plan, archive_source=archive)
        return agent_response(emu, agent, version)
