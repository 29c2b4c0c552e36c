"""Test-run routes: ``/v1/convai/agents/{agent_id}/run-tests``,
``/v1/convai/test-invocations`` (list), ``/v1/convai/test-invocations/{test_invocation_id}``
and ``.../resubmit``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from convai_ops.emulator import invocations
from convai_ops.emulator.agents import find_agent
from convai_ops.emulator.core import Emulator
from convai_ops.emulator.http import Body, Emu, page
from convai_ops.emulator.problems import not_found
from convai_ops.emulator.store import Invocation
from convai_ops.emulator.views_invocations import invocation_response, invocation_summary

__all__ = ["router"]

router = APIRouter()


def _find_invocation(emu: Emulator, invocation_id: str) -> Invocation:
    invocation = emu.store.invocations.get(invocation_id)
    if invocation is None:
        raise not_found("test invocation", invocation_id)
    return invocation


@router.post("/v1/convai/agents/{agent_id}/run-tests")
def run_agent_test_suite_route(agent_id: str, emu: Emu, body: Body) -> dict[str, Any]:
    """Start the tests on ``branch_id`` (default main); answers
    ``GetTestSuiteInvocationResponseModel`` with every run ``pending``."""
    with emu.lock:
        invocation = invocations.start_invocation(emu, find_agent(emu, agent_id), body)
        return invocation_response(emu, invocation)


@router.get("/v1/convai/test-invocations")
def list_test_invocations_route(
    emu: Emu,
    agent_id: str | None = None,
    page_size: Annotated[int, Query(ge=1, le=100)] = 30,
    search: str | None = None,
    cursor: str | None = None,
) -> dict[str, Any]:
    """``GetTestInvocationsPageResponseModel``: newest first, ``agent_id`` filter, title
    search (substring, any case), cursor pages."""
    with emu.lock:
        chosen = [
            invocation_summary(emu, invocation)
            for invocation in reversed(emu.store.invocations.values())
            if (agent_id is None or invocation.agent_id == agent_id)
            and (not search or search.lower() in invocation.title.lower())
        ]
    items, next_cursor, has_more = page(chosen, cursor, page_size)
    meta = {"total": len(chosen), "page": None, "page_size": page_size}
    return {"meta": meta, "results": items, "next_cursor": next_cursor, "has_more": has_more}


@router.get("/v1/convai/test-invocations/{test_invocation_id}")
def get_test_invocation_route(test_invocation_id: str, emu: Emu) -> dict[str, Any]:
    """``GetTestSuiteInvocationResponseModel``: runs resolve once ``test_delay_s`` passed."""
    with emu.lock:
        return invocation_response(emu, _find_invocation(emu, test_invocation_id))


@router.post("/v1/convai/test-invocations/{test_invocation_id}/resubmit")
def resubmit_tests_route(test_invocation_id: str, emu: Emu, body: Body) -> dict[str, Any]:
    """Re-run the given runs (pending again); answers the invocation
    (``GetTestSuiteInvocationResponseModel``; the document gives no schema)."""
    with emu.lock:
        invocation = _find_invocation(emu, test_invocation_id)
        invocations.resubmit(emu, invocation, body)
        return invocation_response(emu, invocation)
