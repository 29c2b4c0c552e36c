"""Agent tests (``/v1/convai/agent-testing``), test runs and test invocations."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .base import BaseClient
from .routing import compact

__all__ = ["AgentTestsMixin"]

_TESTS = "/v1/convai/agent-testing"
_TEST = _TESTS + "/{test_id}"
_INVOCATIONS = "/v1/convai/test-invocations"
_INVOCATION = _INVOCATIONS + "/{test_invocation_id}"


class AgentTestsMixin(BaseClient):
    """Test and test-invocation calls of :class:`ConvaiClient`."""

    def create_test(self, body: Mapping[str, Any]) -> str:
        """Create a test and return its ``id``.

        ``body`` is a create-test request: ``name``, ``type`` (``llm``, ``tool`` or
        ``simulation``) and that type's fields. Calls ``POST /v1/convai/agent-testing/create``.
        Raises :class:`RequestValidationError` on a rejected body, or another :class:`ApiError`.
        """
        return self._create(_TESTS + "/create", "id", json=body)

    def get_test(self, test_id: str) -> dict[str, Any]:
        """Return a test (``id``, ``name``, ``type`` and that type's fields).

        Calls ``GET /v1/convai/agent-testing/{test_id}``. Raises :class:`NotFoundError`.
        """
        return self._object("GET", _TEST, path_params={"test_id": test_id})

    def update_test(self, test_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Replace a test with ``body`` (a full test request) and return it.

        Calls ``PUT /v1/convai/agent-testing/{test_id}``. Raises :class:`NotFoundError` or
        :class:`RequestValidationError`.
        """
        return self._object("PUT", _TEST, path_params={"test_id": test_id}, json=body)

    def delete_test(self, test_id: str) -> None:
        """Delete a test. Calls ``DELETE /v1/convai/agent-testing/{test_id}``.

        Raises :class:`NotFoundError` when it does not exist.
        """
        self.request("DELETE", _TEST, path_params={"test_id": test_id})

    def iter_tests(
        self, *, search: str | None = None, page_size: int = 100
    ) -> Iterator[dict[str, Any]]:
        """Yield test summaries (``id``, ``name``, ``type``, ...), fetching pages lazily.

        ``search`` filters by name; ``page_size`` is 1-100. Calls
        ``GET /v1/convai/agent-testing`` (cursor pages).
        """
        return self._paginate(_TESTS, "tests", {"search": search, "page_size": page_size})

    def run_tests(
        self,
        agent_id: str,
        test_ids: Sequence[str],
        *,
        branch_id: str | None = None,
        repeat_count: int = 1,
    ) -> dict[str, Any]:
        """Start running ``test_ids`` against the agent (on ``branch_id`` when given), each
        ``repeat_count`` times (1-50); return the invocation (``id``, ``test_runs`` with each
        run's ``test_run_id``, ``test_id`` and ``status`` ``pending``/``passed``/``failed``).

        The runs finish later: poll :meth:`get_test_invocation`. Calls
        ``POST /v1/convai/agents/{agent_id}/run-tests``. Raises :class:`NotFoundError` or
        :class:`RequestValidationError`.
        """
        body = compact(
            tests=[{"test_id": test_id} for test_id in test_ids],
            branch_id=branch_id,
            repeat_count=repeat_count,
        )
        template = "/v1/convai/agents/{agent_id}/run-tests"
        return self._object("POST", template, path_params={"agent_id": agent_id}, json=body)

    def get_test_invocation(self, test_invocation_id: str) -> dict[str, Any]:
        """Return a test invocation as :meth:`run_tests` does, with the runs' current status.

        Calls ``GET /v1/convai/test-invocations/{test_invocation_id}``. Raises
        :class:`NotFoundError`.
        """
        path_params = {"test_invocation_id": test_invocation_id}
        return self._object("GET", _INVOCATION, path_params=path_params)

    def iter_test_invocations(
        self, *, agent_id: str | None = None, page_size: int = 100
    ) -> Iterator[dict[str, Any]]:
        """Yield test invocation summaries (of ``agent_id`` when given), fetching pages lazily.

        Calls ``GET /v1/convai/test-invocations`` (cursor pages; items under ``results``).
        """
        params = {"agent_id": agent_id, "page_size": page_size}
        return self._paginate(_INVOCATIONS, "results", params)

    def resubmit_test_invocation(
        self,
        test_invocation_id: str,
        *,
        test_run_ids: Sequence[str],
        agent_id: str,
        branch_id: str | None = None,
    ) -> Any:
        """Run the given test runs of an invocation again; return the API's answer as is.

        Calls ``POST /v1/convai/test-invocations/{test_invocation_id}/resubmit``. Raises
        :class:`NotFoundError` or :class:`RequestValidationError`.
        """
        body = compact(test_run_ids=list(test_run_ids), agent_id=agent_id, branch_id=branch_id)
        path_params = {"test_invocation_id": test_invocation_id}
        return self.request("POST", _INVOCATION + "/resubmit", path_params=path_params, json=body)
