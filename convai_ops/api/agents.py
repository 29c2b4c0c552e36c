"""Agents: create, read, update, delete, list; and their versions."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import tenacity

from convai_ops.errors import AmbiguousAgentError, ApiConnectionError, ApiError, ServerError

from .base import BaseClient

__all__ = ["AgentsMixin"]

logger = logging.getLogger("convai_ops.api")

_AGENT = "/v1/convai/agents/{agent_id}"
_CREATE = "/v1/convai/agents/create"


class AgentsMixin(BaseClient):
    """Agent calls of :class:`ConvaiClient`."""

    def create_agent(self, body: Mapping[str, Any], *, identity_tag: str | None = None) -> str:
        """Create an agent and return its ``agent_id``.

        ``body`` is the create request (``conversation_config`` required; ``name``, ``tags``,
        ``platform_settings``, ``workflow`` optional). Every agent is versioned: the deprecated
        ``enable_versioning`` query is never sent. Calls ``POST /v1/convai/agents/create``,
        never retried automatically (only a ``429``): sent twice it makes two agents.

        When the answer is lost (a timeout, a dropped connection, a 5xx or 408) and
        ``identity_tag`` is given (a tag of ``body`` no other agent carries, e.g.
        ``convai-ops:support``), the agents carrying it are listed (``GET /v1/convai/agents``
        with ``tags``): the one found is adopted; only when none is found is the create sent
        again, at most ``max_retries + 1`` times in all (the client's retry budget). Without
        ``identity_tag`` the error is raised at once. Raises :class:`RequestValidationError`
        on a rejected body, :class:`AmbiguousAgentError` when more than one agent carries
        ``identity_tag``, or the last :class:`ApiError`.
        """
        if identity_tag is None:
            return self._create(_CREATE, "agent_id", json=body, repeatable=False)
        attempts = iter(range(self.max_retries + 1))

        def attempt() -> str:
            if next(attempts) > 0:  # the previous answer was lost: did it make the agent?
                found = self._tagged(identity_tag)
                if found is not None:
                    logger.info("adopted agent %s made by a create whose answer was lost", found)
                    return found
            return self._create(_CREATE, "agent_id", json=body, repeatable=False)

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.max_retries + 1),
            wait=self._retrying.wait,
            sleep=self._retrying.sleep,
            retry=tenacity.retry_if_exception(_answer_lost),
            reraise=True,
        )
        created: str = retrying(attempt)
        return created

    def _tagged(self, tag: str) -> str | None:
        """The one agent carrying ``tag``; ``None`` when none does."""
        ids = [a["agent_id"] for a in self.iter_agents(tags=[tag]) if tag in (a.get("tags") or ())]
        if len(ids) > 1:
            raise AmbiguousAgentError(
                f"a create's answer was lost and {len(ids)} agents now carry {tag} "
                f"({', '.join(ids)}): keep one, delete the others, then re-run"
            )
        return str(ids[0]) if ids else None

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


def _answer_lost(exc: BaseException) -> bool:
    """True for a failure after which the request may have been carried out."""
    if isinstance(exc, ServerError | ApiConnectionError):
        return True
    return isinstance(exc, ApiError) and exc.status == 408
