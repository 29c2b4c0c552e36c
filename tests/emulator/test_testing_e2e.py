"""Tests, test runs and invocations over loopback HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from convai_ops.emulator import EmulatorConfig

from .helpers import (
    BAD_PROMPT,
    GOOD_PROMPT,
    create_agent,
    create_branch,
    create_test,
    prompt_change,
    refund_test,
    run_tests,
    wait_for,
)

TESTS = "/v1/convai/agent-testing"
USER_ASKS = [{"role": "user", "message": "What is your refund policy?", "time_in_call_secs": 0}]


def test_test_crud(client: httpx.Client) -> None:
    test_id = refund_test(client)
    got = client.get(f"{TESTS}/{test_id}").json()
    assert (got["id"], got["type"], got["name"]) == (test_id, "llm", "refund window")
    assert got["chat_history"] == USER_ASKS
    put = client.put(f"{TESTS}/{test_id}", json={"name": "renamed", "success_condition": "x"})
    assert (put.json()["name"], put.json()["type"], put.json()["success_condition"]) == (
        "renamed",
        "llm",
        "x",
    )
    summaries = client.post(f"{TESTS}/summaries", json={"test_ids": [test_id, "nope"]}).json()
    assert list(summaries["tests"]) == [test_id]
    assert client.delete(f"{TESTS}/{test_id}").status_code == 200
    assert client.get(f"{TESTS}/{test_id}").status_code == 404


def test_list_tests_by_type_search_and_pages(client: httpx.Client) -> None:
    create_test(client, name="alpha llm")
    create_test(client, name="beta tool", type="tool")
    create_test(client, name="gamma sim", type="simulation", success_conditions=["x"])
    tools = client.get(TESTS, params={"types": "tool"}).json()["tests"]
    assert [t["name"] for t in tools] == ["beta tool"]
    assert [t["name"] for t in client.get(TESTS, params={"search": "GAMMA"}).json()["tests"]] == [
        "gamma sim"
    ]
    first = client.get(TESTS, params={"page_size": 2}).json()
    second = client.get(TESTS, params={"page_size": 2, "cursor": first["next_cursor"]}).json()
    assert (len(first["tests"]), first["has_more"], len(second["tests"]), second["has_more"]) == (
        2,
        True,
        1,
        False,
    )


def test_create_test_validation(client: httpx.Client) -> None:
    unknown = client.post(f"{TESTS}/create", json={"name": "x", "type": "voice"})
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["loc"] == ["body", "type"]
    nameless = client.post(f"{TESTS}/create", json={"type": "tool"})
    assert nameless.json()["detail"] == [
        {"loc": ["body", "name"], "msg": "'name' is a required property", "type": "missing"}
    ]


def test_runs_start_pending_then_resolve(client: httpx.Client) -> None:
    agent = create_agent(client)
    started = run_tests(client, agent["agent_id"], [refund_test(client)])
    assert [run["status"] for run in started["test_runs"]] == ["pending"]
    assert started["test_runs"][0]["condition_result"] is None
    assert started["version_id"] == agent["version_id"]
    done = wait_for(client, started["id"])
    run = done["test_runs"][0]
    assert run["status"] == "passed"
    assert run["condition_result"]["result"] == "success"
    assert run["condition_result"]["rationale"]["messages"] == ['found "30 days"']
    assert run["agent_responses"] == [
        {
            "role": "agent",
            "message": "Refunds are accepted within 30 days of purchase.",
            "time_in_call_secs": 1,
        }
    ]


def test_branch_with_good_prompt_passes_while_main_fails(client: httpx.Client) -> None:
    agent = create_agent(client, prompt=BAD_PROMPT)
    branch = create_branch(client, agent, "fix", **prompt_change(GOOD_PROMPT))
    test_id = refund_test(client)
    on_branch = run_tests(
        client, agent["agent_id"], [test_id], branch_id=branch["created_branch_id"]
    )
    on_main = run_tests(client, agent["agent_id"], [test_id])
    assert on_branch["branch_id"] == branch["created_branch_id"]
    assert on_branch["version_id"] == branch["created_version_id"]
    client.patch(
        f"/v1/convai/agents/{agent['agent_id']}",
        params={"branch_id": branch["created_branch_id"]},
        json=prompt_change(BAD_PROMPT),
    )
    passed = wait_for(client, on_branch["id"])["test_runs"][0]
    failed = wait_for(client, on_main["id"])["test_runs"][0]
    assert passed["status"] == "passed"  # the config was snapshotted before the bad patch
    assert failed["status"] == "failed"
    assert failed["condition_result"]["rationale"]["messages"] == ['missing "30 days"']
    assert "14 days" in failed["condition_result"]["rationale"]["summary"]


def test_repeat_count_and_result_groups(client: httpx.Client) -> None:
    agent = create_agent(client)
    started = run_tests(client, agent["agent_id"], [refund_test(client)], repeat_count=3)
    assert len(started["test_runs"]) == 3
    assert started["bucketing_status"] == "pending"
    done = wait_for(client, started["id"])
    assert done["bucketing_status"] == "completed"
    [group] = done["result_groups"]
    assert [(b["status"], len(b["test_run_ids"])) for b in group["buckets"]] == [("passed", 3)]


class TestNondeterminism:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return EmulatorConfig(test_delay_s=0.01, nondeterminism=1.0, seed=7)

    def test_second_best_reply_only_with_temperature(self, client: httpx.Client) -> None:
        test_id = refund_test(client)
        cold = create_agent(client)
        warm_body = {"agent": {"prompt": {"prompt": GOOD_PROMPT, "temperature": 0.7}}}
        warm = create_agent(client, conversation_config=warm_body)
        cold_run = wait_for(client, run_tests(client, cold["agent_id"], [test_id])["id"])
        warm_run = wait_for(client, run_tests(client, warm["agent_id"], [test_id])["id"])
        assert cold_run["test_runs"][0]["status"] == "passed"
        assert warm_run["test_runs"][0]["status"] == "failed"
        assert warm_run["test_runs"][0]["agent_responses"][0]["message"].startswith("I'm sorry")


def test_invocation_list_and_resubmit(client: httpx.Client) -> None:
    agent = create_agent(client, prompt=BAD_PROMPT)
    other = create_agent(client)
    test_id = refund_test(client)
    started = run_tests(client, agent["agent_id"], [test_id])
    run_tests(client, other["agent_id"], [test_id])
    listed = client.get(
        "/v1/convai/test-invocations", params={"agent_id": agent["agent_id"]}
    ).json()
    assert [item["id"] for item in listed["results"]] == [started["id"]]
    assert listed["results"][0]["title"] == "refund window"
    failed = wait_for(client, started["id"])["test_runs"][0]
    assert failed["status"] == "failed"
    client.patch(f"/v1/convai/agents/{agent['agent_id']}", json=prompt_change(GOOD_PROMPT))
    body = {"test_run_ids": [failed["test_run_id"]], "agent_id": agent["agent_id"]}
    again = client.post(f"/v1/convai/test-invocations/{started['id']}/resubmit", json=body)
    assert again.json()["test_runs"][0]["status"] == "pending"
    rerun = wait_for(client, started["id"])["test_runs"][0]
    assert (rerun["test_run_id"], rerun["status"]) == (failed["test_run_id"], "passed")
    summary = client.get("/v1/convai/test-invocations").json()["results"]
    mine = next(item for item in summary if item["id"] == started["id"])
    assert (mine["passed_count"], mine["failed_count"], mine["runs_diverged_from_version"]) == (
        1,
        0,
        True,
    )


def test_simulation_test(client: httpx.Client) -> None:
    agent = create_agent(
        client,
        conversation_config={
            "agent": {"first_message": "Welcome to Acme Bikes!", "prompt": {"prompt": GOOD_PROMPT}}
        },
    )
    scenario = "I want a refund. Which days is the shop open?"
    passing = create_test(
        client,
        name="sim ok",
        type="simulation",
        simulation_scenario=scenario,
        success_conditions=['says "30 days"', 'mentions "Monday to Friday"'],
    )
    failing = create_test(
        client,
        name="sim bad",
        type="simulation",
        simulation_scenario=scenario,
        simulation_max_turns=1,
        success_condition='says "Monday"',
    )
    done = wait_for(client, run_tests(client, agent["agent_id"], [passing, failing])["id"])
    ok, bad = done["test_runs"]
    assert [e["role"] for e in ok["agent_responses"]] == ["agent", "user", "agent", "user", "agent"]
    assert ok["agent_responses"][0]["message"] == "Welcome to Acme Bikes!"
    assert (ok["status"], bad["status"]) == ("passed", "failed")
    assert bad["condition_result"]["rationale"]["summary"].startswith("Failure: 1 of 1")


def test_tool_test_and_knowledge_base(client: httpx.Client) -> None:
    tool = client.post(
        "/v1/convai/tools",
        json={
            "tool_config": {
                "type": "client",
                "name": "lookup_order",
                "description": "Find an order by id",
                "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}},
            }
        },
    ).json()
    doc = client.post(
        "/v1/convai/knowledge-base/text",
        json={"name": "warranty", "text": "Every bike has a warranty of 2 years."},
    ).json()
    prompt: dict[str, Any] = {
        "prompt": "Help riders. Call lookup_order for order questions.",
        "tool_ids": [tool["id"]],
        "knowledge_base": [{"type": "text", "name": "warranty", "id": doc["id"]}],
    }
    agent = create_agent(client, conversation_config={"agent": {"prompt": prompt}})
    tool_test = create_test(
        client,
        name="order lookup",
        type="tool",
        chat_history=[{"role": "user", "message": "Where is order 8812?", "time_in_call_secs": 0}],
        tool_call_parameters={
            "referenced_tool": {"id": tool["id"], "type": "client"},
            "parameters": [
                {"path": "order_id", "eval": {"type": "exact", "expected_value": "8812"}}
            ],
        },
    )
    kb_test = create_test(
        client,
        name="warranty",
        success_condition='"2 years"',
        chat_history=[
            {"role": "user", "message": "How long is the warranty?", "time_in_call_secs": 0}
        ],
    )
    done = wait_for(client, run_tests(client, agent["agent_id"], [tool_test, kb_test])["id"])
    tool_run, kb_run = done["test_runs"]
    assert tool_run["status"] == "passed", tool_run["condition_result"]
    assert tool_run["agent_responses"][0]["tool_calls"][0]["params_as_json"] == (
        '{"order_id": "8812"}'
    )
    assert kb_run["agent_responses"][0]["message"] == "Every bike has a warranty of 2 years."
    assert kb_run["status"] == "passed"


def test_unknown_test_or_branch_is_404(client: httpx.Client) -> None:
    agent = create_agent(client)
    missing = client.post(
        f"/v1/convai/agents/{agent['agent_id']}/run-tests", json={"tests": [{"test_id": "nope"}]}
    )
    assert missing.status_code == 404
    no_branch = client.post(
        f"/v1/convai/agents/{agent['agent_id']}/run-tests",
        json={"tests": [{"test_id": refund_test(client)}], "branch_id": "agtbrch_nope"},
    )
    assert no_branch.json()["detail"]["status"] == "branch_not_found"
