"""The emulator's simulate-conversation endpoints over loopback HTTP: the same deterministic
agent as simulation tests, history, tool mocks, criteria, turn limits, the stream and shapes."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from convai_ops.emulator.schema import component_ref, validator
from tests.conversations.conftest import create_agent

PROMPT = (
    "You are the support agent for Acme Bikes.\n"
    "Refunds are accepted within 30 days of purchase.\n"
    "Orders ship within 2 business days.\n"
    "Use lookup_order to find an order."
)
LOOKUP = {
    "type": "client",
    "name": "lookup_order",
    "description": "Find an order by its id",
    "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}},
}
SCENARIO = "Can I get a refund? Where is my order A-77?"


def simulate(http: httpx.Client, agent_id: str, **body: Any) -> dict[str, Any]:
    response = http.post(f"/v1/convai/agents/{agent_id}/simulate-conversation", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def spec(scenario: str = SCENARIO, **extra: Any) -> dict[str, Any]:
    return {"simulated_user_config": {"prompt": {"prompt": scenario}}, **extra}


def said(transcript: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    return [(m["role"], m["message"]) for m in transcript if m["message"]]


def test_same_conversation_as_a_simulation_test(http: httpx.Client) -> None:
    agent_id = create_agent(http, "bikes", PROMPT)
    answer = simulate(http, agent_id, simulation_specification=spec())
    test = {
        "name": "t",
        "type": "simulation",
        "simulation_scenario": SCENARIO,
        "success_conditions": ["anything"],
    }
    test_id = http.post("/v1/convai/agent-testing/create", json=test).json()["id"]
    started = http.post(
        f"/v1/convai/agents/{agent_id}/run-tests", json={"tests": [{"test_id": test_id}]}
    ).json()
    time.sleep(0.1)
    run = http.get(f"/v1/convai/test-invocations/{started['id']}").json()["test_runs"][0]
    assert said(answer["simulated_conversation"]) == said(run["agent_responses"])
    assert said(answer["simulated_conversation"]) == [
        ("agent", "Hello, this is the agent."),
        ("user", "Can I get a refund?"),
        ("agent", "Refunds are accepted within 30 days of purchase."),
        ("user", "Where is my order A-77?"),
        ("agent", "Orders ship within 2 business days."),
    ]


def test_first_message_history_and_turn_limit(http: httpx.Client) -> None:
    agent_id = create_agent(http, "bikes", PROMPT)
    history = [
        {"role": "agent", "message": "Hi!", "time_in_call_secs": 0},
        {"role": "user", "message": "Hello.", "time_in_call_secs": 4},
    ]
    user = {"first_message": "Do you ship fast?", "prompt": {"prompt": SCENARIO}}
    body = {"simulated_user_config": user, "partial_conversation_history": history}
    answer = simulate(http, agent_id, simulation_specification=body, new_turns_limit=2)
    transcript = answer["simulated_conversation"]
    assert said(transcript) == [
        ("user", "Do you ship fast?"),
        ("agent", "Orders ship within 2 business days."),
        ("user", "Can I get a refund?"),
        ("agent", "Refunds are accepted within 30 days of purchase."),
    ]
    assert [m["time_in_call_secs"] for m in transcript] == [5, 6, 7, 8]


def test_tool_calls_use_the_mock_or_say_they_did_not_run(http: httpx.Client) -> None:
    agent_id = create_agent(
        http, "bikes", PROMPT, agent={"prompt": {"prompt": PROMPT, "tools": [LOOKUP]}}
    )
    mocked = spec(tool_mock_config={"lookup_order": {"default_return_value": "shipped"}})
    calls = _tool_messages(simulate(http, agent_id, simulation_specification=mocked))
    assert calls[0]["tool_calls"][0]["params_as_json"] == json.dumps({"order_id": "A-77"})
    result = calls[1]["tool_results"][0]
    assert (result["result_value"], result["is_error"], result["tool_has_been_called"]) == (
        "shipped",
        False,
        True,
    )
    unmocked = _tool_messages(simulate(http, agent_id, simulation_specification=spec()))
    result = unmocked[1]["tool_results"][0]
    assert result["is_error"] and not result["tool_has_been_called"]
    assert "not mocked" in result["raw_error_message"]


def _tool_messages(answer: dict[str, Any]) -> list[dict[str, Any]]:
    found = [m for m in answer["simulated_conversation"] if m["tool_calls"] or m["tool_results"]]
    assert len(found) == 2, found
    return found


def test_agent_and_extra_criteria_are_judged(http: httpx.Client) -> None:
    criteria = [{"id": "refund", "name": "refund", "conversation_goal_prompt": 'Says "30 days"'}]
    agent_id = create_agent(
        http, "bikes", PROMPT, platform_settings={"evaluation": {"criteria": criteria}}
    )
    extra = [{"id": "hours", "name": "hours", "conversation_goal_prompt": 'Says "9am"'}]
    answer = simulate(
        http, agent_id, simulation_specification=spec(), extra_evaluation_criteria=extra
    )
    results = answer["analysis"]["evaluation_criteria_results"]
    assert results["refund"]["result"] == "success"
    assert (
        results["hours"]["result"] == "failure" and 'lacks "9am"' in results["hours"]["rationale"]
    )
    assert answer["analysis"]["call_successful"] == "failure"
    plain = simulate(http, create_agent(http, "plain", PROMPT), simulation_specification=spec())
    assert plain["analysis"]["call_successful"] == "unknown"


def test_stream_sends_one_line_per_turn_then_the_analysis(http: httpx.Client) -> None:
    agent_id = create_agent(http, "bikes", PROMPT)
    body = {"simulation_specification": spec()}
    whole = simulate(http, agent_id, **body)
    url = f"/v1/convai/agents/{agent_id}/simulate-conversation/stream"
    with http.stream("POST", url, json=body) as response:
        assert response.status_code == 200
        lines = [json.loads(line) for line in response.iter_lines() if line]
    *turns, final = lines
    assert [len(turn) for turn in turns] == [1, 2, 2]
    assert [m for turn in turns for m in turn] == whole["simulated_conversation"]
    assert final == {"analysis": whole["analysis"]}
    message_check = validator(
        component_ref("ConversationHistoryTranscriptResponseModel"), strict=True
    )
    analysis_check = validator(component_ref("ConversationHistoryAnalysisCommonModel"), strict=True)
    for message in (m for turn in turns for m in turn):
        assert list(message_check.iter_errors(message)) == []
    assert list(analysis_check.iter_errors(final["analysis"])) == []


def test_unknown_agent_and_bad_body(http: httpx.Client) -> None:
    body = {"simulation_specification": spec()}
    for path in ("simulate-conversation", "simulate-conversation/stream"):
        response = http.post(f"/v1/convai/agents/agent_nope/{path}", json=body)
        assert response.status_code == 404
        assert response.json()["detail"]["status"] == "agent_not_found"
    agent_id = create_agent(http, "bikes", PROMPT)
    response = http.post(f"/v1/convai/agents/{agent_id}/simulate-conversation", json={})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "simulation_specification"]
