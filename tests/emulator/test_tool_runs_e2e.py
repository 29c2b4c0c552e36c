"""Tool calls during simulation test runs over loopback HTTP: without mocks a webhook is called
for real (request log and transcript), a client tool fails the run, and mocks answer instead."""

from __future__ import annotations

import json
from typing import Any

import httpx

from convai_ops.emulator import EmulatorServer

from .helpers import create_agent, create_test, run_tests, wait_for

WEBHOOK_URL = "https://orders.example.com/lookup"
SCENARIO = "Where is my order A-77?"


def webhook_tool(client: httpx.Client, **extra: Any) -> str:
    config = {
        "type": "webhook",
        "name": "lookup_order",
        "description": "Find an order by id",
        "api_schema": {
            "url": WEBHOOK_URL,
            "method": "POST",
            "request_body_schema": {
                "type": "object",
                "properties": {"order_id": {"type": "string", "description": "the order"}},
            },
        },
    }
    response = client.post("/v1/convai/tools", json={"tool_config": config, **extra})
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def client_tool(client: httpx.Client) -> str:
    config = {
        "type": "client",
        "name": "lookup_order",
        "description": "Find an order by id",
        "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}},
    }
    response = client.post("/v1/convai/tools", json={"tool_config": config})
    return str(response.json()["id"])


def run_simulation(client: httpx.Client, tool_id: str, **test: Any) -> dict[str, Any]:
    prompt = {
        "prompt": "Help riders. Call lookup_order for order questions.",
        "tool_ids": [tool_id],
    }
    agent = create_agent(client, conversation_config={"agent": {"prompt": prompt}})
    test_id = create_test(
        client,
        name="order",
        type="simulation",
        simulation_scenario=SCENARIO,
        success_conditions=['The agent talks about the "order"'],
        **test,
    )
    done = wait_for(client, run_tests(client, agent["agent_id"], [test_id])["id"])
    run: dict[str, Any] = done["test_runs"][0]
    return run


def tool_entries(run: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    calls = [call for m in run["agent_responses"] for call in m.get("tool_calls") or []]
    results = [result for m in run["agent_responses"] for result in m.get("tool_results") or []]
    assert len(calls) == len(results) == 1, run["agent_responses"]
    return calls[0], results[0]


def outbound(server: EmulatorServer) -> list[Any]:
    return [entry for entry in server.emulator.request_log if entry.outbound]


def test_unmocked_webhook_is_called_for_real(client: httpx.Client, server: EmulatorServer) -> None:
    run = run_simulation(client, webhook_tool(client))
    call, result = tool_entries(run)
    assert call["tool_has_been_called"] and result["tool_has_been_called"]
    assert (call["tool_details"]["method"], call["tool_details"]["url"]) == ("POST", WEBHOOK_URL)
    (entry,) = outbound(server)
    assert (entry.method, entry.path, entry.body) == ("POST", WEBHOOK_URL, {"order_id": "A-77"})
    assert run["status"] == "passed"


def test_mocking_all_answers_from_the_mock_and_calls_nothing(
    client: httpx.Client, server: EmulatorServer
) -> None:
    mocks = [{"mock_result": "shipped yesterday", "parameter_conditions": []}]
    tool_id = webhook_tool(client, response_mocks=mocks)
    run = run_simulation(client, tool_id, tool_mock_config={"mocking_strategy": "all"})
    call, result = tool_entries(run)
    assert not call["tool_has_been_called"] and "tool_details" not in call
    assert (result["result_value"], result["is_error"]) == ("shipped yesterday", False)
    assert outbound(server) == []


def test_selected_mock_override_and_raise_error_fallback(
    client: httpx.Client, server: EmulatorServer
) -> None:
    tool_id = webhook_tool(client)
    config = {"mocking_strategy": "selected", "mocked_tool_ids": [tool_id]}
    no_mock = run_simulation(client, tool_id, tool_mock_config=config)
    _, result = tool_entries(no_mock)
    assert result["is_error"] and result["error_type"] == "mock_not_found"
    overrides = {tool_id: [{"mock_result": json.dumps({"status": "lost"})}]}
    mocked = run_simulation(client, tool_id, tool_mock_config=config, tool_mock_overrides=overrides)
    assert tool_entries(mocked)[1]["result_value"] == '{"status": "lost"}'
    assert outbound(server) == []


def test_call_real_tool_fallback_calls_the_webhook(
    client: httpx.Client, server: EmulatorServer
) -> None:
    config = {"mocking_strategy": "all", "fallback_strategy": "call_real_tool"}
    run_simulation(client, webhook_tool(client), tool_mock_config=config)
    assert [entry.path for entry in outbound(server)] == [WEBHOOK_URL]


def test_unmocked_client_tool_fails_the_run(client: httpx.Client) -> None:
    tool_id = client_tool(client)
    run = run_simulation(client, tool_id)
    assert run["status"] == "failed"
    assert "client tool 'lookup_order'" in run["condition_result"]["rationale"]["summary"]
    mocked = run_simulation(client, tool_id, tool_mock_config={"mocking_strategy": "all"})
    assert mocked["status"] == "passed"
