"""Tests (``/v1/convai/agent-testing``): stored request bodies and their response shapes.

A test keeps the body it was created or last updated with; ``type`` is taken from the body
(``llm`` when absent, its schema default) and, on update without ``type``, kept from before.
"""

from __future__ import annotations

from typing import Any, cast

from convai_ops.emulator.core import ACCESS_INFO, Emulator
from convai_ops.emulator.problems import InvalidRequest, not_found
from convai_ops.emulator.schema import prune
from convai_ops.emulator.store import Test, TestType

__all__ = [
    "check_tool_reference",
    "create_test",
    "response_of",
    "run_info_of",
    "summary_of",
    "update_test",
]

_SCHEMAS: dict[str, tuple[str, str, str, str]] = {  # create, update, get, run's test_info
    "llm": (
        "CreateResponseUnitTestRequest",
        "UpdateResponseUnitTestRequest",
        "GetResponseUnitTestResponseModel",
        "ResponseUnitTestModel",
    ),
    "tool": (
        "CreateToolCallUnitTestRequest",
        "UpdateToolCallUnitTestRequest",
        "GetToolCallUnitTestResponseModel",
        "ToolCallUnitTestModel",
    ),
    "simulation": (
        "CreateSimulationTestRequest",
        "UpdateSimulationTestRequest",
        "GetSimulationTestResponseModel",
        "SimulationTestModel",
    ),
}


def create_test(emu: Emulator, body: dict[str, Any]) -> Test:
    """Store a test from a ``Create*TestRequest`` body; 422 for a ``referenced_tool.id`` that
    is no tool of the workspace (:func:`check_tool_reference`)."""
    now = int(emu.now())
    kind = cast(TestType, body.get("type", "llm"))
    check_tool_reference(emu, body)
    test = Test(
        id=emu.new_id(),
        name=body["name"],
        type=kind,
        body=prune({**body, "type": kind}, _SCHEMAS[kind][0]),
        created_at=now,
        updated_at=now,
    )
    emu.store.tests[test.id] = test
    return test


def find_test(emu: Emulator, test_id: str) -> Test:
    """Return the test or raise 404 ``test_not_found``."""
    test = emu.store.tests.get(test_id)
    if test is None:
        raise not_found("test", test_id)
    return test


def update_test(emu: Emulator, test: Test, body: dict[str, Any]) -> None:
    """Replace the test's body with an ``Update*TestRequest`` body (422 as on create)."""
    kind = cast(TestType, body.get("type", test.type))
    check_tool_reference(emu, body)
    test.type = kind
    test.name = body["name"]
    test.body = prune({**body, "type": kind}, _SCHEMAS[kind][1])
    test.updated_at = int(emu.now())


def check_tool_reference(emu: Emulator, body: dict[str, Any]) -> None:
    """Raise 422 when ``tool_call_parameters.referenced_tool.id`` is not the id of a workspace
    tool: it is a workspace tool id, and a tool name is not one (BEHAVIOUR.md "Reads and
    writes of agent config"; the stricter reading: refused when written)."""
    expectation = body.get("tool_call_parameters")
    reference = expectation.get("referenced_tool") if isinstance(expectation, dict) else None
    tool_id = reference.get("id") if isinstance(reference, dict) else None
    if tool_id is not None and tool_id not in emu.store.tools:
        raise InvalidRequest.one(
            ["body", "tool_call_parameters", "referenced_tool", "id"],
            f"Tool {tool_id!r} does not exist.",
            "value_error",
        )


def response_of(test: Test) -> dict[str, Any]:
    """``Get{ResponseUnit,ToolCallUnit,Simulation}TestResponseModel`` of ``test``."""
    body = {**test.body, "id": test.id, "name": test.name, "type": test.type}
    return dict(prune(body, _SCHEMAS[test.type][2]))


def run_info_of(test_type: str, body: dict[str, Any]) -> dict[str, Any]:
    """The ``test_info`` of a run (``ResponseUnitTestModel``, ...): the test body's fields."""
    return dict(prune({**body, "type": test_type}, _SCHEMAS[test_type][3]))


def summary_of(test: Test) -> dict[str, Any]:
    """``UnitTestSummaryResponseModel`` of ``test``."""
    return {
        "id": test.id,
        "name": test.name,
        "access_info": dict(ACCESS_INFO),
        "created_at_unix_secs": test.created_at,
        "last_updated_at_unix_secs": test.updated_at,
        "type": test.type,
        "entity_type": "test",
        "folder_parent_id": test.body.get("parent_folder_id"),
        "folder_path": [],
        "children_count": None,
        "conversation_initiation_source": test.body.get("conversation_initiation_source"),
    }
