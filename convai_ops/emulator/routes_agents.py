"""Agent routes: ``/v1/convai/agents/create``, ``/v1/convai/agents`` and
``/v1/convai/agents/{agent_id}`` (GET, PATCH, DELETE)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from convai_ops.emulator import agents
from convai_ops.emulator.agent_tools import take_inline_tools
from convai_ops.emulator.core import Emulator
from convai_ops.emulator.http import Body, Emu, page
from convai_ops.emulator.store import Agent
from convai_ops.emulator.views_agents import agent_response, agent_summary

__all__ = ["router"]

router = APIRouter()
PageSize = Annotated[int, Query(ge=1, le=100)]


@router.post("/v1/convai/agents/create")
def create_agent_route(emu: Emu, body: Body, enable_versioning: bool = True) -> dict[str, Any]:
    """``CreateAgentResponseModel`` ``{"agent_id"}``; ``enable_versioning=false`` makes an
    unversioned agent (the document calls the parameter deprecated and ignored)."""
    with emu.lock:
        body = take_inline_tools(emu, body)
        agent = agents.create_agent(emu, body, versioned=enable_versioning)
    return {"agent_id": agent.id}


@router.get("/v1/convai/agents")
def get_agents_route(
    emu: Emu,
    page_size: PageSize = 30,
    search: str | None = None,
    archived: bool | None = False,
    tags: Annotated[list[str] | None, Query()] = None,
    sort_direction: Literal["asc", "desc"] = "desc",
    sort_by: Literal["name", "created_at", "call_count_7d"] | None = None,
    cursor: str | None = None,
) -> dict[str, Any]:
    """``GetAgentsPageResponseModel``: name search (substring, any case), tags (any of),
    archived filter, sorting (default newest first), cursor pages."""
    with emu.lock:
        summaries = [agent_summary(emu, agent) for agent in _sorted(emu, sort_by, sort_direction)]
    chosen = [item for item in summaries if _wanted(item, search, archived, tags)]
    items, next_cursor, has_more = page(chosen, cursor, page_size)
    return {"agents": items, "next_cursor": next_cursor, "has_more": has_more}


def _sorted(emu: Emulator, sort_by: str | None, direction: str) -> list[Agent]:
    indexed = list(enumerate(emu.store.agents.values()))
    if sort_by == "name":
        indexed.sort(key=lambda pair: (pair[1].name.lower(), pair[0]))
    else:
        indexed.sort(key=lambda pair: (pair[1].created_at, pair[0]))
    ordered = [agent for _, agent in indexed]
    return ordered[::-1] if direction == "desc" else ordered


def _wanted(
    summary: dict[str, Any], search: str | None, archived: bool | None, tags: list[str] | None
) -> bool:
    if search and search.lower() not in summary["name"].lower():
        return False
    if archived is not None and summary["archived"] != archived:
        return False
    return not tags or bool(set(tags) & set(summary["tags"]))


@router.get("/v1/convai/agents/{agent_id}", response_model=dict[str, Any])
def get_agent_route(
    agent_id: str, emu: Emu, version_id: str | None = None, branch_id: str | None = None
) -> Response:
    """``GetAgentResponseModel`` at ``version_id``, else the tip of ``branch_id``, else main.

    Encoded here (the body is plain JSON already): the most frequent answer skips FastAPI's
    validation and encoding of its ~10 KB, which cost the emulator as much as building it."""
    with emu.lock:
        agent = agents.find_agent(emu, agent_id)
        version = agents.version_at(emu, agent, branch_id=branch_id, version_id=version_id)
        body = agent_response(emu, agent, version)
    return JSONResponse(body)


@router.patch("/v1/convai/agents/{agent_id}")
def patch_agent_settings_route(
    agent_id: str,
    emu: Emu,
    body: Body,
    branch_id: str | None = None,
    enable_versioning_if_not_enabled: bool = True,
) -> dict[str, Any]:
    """Commit a new version on ``branch_id`` (default main); answers the agent at it."""
    with emu.lock:
        agent = agents.find_agent(emu, agent_id)
        version = agents.update_agent(
            emu,
            agent,
            take_inline_tools(emu, body),
            branch_id=branch_id,
            enable=enable_versioning_if_not_enabled,
        )
        return agent_response(emu, agent, version)


@router.delete("/v1/convai/agents/{agent_id}")
def delete_agent_route(agent_id: str, emu: Emu) -> dict[str, Any]:
    """Delete the agent with its branches and versions; answers ``{}``."""
    with emu.lock:
        agents.delete_agent(emu, agents.find_agent(emu, agent_id))
    return {}
