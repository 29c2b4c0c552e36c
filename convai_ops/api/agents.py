"""Agents: create, read, update, delete, list; and their versions."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .base import BaseClient

__all__ = ["AgentsMixin"]

_AGENT = "/v1/convai/agents/{agent_id}"


class AgentsMixin(BaseClient):
    """Agent calls of :class:`ConvaiClient`."""

    def create_agent(self, body: Mapping[str, Any]) -> str:
        """Create an agent and return its ``agent_id``.

        ``body`` is the create request (``conversation_config`` required; ``name``, ``tags``,
        ``platform_settings``, ``workflow`` optional). Every agent is versioned: the deprecated
        ``enable_versioning`` query is never sent. Calls ``POST /v1/convai/agents/create``.
        Raises :class:`RequestValidationError` on a rejected body, or another :class:`ApiError`.
        """
        return self._create("/v1/convai/agents/create", "agent_id", json=body)

    def get_agent(
        self, agent_id: str, *, branch_id: str | None = None, version_id: str | None = None
    ) -> dict[str, Any]:
        """Return an agent (``agent_id``, ``name``, ``conversation_config``, ``platform_settings``,
        ``tags``, ``version_id``, ``branch_id``, ...), at the tip of ``branch_id`` or at
        ``version_id`` when given (main otherwise).

        Calls ``GET /v1/convai/agents/{agent_id}``. Raises :class:`NotFoundError` when the agent
        (or branch/version) does not exist.
        """
        params = {"branch_id": branch_id, "version_id": version_id}
        return self._object("GET", _AGENT, path_params={"agent_id": agent_id}, params=params)

    def update_agent(
        self,
        agent_id: str,
        body: Mapping[str, Any],
        *,
        branch_id: str | None = None,
    ) -> dict[str, Any]:
        """Patch an agent (on ``branch_id`` when given) and return it as :meth:`get_agent` does.

        ``body`` holds any of ``name``, ``tags``, ``conversation_config``,
        ``platform_settings``, ``workflow``, ``version_description``. The deprecated
        ``enable_versioning_if_not_enabled`` query is never sent. Calls
        ``PATCH /v1/convai/agents/{agent_id}``. Raises :class:`NotFoundError`,
        :class:`RequestValidationError`, or another :class:`ApiError`.
        """
        params = {"branch_id": branch_id}
        path_params = {"agent_id": agent_id}
        return self._object("PATCH", _AGENT, path_params=path_params, params=params, json=body)

    def delete_agent(self, agent_id: str) -> None:
        """Delete an agent. Calls ``DELETE /v1/convai/agents/{agent_id}``.

        Raises :class:`NotFoundError` when it does not exist.
        """
        self.request("DELETE", _AGENT, path_params={"agent_id": agent_id})

    def iter_agents(
        self,
        *,
        search: str | None = None,
        tags: Sequence[str] | None = None,
        page_size: int = 100,
    ) -> Iterator[dict[str, Any]]:
        """Yield agent summaries (``agent_id``, ``name``, ``tags``, ...), fetching pages lazily.

        ``search`` matches names; ``tags`` keeps agents with any of them; ``page_size`` is 1-100.
        Calls ``GET /v1/convai/agents`` (cursor pages).
        """
        params = {"search": search, "tags": tags, "page_size": page_size}
        return self._paginate("/v1/convai/agents", "agents", params)

    def get_version(self, agent_id: str, version_id: str) -> dict[str, Any]:
        """Return a version's metadata (``id``, ``branch_id``, ``seq_no_in_branch``, ``parents``).

        Calls ``GET /v1/convai/agents/{agent_id}/versions/{version_id}``. Raises
        :class:`NotFoundError` when it does not exist.
        """
        path_params = {"agent_id": agent_id, "version_id": version_id}
        return self._object("GET", _AGENT + "/versions/{version_id}", path_params=path_params)
