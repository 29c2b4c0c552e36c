"""The documented branch rules over loopback HTTP: names, list limits, identical merges and
protection (BEHAVIOUR.md "Versions and branches")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from convai_ops.emulator import EmulatorConfig, run_in_thread

from .helpers import create_agent, create_branch, get_agent, prompt_change, prompt_of

AGENTS = "/v1/convai/agents"
KEY = {"xi-api-key": "sk_test_0123456789abcdef"}


def branch_body(agent: dict[str, Any], name: str) -> dict[str, Any]:
    return {"parent_version_id": agent["version_id"], "name": name, "description": "d"}


def merge(client: httpx.Client, agent: dict[str, Any], source: str, **body: Any) -> httpx.Response:
    return client.post(
        f"{AGENTS}/{agent['agent_id']}/branches/{source}/merge",
        params={"target_branch_id": agent["main_branch_id"]},
        json=body,
    )


def branches(client: httpx.Client, agent: dict[str, Any], **params: Any) -> httpx.Response:
    return client.get(f"{AGENTS}/{agent['agent_id']}/branches", params=params)


@pytest.mark.parametrize(
    "name",
    ["my_fix branch", "my_fix", "fix branch", "fix!", "caf\u00e9", "", "a" * 141],
)
def test_branch_create_refuses_undocumented_names(client: httpx.Client, name: str) -> None:
    agent = create_agent(client)
    refused = client.post(f"{AGENTS}/{agent['agent_id']}/branches", json=branch_body(agent, name))
    assert refused.status_code == 422, refused.text
    (item,) = refused.json()["detail"]
    assert item["loc"] == ["body", "name"]
    assert item["msg"] and item["type"]
    names = [b["name"] for b in branches(client, agent, include_archived=True).json()["results"]]
    assert names == ["Main"]


@pytest.mark.parametrize("name", ["feature/fix-1.2", "(a)[b]{c}", "A" * 140, "Main.v2"])
def test_branch_create_accepts_documented_characters(client: httpx.Client, name: str) -> None:
    agent = create_agent(client)
    created = client.post(f"{AGENTS}/{agent['agent_id']}/branches", json=branch_body(agent, name))
    assert created.status_code == 200, created.text


def test_branch_rename_refuses_undocumented_names(client: httpx.Client) -> None:
    agent = create_agent(client)
    source = create_branch(client, agent, "fix")["created_branch_id"]
    url = f"{AGENTS}/{agent['agent_id']}/branches/{source}"
    for name in ("my_fix branch", "b" * 141):
        refused = client.patch(url, json={"name": name})
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"][0]["loc"] == ["body", "name"]
    assert client.get(url).json()["name"] == "fix"
    assert client.patch(url, json={"name": "fix/renamed"}).json()["name"] == "fix/renamed"


def test_branch_names_stay_unique_per_agent(client: httpx.Client) -> None:
    agent = create_agent(client)
    create_branch(client, agent, "dup")
    other = create_branch(client, agent, "other")["created_branch_id"]
    again = client.post(f"{AGENTS}/{agent['agent_id']}/branches", json=branch_body(agent, "dup"))
    assert (again.status_code, again.json()["detail"]["status"]) == (409, "branch_name_taken")
    renamed = client.patch(f"{AGENTS}/{agent['agent_id']}/branches/{other}", json={"name": "dup"})
    assert renamed.status_code == 409


def test_branch_list_limit_bounds_follow_the_spec(client: httpx.Client) -> None:
    # the document: limit is an integer with exclusiveMinimum 1 and maximum 100
    agent = create_agent(client)
    for index in range(3):
        create_branch(client, agent, f"b{index}")
    assert [b["name"] for b in branches(client, agent, limit=2).json()["results"]] == [
        "Main",
        "b0",
    ]
    for bad in (0, 1, 101):
        refused = branches(client, agent, limit=bad)
        assert refused.status_code == 422, bad
        assert refused.json()["detail"][0]["loc"] == ["query", "limit"]
    assert len(branches(client, agent).json()["results"]) == 4


def test_branch_list_has_no_cursor_and_hides_archived_by_default(client: httpx.Client) -> None:
    agent = create_agent(client)
    source = create_branch(client, agent, "gone")["created_branch_id"]
    url = f"{AGENTS}/{agent['agent_id']}/branches/{source}"
    assert client.patch(url, json={"is_archived": True}).status_code == 200
    default = branches(client, agent).json()
    assert [b["name"] for b in default["results"]] == ["Main"]
    assert "next_cursor" not in default and "cursor" not in default.get("meta", {})
    every = branches(client, agent, include_archived=True).json()["results"]
    assert [(b["name"], b["is_archived"]) for b in every] == [("Main", False), ("gone", True)]


def test_identical_merge_is_refused_by_default(client: httpx.Client) -> None:
    agent = create_agent(client)
    source = create_branch(client, agent, "same")["created_branch_id"]
    refused = merge(client, agent, source)
    assert refused.status_code == 422, refused.text
    (item,) = refused.json()["detail"]
    assert item["type"] == "source_identical_to_target"
    assert "source_identical_to_target" in item["msg"]
    assert get_agent(client, agent["agent_id"])["version_id"] == agent["version_id"]
    kept = client.get(f"{AGENTS}/{agent['agent_id']}/branches/{source}").json()
    assert kept["is_archived"] is False


class TestIdenticalMergeCommitsNothing:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return EmulatorConfig(test_delay_s=0.05, identical_merge="commit-nothing")

    def test_identical_merge_commits_nothing(self, client: httpx.Client) -> None:
        agent = create_agent(client)
        source = create_branch(client, agent, "same")["created_branch_id"]
        merged = merge(client, agent, source)
        assert merged.status_code == 200, merged.text
        assert merged.json()["version_id"] == agent["version_id"]
        assert get_agent(client, agent["agent_id"])["version_id"] == agent["version_id"]
        archived = client.get(f"{AGENTS}/{agent['agent_id']}/branches/{source}").json()
        assert archived["is_archived"] is True

    def test_identical_merge_can_keep_the_source(self, client: httpx.Client) -> None:
        agent = create_agent(client)
        source = create_branch(client, agent, "same")["created_branch_id"]
        assert merge(client, agent, source, archive_source_branch=False).status_code == 200
        kept = client.get(f"{AGENTS}/{agent['agent_id']}/branches/{source}").json()
        assert kept["is_archived"] is False


def test_merge_into_a_protected_branch_answers_403(client: httpx.Client) -> None:
    agent = create_agent(client)
    url = f"{AGENTS}/{agent['agent_id']}/branches"
    protected = client.patch(
        f"{url}/{agent['main_branch_id']}", json={"protection_status": "admin_perms_required"}
    )
    assert protected.json()["protection_status"] == "admin_perms_required"
    source = create_branch(client, agent, "fix", **prompt_change("Fixed."))["created_branch_id"]
    refused = merge(client, agent, source)
    assert refused.status_code == 403, refused.text
    assert refused.json()["detail"]["status"] == "branch_protected"
    assert "admin" in refused.json()["detail"]["message"]
    assert prompt_of(get_agent(client, agent["agent_id"])) != "Fixed."
    lift = client.patch(
        f"{url}/{agent['main_branch_id']}", json={"protection_status": "writer_perms_required"}
    )
    assert lift.status_code == 403
    assert client.get(f"{url}/{source}").json()["is_archived"] is False


class TestProtectMain:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return EmulatorConfig(test_delay_s=0.05, protect_main=True)

    def test_every_main_is_protected_and_merges_into_it_answer_403(
        self, client: httpx.Client
    ) -> None:
        agent = create_agent(client)
        url = f"{AGENTS}/{agent['agent_id']}/branches"
        main = client.get(f"{url}/{agent['main_branch_id']}").json()
        assert main["protection_status"] == "admin_perms_required"
        listed = branches(client, agent).json()["results"]
        assert listed[0]["protection_status"] == "admin_perms_required"
        source = create_branch(client, agent, "fix", **prompt_change("Fixed."))
        assert merge(client, agent, source["created_branch_id"]).status_code == 403
        assert get_agent(client, agent["agent_id"])["version_id"] == agent["version_id"]

    def test_other_branches_stay_unprotected(self, client: httpx.Client) -> None:
        agent = create_agent(client)
        first = create_branch(client, agent, "first")["created_branch_id"]
        second = create_branch(client, agent, "second", **prompt_change("Second."))
        url = f"{AGENTS}/{agent['agent_id']}/branches"
        assert client.get(f"{url}/{first}").json()["protection_status"] == "writer_perms_required"
        merged = client.post(
            f"{url}/{second['created_branch_id']}/merge",
            params={"target_branch_id": first},
            json={},
        )
        assert merged.status_code == 200, merged.text


def test_protect_main_marks_agents_of_a_loaded_state(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    agent = _agent_on(EmulatorConfig(test_delay_s=0.05, state_file=state))
    config = EmulatorConfig(test_delay_s=0.05, state_file=state, protect_main=True)
    with run_in_thread(config) as server, httpx.Client(base_url=server.url, headers=KEY) as http:
        main = http.get(f"{AGENTS}/{agent['agent_id']}/branches/{agent['main_branch_id']}")
        assert main.json()["protection_status"] == "admin_perms_required"


def _agent_on(config: EmulatorConfig) -> dict[str, Any]:
    with run_in_thread(config) as server, httpx.Client(base_url=server.url, headers=KEY) as http:
        return create_agent(http)


def test_an_agent_created_without_the_deprecated_query_is_versioned(client: httpx.Client) -> None:
    created = client.post(f"{AGENTS}/create", json={"conversation_config": {}})
    agent = get_agent(client, created.json()["agent_id"])
    assert agent["version_id"] and agent["branch_id"] == agent["main_branch_id"]
    assert branches(client, agent).status_code == 200
