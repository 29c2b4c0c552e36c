"""Workspace tools: list, read, create, update, delete, dependants."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .base import BaseClient

__all__ = ["ToolsMixin"]

_TOOLS = "/v1/convai/tools"
_TOOL = _TOOLS + "/{tool_id}"


class ToolsMixin(BaseClient):
    """Tool calls of :class:`ConvaiClient`."""

    def iter_tools(
        self, *, search: str | None = None, page_size: int = 100
    ) -> Iterator[dict[str, Any]]:
        """Yield tools (``id``, ``tool_config``, ``usage_stats``, ...), fetching pages lazily.

        ``search`` matches name prefixes; ``page_size`` is 1-100. Calls
        ``GET /v1/convai/tools`` (cursor pages).
        """
        return self._paginate(_TOOLS, "tools", {"search": search, "page_size": page_size})

    def get_tool(self, tool_id: str) -> dict[str, Any]:
        """Return a tool (``id``, ``tool_config``, ...).

        Calls ``GET /v1/convai/tools/{tool_id}``. Raises :class:`NotFoundError`.
        """
        return self._object("GET", _TOOL, path_params={"tool_id": tool_id})

    def create_tool(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Create a tool from ``body`` (``{"tool_config": {...}}``) and return it.

        Calls ``POST /v1/convai/tools``. Raises :class:`RequestValidationError`.
        """
        return self._object("POST", _TOOLS, json=body)

    def update_tool(self, tool_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Replace a tool's configuration with ``body`` (``{"tool_config": {...}}``); return it.

        Calls ``PATCH /v1/convai/tools/{tool_id}``. Raises :class:`NotFoundError` or
        :class:`RequestValidationError`.
        """
        return self._object("PATCH", _TOOL, path_params={"tool_id": tool_id}, json=body)

    def tool_dependents(self, tool_id: str) -> dict[str, list[dict[str, Any]]]:
        """Return ``{"agents": [...], "branches": [...]}`` using the tool: agents as ``{id,
        name, type available/unknown, ...}``, branches as ``{agent_id, agent_name, branch_id,
        branch_name, is_main}`` (first page, up to 100 agents).

        Calls ``GET /v1/convai/tools/{tool_id}/dependent-agents``. Raises
        :class:`NotFoundError`.
        """
        page = self._object(
            "GET",
            _TOOL + "/dependent-agents",
            path_params={"tool_id": tool_id},
            params={"page_size": 100},
        )
        return {key: list(page.get(key) or []) for key in ("agents", "branches")}

    def delete_tool(self, tool_id: str) -> None:
        """Delete a tool. Calls ``DELETE /v1/convai/tools/{tool_id}``.

        Raises :class:`NotFoundError` when it does not exist.
        """
        self.request("DELETE", _TOOL, path_params={"tool_id": tool_id})
