"""Tool routes: ``/v1/convai/tools`` (POST, GET), ``/v1/convai/tools/{tool_id}``
(GET, PATCH, DELETE) and ``.../dependent-agents``. A tool's ``tool_config`` is answered over
the defaults of its type's response schema."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from convai_ops.emulator import references
from convai_ops.emulator.agent_tools import tool_config
from convai_ops.emulator.core import ACCESS_INFO, Emulator
from convai_ops.emulator.http import Body, Emu, page
from convai_ops.emulator.problems import not_found
from convai_ops.emulator.schema import prune
from convai_ops.emulator.store import Tool

__all__ = ["router"]

router = APIRouter()


def _find(emu: Emulator, tool_id: str) -> Tool:
    tool = emu.store.tools.get(tool_id)
    if tool is None:
        raise not_found("tool", tool_id)
    return tool


def _response(tool: Tool) -> dict[str, Any]:
    return {
        "id": tool.id,
        "tool_config": tool_config(tool),
        "access_info": dict(ACCESS_INFO),
        "usage_stats": {"total_calls": 0, "avg_latency_secs": 0.0},
        "response_mocks": tool.response_mocks,
    }


@router.post("/v1/convai/tools")
def add_tool_route(emu: Emu, body: Body) -> dict[str, Any]:
    """Create a tool from ``ToolRequestModel``; answers ``ToolResponseModel``."""
    now = int(emu.now())
    with emu.lock:
        request = prune(body, "ToolRequestModel")
        tool = Tool(
            id=emu.new_id("tool_"),
            tool_config=request["tool_config"],
            response_mocks=request.get("response_mocks"),
            created_at=now,
            updated_at=now,
        )
        emu.store.tools[tool.id] = tool
        return _response(tool)


@router.get("/v1/convai/tools")
def get_tools_route(
    emu: Emu,
    search: str | None = None,
    page_size: Annotated[int | None, Query(ge=1, le=100)] = None,
    types: Annotated[
        list[Literal["webhook", "client", "api_integration_webhook"]] | None, Query()
    ] = None,
    sort_direction: Literal["asc", "desc"] = "desc",
    sort_by: Literal["name", "created_at"] | None = None,
    cursor: str | None = None,
) -> dict[str, Any]:
    """``ToolsResponseModel``: names starting with ``search``, ``types`` filter, sorting
    (default newest first), cursor pages of ``page_size`` (30 when absent)."""
    with emu.lock:
        chosen = [
            tool
            for tool in emu.store.tools.values()
            if (not search or str(tool.tool_config.get("name", "")).startswith(search))
            and (not types or tool.tool_config.get("type") in types)
        ]
        if sort_by == "name":
            chosen.sort(key=lambda tool: str(tool.tool_config.get("name", "")).lower())
        else:
            chosen.sort(key=lambda tool: tool.created_at)
        ordered = chosen[::-1] if sort_direction == "desc" else chosen
        items = [_response(tool) for tool in ordered]
    found, next_cursor, has_more = page(items, cursor, page_size or 30)
    return {"tools": found, "next_cursor": next_cursor, "has_more": has_more}


@router.get("/v1/convai/tools/{tool_id}")
def get_tool_route(tool_id: str, emu: Emu) -> dict[str, Any]:
    """``ToolResponseModel``."""
    with emu.lock:
        return _response(_find(emu, tool_id))


@router.patch("/v1/convai/tools/{tool_id}")
def update_tool_route(tool_id: str, emu: Emu, body: Body) -> dict[str, Any]:
    """Replace ``tool_config`` (and ``response_mocks`` when given); answers the tool."""
    with emu.lock:
        tool = _find(emu, tool_id)
        tool.tool_config = prune(body, "ToolRequestModel")["tool_config"]
        if "response_mocks" in body:
            tool.response_mocks = body["response_mocks"]
        tool.updated_at = int(emu.now())
        return _response(tool)


@router.delete("/v1/convai/tools/{tool_id}")
def delete_tool_route(tool_id: str, emu: Emu, force: bool = False) -> dict[str, Any]:
    """Delete; ``409 tool_in_use`` while a branch tip lists it in ``tool_ids``, unless
    ``force`` (then it is removed from those branches). Answers ``{}``."""
    with emu.lock:
        tool = _find(emu, tool_id)
        if not force:
            references.refuse_if_used(references.users_of_tool(emu, tool.id), "tool", tool.id)
        references.drop_tool(emu, tool.id)
        del emu.store.tools[tool.id]
    return {}


@router.get("/v1/convai/tools/{tool_id}/dependent-agents")
def get_tool_dependent_agents_route(
    tool_id: str,
    emu: Emu,
    page_size: Annotated[int, Query(ge=1, le=100)] = 30,
    cursor: str | None = None,
) -> dict[str, Any]:
    """``GetToolDependentAgentsResponseModel``: the agents and branches whose tip lists the
    tool in ``prompt.tool_ids`` (as for documents, branches are listed too)."""
    with emu.lock:
        users = references.users_of_tool(emu, _find(emu, tool_id).id)
        dependents = references.agent_entries(users)
        branches = references.branch_entries(users)
    found, next_cursor, has_more = page(dependents, cursor, page_size)
    return {"agents": found, "branches": branches, "next_cursor": next_cursor, "has_more": has_more}
