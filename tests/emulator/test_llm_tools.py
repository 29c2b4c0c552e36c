"""Tool choice, parameter filling and the tool-test judge."""

from __future__ import annotations

from typing import Any

from convai_ops.emulator.llm_tools import (
    Parameter,
    ToolCall,
    ToolSpec,
    choose_tool,
    evaluate_tool_call,
    fill_parameters,
)

LOOKUP_CONFIG: dict[str, Any] = {
    "type": "client",
    "name": "lookup_order",
    "description": "Look up the status of an order",
    "parameters": {
        "type": "object",
        "properties": {
            "order_id": {"type": "string", "description": "order id"},
            "quantity": {"type": "integer", "description": "how many"},
            "customer": {"type": "object", "properties": {"note": {"type": "string"}}},
            "items": {"type": "array"},
        },
    },
}
LOOKUP = ToolSpec.from_config("tool_1", LOOKUP_CONFIG)
WEATHER = ToolSpec.from_config(
    "tool_2",
    {
        "type": "webhook",
        "name": "getWeather",
        "description": "Weather forecast for a city",
        "api_schema": {
            "url": "https://example.com/{region}",
            "path_params_schema": {"region": {"type": "string", "enum": ["north", "south"]}},
            "query_params_schema": {"properties": {"metric": {"type": "boolean"}}},
        },
    },
)
PROMPT = "Use lookup_order for orders and getWeather for the weather."


def test_parameters_are_read_from_client_and_webhook_schemas() -> None:
    assert [p.path for p in LOOKUP.parameters] == ["order_id", "quantity", "customer.note"]
    assert [(p.path, p.type) for p in WEATHER.parameters] == [
        ("region", "string"),
        ("metric", "boolean"),
    ]


def test_choose_tool_by_shared_words() -> None:
    call = choose_tool(PROMPT, [LOOKUP, WEATHER], "What is the status of order A-1234, 2 of them?")
    assert call is not None
    assert call.tool.name == "lookup_order"
    assert call.params == {
        "order_id": "A-1234",
        "quantity": 1234,
        "customer": {"note": "What is the status of order A-1234, 2 of them?"},
    }
    weather = choose_tool(PROMPT, [LOOKUP, WEATHER], "Weather in the south please")
    assert weather is not None
    assert weather.params == {"region": "south", "metric": True}


def test_tool_needs_a_mention_in_the_prompt_and_a_shared_word() -> None:
    assert choose_tool("Be nice.", [LOOKUP], "status of my order 12") is None
    assert choose_tool(PROMPT, [LOOKUP], "hello there") is None


def test_fill_parameters_constant_and_missing_values() -> None:
    tool = ToolSpec(
        "t",
        "t",
        parameters=(
            Parameter("fixed", constant="always"),
            Parameter("count", "number"),
            Parameter("user_id"),
            Parameter("ratio", "number"),
        ),
    )
    assert fill_parameters(tool, "no digits here") == {"fixed": "always"}
    assert fill_parameters(tool, "user u7 wants 2.5") == {
        "fixed": "always",
        "count": 2.5,
        "user_id": "u7",
        "ratio": 2.5,
    }


def expect(*checks: dict[str, Any], tool: str = "tool_1", **extra: Any) -> dict[str, Any]:
    return {"referenced_tool": {"id": tool, "type": "client"}, "parameters": list(checks), **extra}


CALL = ToolCall(LOOKUP, {"order_id": "A-1234", "quantity": 2})


def test_exact_regex_llm_and_anything() -> None:
    verdict = evaluate_tool_call(
        expect(
            {"path": "order_id", "eval": {"type": "exact", "expected_value": "A-1234"}},
            {"path": "quantity", "eval": {"type": "regex", "pattern": "^[0-9]+$"}},
            {"path": "order_id", "eval": {"type": "llm", "description": 'contains "A-1234"'}},
            {"path": "quantity", "eval": {"type": "anything"}},
        ),
        [CALL],
    )
    assert verdict.success, verdict


def test_wrong_value_and_missing_parameter_fail() -> None:
    verdict = evaluate_tool_call(
        expect(
            {"path": "order_id", "eval": {"type": "exact", "expected_value": "B-1"}},
            {"path": "customer.note", "eval": {"type": "anything"}},
        ),
        [CALL],
    )
    assert not verdict.success
    assert verdict.messages == ("order_id: 'A-1234' differs from 'B-1'", "customer.note: missing")


def test_wrong_tool_and_no_call_fail() -> None:
    assert not evaluate_tool_call(expect(tool="tool_2"), [CALL]).success
    assert not evaluate_tool_call(expect(), []).success


def test_verify_absence() -> None:
    assert evaluate_tool_call(expect(verify_absence=True), []).success
    assert not evaluate_tool_call(expect(verify_absence=True), [CALL]).success


def test_several_calls_fail_unless_any_may_match() -> None:
    other = ToolCall(WEATHER, {})
    assert not evaluate_tool_call(expect(), [CALL, other]).success
    assert evaluate_tool_call(expect(), [CALL, other], check_any=True).success


def test_no_expectation_is_not_evaluated() -> None:
    assert evaluate_tool_call(None, []).success


def test_a_copy_of_the_same_name_under_another_id_does_not_match() -> None:
    old_copy = ToolSpec.from_config("tool_old", {**LOOKUP_CONFIG, "name": "lookup_order"})
    assert not evaluate_tool_call(expect(tool="tool_old"), [CALL]).success
    assert evaluate_tool_call(expect(tool="tool_old"), [ToolCall(old_copy, {})]).success
    assert not evaluate_tool_call(expect(tool="lookup_order"), [CALL]).success
