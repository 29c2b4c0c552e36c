"""The deployments endpoint: traffic splits between an agent's branches, over loopback HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from convai_ops.emulator import EmulatorConfig
from convai_ops.emulator.deployments import assign
from tests.emulator.helpers import create_agent, create_branch, prompt_change


def deploy(client: httpx.Client, agent_id: str, shares: dict[str, float]) -> httpx.Response:
    requests = [
        {
            "branch_id": branch_id,
            "deployment_strategy": {"type": "percentage", "traffic_percentage": p},
        }
        for branch_id, p in shares.items()
    ]
    body = {"deployment_request": {"requests": requests}}
    return client.post(f"/v1/convai/agents/{agent_id}/deployments", json=body)


def shares(client: httpx.Client, agent_id: str) -> dict[str, float]:
    """``current_live_percentage`` of every branch (archived included), by branch id."""
    listed = client.get(
        f"/v1/convai/agents/{agent_id}/branches", params={"include_archived": "true"}
    )
    assert listed.status_code == 200, listed.text
    return {b["id"]: b["current_live_percentage"] for b in listed.json()["results"]}


def agent_with_canary(client: httpx.Client) -> tuple[dict[str, Any], str]:
    agent = create_agent(client)
    created = create_branch(client, agent, "canary", **prompt_change("Refunds within 14 days."))
    return agent, str(created["created_branch_id"])


def test_main_holds_all_traffic_until_a_split_exists(client: httpx.Client) -> None:
    agent, canary = agent_with_canary(client)
    assert shares(client, agent["agent_id"]) == {agent["main_branch_id"]: 100, canary: 0}


def test_a_split_totalling_100_is_reported_on_every_branch(client: httpx.Client) -> None:
    agent, canary = agent_with_canary(client)
    main = agent["main_branch_id"]
    answer = deploy(client, agent["agent_id"], {main: 80, canary: 20})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"traffic_percentage_branch_id_map": {main: 80, canary: 20}}
    assert shares(client, agent["agent_id"]) == {main: 80, canary: 20}
    one = client.get(f"/v1/convai/agents/{agent['agent_id']}/branches/{canary}")
    assert one.json()["current_live_percentage"] == 20


def test_a_new_split_replaces_the_old_one_and_main_at_100_removes_it(
    client: httpx.Client,
) -> None:
    agent, canary = agent_with_canary(client)
    main = agent["main_branch_id"]
    assert deploy(client, agent["agent_id"], {main: 50, canary: 50}).status_code == 200
    assert deploy(client, agent["agent_id"], {canary: 100}).status_code == 200
    assert shares(client, agent["agent_id"]) == {main: 0, canary: 100}
    assert deploy(client, agent["agent_id"], {main: 100}).status_code == 200
    assert shares(client, agent["agent_id"]) == {main: 100, canary: 0}


@pytest.mark.parametrize("split", [{"main": 80, "canary": 10}, {"main": 90, "canary": 20}, {}])
def test_shares_not_totalling_100_are_refused_and_change_nothing(
    client: httpx.Client, split: dict[str, float]
) -> None:
    agent, canary = agent_with_canary(client)
    ids = {"main": agent["main_branch_id"], "canary": canary}
    answer = deploy(client, agent["agent_id"], {ids[name]: p for name, p in split.items()})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "deployment_request", "requests"]
    assert shares(client, agent["agent_id"]) == {agent["main_branch_id"]: 100, canary: 0}


def test_a_share_outside_0_to_100_is_refused(client: httpx.Client) -> None:
    agent, canary = agent_with_canary(client)
    answer = deploy(client, agent["agent_id"], {agent["main_branch_id"]: 120, canary: -20})
    assert answer.status_code == 422


def test_unknown_repeated_and_archived_branches_are_refused(client: httpx.Client) -> None:
    agent, canary = agent_with_canary(client)
    agent_id, main = agent["agent_id"], agent["main_branch_id"]
    unknown = deploy(client, agent_id, {main: 90, "agtbrch_nope": 10})
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["loc"][-2:] == [1, "branch_id"]
    other = create_agent(client, name="Other")
    foreign = deploy(client, agent_id, {main: 90, other["main_branch_id"]: 10})
    assert foreign.status_code == 422
    patched = client.patch(
        f"/v1/convai/agents/{agent_id}/branches/{canary}", json={"is_archived": True}
    )
    assert patched.status_code == 200
    archived = deploy(client, agent_id, {main: 90, canary: 10})
    assert archived.status_code == 422
    assert "archived" in archived.json()["detail"][0]["msg"]
    requests = [
        {"branch_id": main, "deployment_strategy": {"type": "percentage", "traffic_percentage": 50}}
    ] * 2
    twice = client.post(
        f"/v1/convai/agents/{agent_id}/deployments",
        json={"deployment_request": {"requests": requests}},
    )
    assert twice.status_code == 422
    assert shares(client, agent_id)[main] == 100


def test_unknown_agent_is_404(client: httpx.Client) -> None:
    assert deploy(client, "agent_nope", {"agtbrch_x": 100}).status_code == 404


def test_archiving_a_live_branch_is_refused_by_default(client: httpx.Client) -> None:
    agent, canary = agent_with_canary(client)
    agent_id, main = agent["agent_id"], agent["main_branch_id"]
    deploy(client, agent_id, {main: 80, canary: 20})
    patched = client.patch(
        f"/v1/convai/agents/{agent_id}/branches/{canary}", json={"is_archived": True}
    )
    assert patched.status_code == 400
    assert patched.json()["detail"]["status"] == "branch_has_live_traffic"
    merged = client.post(
        f"/v1/convai/agents/{agent_id}/branches/{canary}/merge",
        params={"target_branch_id": main},
        json={"archive_source_branch": True},
    )
    assert merged.status_code == 400
    assert client.get(f"/v1/convai/agents/{agent_id}").json()["version_id"] == agent["version_id"]
    assert shares(client, agent_id) == {main: 80, canary: 20}
    deploy(client, agent_id, {main: 100})
    merged = client.post(
        f"/v1/convai/agents/{agent_id}/branches/{canary}/merge",
        params={"target_branch_id": main},
        json={"archive_source_branch": True},
    )
    assert merged.status_code == 200, merged.text


class TestLiveBranchArchiveToMain:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return EmulatorConfig(test_delay_s=0.05, live_branch_archive="to-main")

    def test_archiving_or_merging_a_live_branch_gives_its_share_to_main(
        self, client: httpx.Client
    ) -> None:
        agent, canary = agent_with_canary(client)
        agent_id, main = agent["agent_id"], agent["main_branch_id"]
        second = create_branch(client, agent, "second")["created_branch_id"]
        deploy(client, agent_id, {main: 60, canary: 30, second: 10})
        patched = client.patch(
            f"/v1/convai/agents/{agent_id}/branches/{second}", json={"is_archived": True}
        )
        assert patched.status_code == 200
        assert shares(client, agent_id) == {main: 70, canary: 30, second: 0}
        merged = client.post(
            f"/v1/convai/agents/{agent_id}/branches/{canary}/merge",
            params={"target_branch_id": main},
            json={"archive_source_branch": True},
        )
        assert merged.status_code == 200, merged.text
        assert shares(client, agent_id) == {main: 100, canary: 0, second: 0}


def test_assignment_follows_the_split_and_the_conversation_id() -> None:
    split = {"agtbrch_main": 80.0, "agtbrch_canary": 20.0}
    ids = [f"conv_{n:04d}" for n in range(2000)]
    chosen = [assign(split, conversation_id) for conversation_id in ids]
    assert chosen == [assign(dict(reversed(split.items())), c) for c in ids]
    canary_share = chosen.count("agtbrch_canary") / len(ids)
    assert 0.17 < canary_share < 0.23
    assert {assign({"agtbrch_main": 0.0, "agtbrch_canary": 100.0}, c) for c in ids} == {
        "agtbrch_canary"
    }
