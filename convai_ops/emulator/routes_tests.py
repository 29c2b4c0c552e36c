"""Test routes: ``/v1/convai/agent-testing/create``, ``/v1/convai/agent-testing`` (list),
``/v1/convai/agent-testing/{test_id}`` (GET, PUT, DELETE) and
``/v1/convai/agent-testing/summaries``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from convai_ops.emulator import agent_tests
from convai_ops.emulator.http import Body, Emu, page

__all__ = ["router"]

router = APIRouter()
TestKind = Literal["llm", "tool", "simulation", "folder"]


@router.post("/v1/convai/agent-testing/create")
def create_agent_response_test_route(emu: Emu, body: Body) -> dict[str, Any]:
    """``CreateAgentTestResponseModel`` ``{"id"}``."""
    with emu.lock:
        test = agent_tests.create_test(emu, body)
    return {"id": test.id}


@router.get("/v1/convai/agent-testing")
def list_chat_response_tests_route(
    emu: Emu,
    cursor: str | None = None,
    page_size: Annotated[int, Query(ge=1, le=100)] = 30,
    search: str | None = None,
    types: Annotated[list[TestKind] | None, Query()] = None,
) -> dict[str, Any]:
    """``GetTestsPageResponseModel``: tests in creation order, name search (substring, any
    case), ``types`` filter, cursor pages. Folders are not emulated."""
    with emu.lock:
        chosen = [
            agent_tests.summary_of(test)
            for test in emu.store.tests.values()
            if (not search or search.lower() in test.name.lower())
            and (not types or test.type in types)
        ]
    items, next_cursor, has_more = page(chosen, cursor, page_size)
    return {"tests": items, "next_cursor": next_cursor, "has_more": has_more}


@router.post("/v1/convai/agent-testing/summaries")
def get_agent_response_tests_summaries_route(emu: Emu, body: Body) -> dict[str, Any]:
    """``GetTestsSummariesByIdsResponseModel`` ``{"tests": {id: summary}}``; unknown ids are
    left out."""
    with emu.lock:
        found = {
            test_id: agent_tests.summary_of(emu.store.tests[test_id])
            for test_id in body["test_ids"]
            if test_id in emu.store.tests
        }
    return {"tests": found}


@router.get("/v1/convai/agent-testing/{test_id}")
def get_agent_response_test_route(test_id: str, emu: Emu) -> dict[str, Any]:
    """The test (``Get*TestResponseModel`` by ``type``)."""
    with emu.lock:
        return agent_tests.response_of(agent_tests.find_test(emu, test_id))


@router.put("/v1/convai/agent-testing/{test_id}")
def update_agent_response_test_route(test_id: str, emu: Emu, body: Body) -> dict[str, Any]:
    """Replace the test; answers it (``Get*TestResponseModel``)."""
    with emu.lock:
        test = agent_tests.find_test(emu, test_id)
        agent_tests.update_test(emu, test, body)
        return agent_tests.response_of(test)


@router.delete("/v1/convai/agent-testing/{test_id}")
def delete_chat_response_test_route(test_id: str, emu: Emu) -> dict[str, Any]:
    """Delete the test; answers ``{}``."""
    with emu.lock:
        del emu.store.tests[agent_tests.find_test(emu, test_id).id]
    return {}
