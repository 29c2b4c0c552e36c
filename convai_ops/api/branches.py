"""Agent branches: create, list, read, update, preview a merge, merge; live traffic shares."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from convai_ops.errors import ApiError

from .base import BaseClient
from .routing import compact

__all__ = ["AgentBranchesMixin"]

_BRANCHES = "/v1/convai/agents/{agent_id}/branches"
_BRANCH = _BRANCHES + "/{branch_id}"
_SOURCE = _BRANCHES + "/{source_branch_id}"
_DEPLOYMENTS = "/v1/convai/agents/{agent_id}/deployments"
ProtectionStatus = Literal["writer_perms_required", "admin_perms_required"]


class AgentBranchesMixin(BaseClient):
    """Branch calls of :class:`ConvaiClient`."""

    def create_branch(
        self,
        agent_id: str,
        *,
        parent_version_id: str,
        name: str,
        description: str,
        conversation_config: Mapping[str, Any] | None = None,
        platform_settings: Mapping[str, Any] | None = None,
        workflow: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Create a branch from ``parent_version_id`` and return
        ``{"created_branch_id", "created_version_id"}``.

        ``conversation_config`` / ``platform_settings``, when given, are applied to the new
        branch's first version; ``workflow`` (``AgentWorkflowRequestModel``) replaces its
        workflow. Calls ``POST /v1/convai/agents/{agent_id}/branches``. Raises
        :class:`NotFoundError`, :class:`RequestValidationError`, or another :class:`ApiError`.
        """
        body = compact(
            parent_version_id=parent_version_id,
            name=name,
            description=description,
            conversation_config=conversation_config,
            platform_settings=platform_settings,
            workflow=workflow,
        )
        return self._object("POST", _BRANCHES, path_params={"agent_id": agent_id}, json=body)

    def list_branches(
        self, agent_id: str, *, include_archived: bool = False, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Return up to ``limit`` (2 to 100) branch summaries (``id``, ``name``,
        ``is_archived``, ``parent_branch_id``, ...). This list has no cursor: a list as long as
        ``limit`` may leave branches out (see :mod:`convai_ops.agent_branches`).

        Calls ``GET /v1/convai/agents/{agent_id}/branches``. Raises :class:`NotFoundError`.
        """
        params = {"include_archived": include_archived, "limit": limit}
        page = self._object("GET", _BRANCHES, path_params={"agent_id": agent_id}, params=params)
        results = page.get("results")
        if not isinstance(results, list):
            raise ApiError("expected a list under 'results'", method="GET", path=_BRANCHES)
        return results

    def get_branch(self, agent_id: str, branch_id: str) -> dict[str, Any]:
        """Return a branch (``id``, ``name``, ``description``, ``is_archived``,
        ``protection_status``, ``most_recent_versions``, ...).

        Calls ``GET /v1/convai/agents/{agent_id}/branches/{branch_id}``. Raises
        :class:`NotFoundError`.
        """
        path_params = {"agent_id": agent_id, "branch_id": branch_id}
        return self._object("GET", _BRANCH, path_params=path_params)

    def update_branch(
        self,
        agent_id: str,
        branch_id: str,
        *,
        name: str | None = None,
        is_archived: bool | None = None,
        protection_status: ProtectionStatus | None = None,
    ) -> dict[str, Any]:
        """Rename, archive/unarchive or protect a branch (unset fields stay as they are); return
        it as :meth:`get_branch` does.

        Calls ``PATCH /v1/convai/agents/{agent_id}/branches/{branch_id}``. Raises
        :class:`NotFoundError` or :class:`RequestValidationError`.
        """
        body = compact(name=name, is_archived=is_archived, protection_status=protection_status)
        path_params = {"agent_id": agent_id, "branch_id": branch_id}
        return self._object("PATCH", _BRANCH, path_params=path_params, json=body)

    def merge_preview(
        self, agent_id: str, source_branch_id: str, target_branch_id: str
    ) -> dict[str, Any]:
        """Return the agent as merging ``source_branch_id`` into ``target_branch_id`` would leave
        it, plus ``conflicts``, ``overridden_fields`` and ``source_identical_to_target``.

        Calls ``GET /v1/convai/agents/{agent_id}/branches/{source_branch_id}/merge-preview``
        with query ``target_branch_id``. Raises :class:`NotFoundError`.
        """
        path_params = {"agent_id": agent_id, "source_branch_id": source_branch_id}
        params = {"target_branch_id": target_branch_id}
        return self._object(
            "GET", _SOURCE + "/merge-preview", path_params=path_params, params=params
        )

    def merge_branch(
        self,
        agent_id: str,
        source_branch_id: str,
        target_branch_id: str,
        *,
        archive_source_branch: bool = True,
        force: bool = False,
    ) -> Any:
        """Merge ``source_branch_id`` into ``target_branch_id``; return the API's answer as is.

        The API settles a field both sides changed by timestamp (the later commit wins);
        ``force`` makes the source win. Calls
        ``POST /v1/convai/agents/{agent_id}/branches/{source_branch_id}/merge`` with query
        ``target_branch_id``. Raises :class:`PermissionDeniedError` (403) when the target is
        protected and the key is not an admin, :class:`RequestValidationError` (422) e.g. when
        the source equals the target (the API may also answer 200 and commit nothing),
        :class:`NotFoundError`, or another :class:`ApiError`.
        """
        path_params = {"agent_id": agent_id, "source_branch_id": source_branch_id}
        body = {"archive_source_branch": archive_source_branch, "force": force}
        return self.request(
            "POST",
            _SOURCE + "/merge",
            path_params=path_params,
            params={"target_branch_id": target_branch_id},
            json=body,
        )

    def deploy_traffic(self, agent_id: str, shares: Mapping[str, float]) -> dict[str, float]:
        """Split live traffic between branches: ``shares`` maps a branch id to its percentage
        (0-100; the shares must total 100, main included). Returns the API's
        ``traffic_percentage_branch_id_map`` (branch id -> percentage).

        Calls ``POST /v1/convai/agents/{agent_id}/deployments`` with ``{"deployment_request":
        {"requests": [{"branch_id", "deployment_strategy": {"type": "percentage",
        "traffic_percentage"}}]}}``. Raises :class:`RequestValidationError` (422) when the
        shares do not total 100, :class:`NotFoundError`, or another :class:`ApiError`.
        """
        requests = [
            {
                "branch_id": branch_id,
                "deployment_strategy": {"type": "percentage", "traffic_percentage": share},
            }
            for branch_id, share in shares.items()
        ]
        body = {"deployment_request": {"requests": requests}}
        answer = self._object("POST", _DEPLOYMENTS, path_params={"agent_id": agent_id}, json=body)
        split = answer.get("traffic_percentage_branch_id_map") or {}
        return {str(key): float(value) for key, value in split.items()}

    def traffic_shares(self, agent_id: str) -> dict[str, float]:
        """Each unarchived branch's ``current_live_percentage`` (0-100), branch id -> share;
        main holds 100 unless a split is deployed.

        Calls ``GET /v1/convai/agents/{agent_id}/branches``. Raises :class:`NotFoundError`.
        """
        return {
            str(branch["id"]): float(branch.get("current_live_percentage") or 0)
            for branch in self.list_branches(agent_id)
        }
