"""Synthetic live traffic: conversations split between branches as deployed, answered by each
branch's config and judged by the agent's criteria, read back over loopback HTTP."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import httpx
import pytest

from convai_ops.emulator import EmulatorConfig, EmulatorServer, run_in_thread
from convai_ops.emulator.analysis import judge_criterion
from convai_ops.emulator.traffic import generate
from tests.emulator.conftest import API_KEY
from tests.emulator.helpers import create_agent, create_branch, prompt_change
from tests.emulator.test_deployments_e2e import deploy

PROMPT = (
    "You are Ava, the support agent for Acme Outdoor Gear.\n"
    "Refunds are available within 30 days of delivery for unused or faulty items.\n"
    "Delivery takes 3 to 5 business days.\n"
    "Backpacks and jackets carry a 2-year warranty against manufacturing defects."
)
WARRANTY = {
    "id": "warranty_stated",
    "name": "Warranty stated",
    "conversation_goal_prompt": (
        'When the caller asks about the warranty, the agent states the "2-year warranty".'
    ),
}
GREETING = {
    "id": "greeted",
    "name": "Greeted",
    "conversation_goal_prompt": 'The agent greets the caller with "Hi".',
}


def support_agent(client: httpx.Client, prompt: str = PROMPT) -> dict[str, Any]:
    return create_agent(
        client,
        prompt,
        conversation_config={
            "agent": {
                "prompt": {"prompt": prompt},
                "first_message": "Hi {{customer_name}}, this is Ava.",
            }
        },
        platform_settings={"evaluation": {"criteria": [WARRANTY, GREETING]}},
    )


def listed(client: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "page_size": 100, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/convai/conversations", params=query)
        assert page.status_code == 200, page.text
        found += page.json()["conversations"]
        cursor = page.json()["next_cursor"]
        if not page.json()["has_more"]:
            return found


def test_conversations_record_branch_version_transcript_and_analysis(
    server: EmulatorServer, client: httpx.Client
) -> None:
    agent = support_agent(client)
    ids = generate(server.emulator, agent["agent_id"], 12)
    summaries = listed(client, agent_id=agent["agent_id"])
    assert sorted(s["conversation_id"] for s in summaries) == sorted(ids)
    assert {s["branch_id"] for s in summaries} == {agent["main_branch_id"]}
    assert {s["version_id"] for s in summaries} == {agent["version_id"]}
    detail = client.get(f"/v1/convai/conversations/{ids[0]}").json()
    assert detail["branch_id"] == agent["main_branch_id"]
    assert [turn["role"] for turn in detail["transcript"]] == ["agent", "user", "agent"]
    assert detail["transcript"][0]["message"].startswith("Hi ")
    assert detail["transcript"][2]["agent_metadata"]["version_id"] == agent["version_id"]
    analysis = detail["analysis"]
    assert set(analysis["evaluation_criteria_results"]) == {"warranty_stated", "greeted"}
    assert analysis["call_successful"] in ("success", "failure")
    assert detail["metadata"]["start_time_unix_secs"] >= agent["metadata"]["created_at_unix_secs"]


def test_each_conversation_runs_on_the_branch_its_id_is_assigned_to(
    server: EmulatorServer, client: httpx.Client
) -> None:
    agent = support_agent(client)
    broken = PROMPT.replace("2-year", "1-year")
    canary = create_branch(client, agent, "canary", **prompt_change(broken))
    canary_id = canary["created_branch_id"]
    deploy(client, agent["agent_id"], {agent["main_branch_id"]: 70, canary_id: 30})
    generate(server.emulator, agent["agent_id"], 200)
    summaries = listed(client, agent_id=agent["agent_id"])
    per_branch = Counter(s["branch_id"] for s in summaries)
    assert 40 <= per_branch[canary_id] <= 80, per_branch
    branches = client.get(f"/v1/convai/agents/{agent['agent_id']}/branches").json()["results"]
    assert {b["id"]: b["calls_7d"] for b in branches} == dict(per_branch)
    on_canary = listed(client, agent_id=agent["agent_id"], branch_id=canary_id)
    assert len(on_canary) == per_branch[canary_id]
    assert {s["version_id"] for s in on_canary} == {canary["created_version_id"]}
    replies = [
        client.get(f"/v1/convai/conversations/{s['conversation_id']}").json() for s in on_canary
    ]
    said = " ".join(str(r["transcript"][-1]["message"]) for r in replies)
    assert "1-year warranty" in said and "2-year warranty" not in said


def test_warranty_answers_fail_their_criterion_only_on_the_branch_that_broke_the_fact(
    server: EmulatorServer, client: httpx.Client
) -> None:
    agent = support_agent(client)
    canary = create_branch(
        client, agent, "canary", **prompt_change(PROMPT.replace("2-year", "1-year"))
    )
    canary_id = canary["created_branch_id"]
    deploy(client, agent["agent_id"], {agent["main_branch_id"]: 50, canary_id: 50})
    generate(server.emulator, agent["agent_id"], 120)
    results: dict[str, Counter[str]] = {agent["main_branch_id"]: Counter(), canary_id: Counter()}
    for summary in listed(client, agent_id=agent["agent_id"]):
        detail = client.get(f"/v1/convai/conversations/{summary['conversation_id']}").json()
        warranty = detail["analysis"]["evaluation_criteria_results"]["warranty_stated"]
        results[summary["branch_id"]][warranty["result"]] += 1
    main, branch = results[agent["main_branch_id"]], results[canary_id]
    assert main["failure"] == 0 and main["success"] > 5
    assert branch["success"] == 0 and branch["failure"] > 5
    assert main["unknown"] > 0 and branch["unknown"] > 0  # other questions do not raise it


def test_filters_by_result_and_start_time(server: EmulatorServer, client: httpx.Client) -> None:
    agent = support_agent(client)
    generate(server.emulator, agent["agent_id"], 30)
    failed = listed(client, agent_id=agent["agent_id"], call_successful="failure")
    everything = listed(client, agent_id=agent["agent_id"])
    assert all(s["call_successful"] == "failure" for s in failed)
    assert len(failed) < len(everything)
    later = listed(client, agent_id=agent["agent_id"], call_start_after_unix=int(time.time()) + 5)
    assert later == []


def test_an_agent_is_asked_about_its_own_topics(
    server: EmulatorServer, client: httpx.Client
) -> None:
    agent = create_agent(
        client, "You are Nova. Expense reports are due on the 5th working day of each month."
    )
    generate(server.emulator, agent["agent_id"], 10)
    for summary in listed(client, agent_id=agent["agent_id"]):
        detail = client.get(f"/v1/convai/conversations/{summary['conversation_id']}").json()
        assert "expense" in detail["transcript"][1]["message"].lower()


def _run_of(seed: int) -> list[tuple[str, str, str]]:
    config = EmulatorConfig(seed=seed, test_delay_s=0.05)
    with (
        run_in_thread(config) as running,
        httpx.Client(base_url=running.url, headers={"xi-api-key": API_KEY}) as client,
    ):
        agent = support_agent(client)
        canary = create_branch(client, agent, "canary")["created_branch_id"]
        deploy(client, agent["agent_id"], {agent["main_branch_id"]: 50, canary: 50})
        ids = generate(running.emulator, agent["agent_id"], 15)
        details = [client.get(f"/v1/convai/conversations/{i}").json() for i in ids]
        main = agent["main_branch_id"]
        return [
            (
                d["conversation_id"],
                "main" if d["branch_id"] == main else "canary",
                d["transcript"][1]["message"],
            )
            for d in details
        ]


def test_the_same_seed_gives_the_same_conversations() -> None:
    first, again, other = _run_of(7), _run_of(7), _run_of(8)
    assert first == again
    assert {entry[1] for entry in first} == {"main", "canary"}
    assert [entry[0] for entry in other] != [entry[0] for entry in first]


def test_no_traffic_by_default(server: EmulatorServer, client: httpx.Client) -> None:
    agent = support_agent(client)
    time.sleep(0.3)
    assert listed(client, agent_id=agent["agent_id"]) == []


class TestTrafficRate:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return EmulatorConfig(test_delay_s=0.05, traffic_rate=40)

    def test_rate_makes_conversations_per_second_per_agent(self, client: httpx.Client) -> None:
        agent = support_agent(client)
        other = create_agent(client, name="Other")
        started = time.time()
        time.sleep(0.6)
        mine = listed(client, agent_id=agent["agent_id"])
        elapsed = time.time() - started
        assert 0.5 * 40 * 0.6 <= len(mine) <= 40 * (elapsed + 0.5)
        assert listed(client, agent_id=other["agent_id"])
        starts = [s["start_time_unix_secs"] for s in mine]
        assert starts == sorted(starts, reverse=True)


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("Is my backpack under warranty?", "failure"),
        ("Where is my order?", "unknown"),
    ],
)
def test_a_when_criterion_is_judged_only_when_the_caller_raised_it(
    said: str, expected: str
) -> None:
    verdict = judge_criterion(WARRANTY, said, "Backpacks carry a 1-year warranty.")
    assert verdict["result"] == expected
    assert judge_criterion(WARRANTY, said, "Backpacks carry a 2-year warranty.")["result"] in (
        "success",
        "unknown",
    )
    assert judge_criterion(GREETING, said, "Hello.")["result"] == "failure"
