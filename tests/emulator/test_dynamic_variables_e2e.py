"""The emulated agent fills ``{{name}}`` from the test's (or simulation's) dynamic variables,
else from the agent's placeholders, and leaves an unknown name literal, over loopback HTTP."""

from __future__ import annotations

from typing import Any

import httpx

from .helpers import GOOD_PROMPT, create_agent, create_test, run_tests, wait_for

GREETING = "Hi {{customer_name}}, welcome to Acme Bikes!"
SCENARIO = "Which days is the shop open?"


def _agent(client: httpx.Client, placeholders: dict[str, Any] | None) -> str:
    agent: dict[str, Any] = {"first_message": GREETING, "prompt": {"prompt": GOOD_PROMPT}}
    if placeholders is not None:
        agent["dynamic_variables"] = {"dynamic_variable_placeholders": placeholders}
    return str(create_agent(client, conversation_config={"agent": agent})["agent_id"])


def _greeting_test(client: httpx.Client, name: str, **extra: Any) -> str:
    return create_test(
        client,
        name=name,
        type="simulation",
        simulation_scenario=SCENARIO,
        simulation_max_turns=1,
        success_conditions=['The agent greets "Hi Sam"'],
        **extra,
    )


def _runs(client: httpx.Client, agent_id: str, tests: list[str]) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = wait_for(client, run_tests(client, agent_id, tests)["id"])[
        "test_runs"
    ]
    return runs


def test_the_tests_variable_wins_over_the_placeholder(client: httpx.Client) -> None:
    agent_id = _agent(client, {"customer_name": "there"})
    with_var = _greeting_test(client, "with", dynamic_variables={"customer_name": "Sam"})
    without = _greeting_test(client, "without")

    ok, bad = _runs(client, agent_id, [with_var, without])

    assert ok["agent_responses"][0]["message"] == "Hi Sam, welcome to Acme Bikes!"
    assert bad["agent_responses"][0]["message"] == "Hi there, welcome to Acme Bikes!"
    assert (ok["status"], bad["status"]) == ("passed", "failed")


def test_a_name_without_value_or_placeholder_stays_literal(client: httpx.Client) -> None:
    agent_id = _agent(client, None)
    test_id = _greeting_test(client, "unset", dynamic_variables={"other": "x"})

    (run,) = _runs(client, agent_id, [test_id])

    assert run["agent_responses"][0]["message"] == GREETING
    assert run["status"] == "failed"


def test_simulate_conversation_fills_its_dynamic_variables(client: httpx.Client) -> None:
    agent_id = _agent(client, {"customer_name": "there"})
    spec = {"simulated_user_config": {"prompt": {"prompt": SCENARIO}}}
    url = f"/v1/convai/agents/{agent_id}/simulate-conversation"

    filled = client.post(
        url,
        json={"simulation_specification": {**spec, "dynamic_variables": {"customer_name": "Sam"}}},
    )
    default = client.post(url, json={"simulation_specification": spec})

    assert filled.status_code == default.status_code == 200, filled.text
    assert filled.json()["simulated_conversation"][0]["message"].startswith("Hi Sam,")
    assert default.json()["simulated_conversation"][0]["message"].startswith("Hi there,")
