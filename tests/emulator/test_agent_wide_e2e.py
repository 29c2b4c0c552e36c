"""What a version holds: agent-wide platform settings live on the agent, not on a branch
(BEHAVIOUR.md "What a version holds"), under both ``agent_wide_on_branch`` readings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from convai_ops.emulator import EmulatorConfig, run_in_thread

from .conftest import API_KEY, DEFAULT_CONFIG
from .helpers import (
    BAD_PROMPT,
    create_agent,
    create_branch,
    get_agent,
    prompt_change,
    refund_test,
    run_tests,
    wait_for,
)

AGENTS = "/v1/convai/agents"
LIVE = DEFAULT_CONFIG
DROPPED = EmulatorConfig(test_delay_s=0.05, agent_wide_on_branch="dropped")
BOTH = pytest.mark.parametrize("emulator_config", [LIVE, DROPPED], ids=["live", "dropped"])
LIMIT = {"platform_settings": {"call_limits": {"agent_concurrency_limit": 5}}}
CRITERION = {"id": "polite", "name": "Polite", "conversation_goal_prompt": "The agent is polite."}
EVALUATION = {"platform_settings": {"evaluation": {"criteria": [CRITERION]}}}


def limit_of(agent: dict[str, Any]) -> int:
    return int(agent["platform_settings"]["call_limits"]["agent_concurrency_limit"])


def criteria_ids(agent: dict[str, Any]) -> list[str]:
    evaluation = agent["platform_settings"].get("evaluation") or {}
    return [c["id"] for c in evaluation.get("criteria") or []]


def merge(client: httpx.Client, agent: dict[str, Any], source: str) -> httpx.Response:
    return client.post(
        f"{AGENTS}/{agent['agent_id']}/branches/{source}/merge",
        params={"target_branch_id": agent["main_branch_id"]},
        json={},
    )


@BOTH
def test_agent_wide_setting_in_a_new_branch_reaches_main_at_once_or_is_dropped(
    client: httpx.Client, emulator_config: EmulatorConfig
) -> None:
    agent = create_agent(client)
    assert limit_of(agent) == -1
    created = create_branch(client, agent, "limit", **LIMIT)
    live = emulator_config.agent_wide_on_branch == "live"
    assert limit_of(get_agent(client, agent["agent_id"])) == (5 if live else -1)
    on_branch = get_agent(client, agent["agent_id"], branch_id=created["created_branch_id"])
    assert limit_of(on_branch) == (5 if live else -1)  # the agent's value, at any branch


@BOTH
def test_agent_wide_setting_patched_on_a_branch_reaches_main_at_once_or_is_dropped(
    client: httpx.Client, emulator_config: EmulatorConfig
) -> None:
    agent = create_agent(client)
    branch_id = create_branch(client, agent, "limit")["created_branch_id"]
    url = f"{AGENTS}/{agent['agent_id']}"
    patched = client.patch(url, params={"branch_id": branch_id}, json=LIMIT)
    assert patched.status_code == 200, patched.text
    live = emulator_config.agent_wide_on_branch == "live"
    assert limit_of(get_agent(client, agent["agent_id"])) == (5 if live else -1)


@BOTH
def test_versioned_setting_on_a_branch_reaches_main_only_by_the_merge(
    client: httpx.Client, emulator_config: EmulatorConfig
) -> None:
    agent = create_agent(client)
    created = create_branch(client, agent, "evaluation", **EVALUATION)
    branch_id = created["created_branch_id"]
    assert criteria_ids(get_agent(client, agent["agent_id"], branch_id=branch_id)) == ["polite"]
    assert criteria_ids(get_agent(client, agent["agent_id"])) == []
    assert merge(client, agent, branch_id).status_code == 200
    assert criteria_ids(get_agent(client, agent["agent_id"])) == ["polite"]


@BOTH
def test_merge_carries_only_versioned_config(
    client: httpx.Client, emulator_config: EmulatorConfig
) -> None:
    agent = create_agent(client)
    change = {
        "platform_settings": {**LIMIT["platform_settings"], **EVALUATION["platform_settings"]}
    }
    branch_id = create_branch(client, agent, "both", **change)["created_branch_id"]
    merged = merge(client, agent, branch_id)
    assert merged.status_code == 200, merged.text
    main = get_agent(client, agent["agent_id"])
    assert criteria_ids(main) == ["polite"]
    assert limit_of(main) == (5 if emulator_config.agent_wide_on_branch == "live" else -1)


def test_main_writes_agent_wide_settings_seen_at_every_version(client: httpx.Client) -> None:
    agent = create_agent(client, platform_settings={"call_limits": {"daily_limit": 7}})
    assert (
        get_agent(client, agent["agent_id"])["platform_settings"]["call_limits"]["daily_limit"] == 7
    )
    patched = client.patch(f"{AGENTS}/{agent['agent_id']}", json=LIMIT)
    assert patched.status_code == 200
    first = get_agent(client, agent["agent_id"], version_id=agent["version_id"])
    assert limit_of(first) == 5  # agent-wide: the current value, even at version 1
    assert first["platform_settings"]["call_limits"]["daily_limit"] == 7


def test_archived_is_agent_wide_and_read_by_the_agent_list(client: httpx.Client) -> None:
    agent = create_agent(client)
    body = {"platform_settings": {"archived": True}}
    client.patch(f"{AGENTS}/{agent['agent_id']}", json=body)
    listed = client.get(AGENTS, params={"archived": True}).json()["agents"]
    assert [a["agent_id"] for a in listed] == [agent["agent_id"]]


def test_tests_run_on_a_branch_by_id_without_being_attached(client: httpx.Client) -> None:
    """``testing.attached_tests`` is agent-wide, so a branch cannot attach its tests: run-tests
    names them, and they run against the branch's config."""
    agent = create_agent(client)
    test_id = refund_test(client)
    branch_id = create_branch(client, agent, "bad", **prompt_change(BAD_PROMPT))[
        "created_branch_id"
    ]
    started = run_tests(client, agent["agent_id"], [test_id], branch_id=branch_id)
    done = wait_for(client, started["id"])
    assert [run["status"] for run in done["test_runs"]] == ["failed"]
    assert done["test_runs"][0]["branch_id"] == branch_id


def test_state_file_from_before_agent_wide_settings_still_loads(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    config = EmulatorConfig(state_file=state, test_delay_s=0)
    with run_in_thread(config) as running, _client(running.url) as client:
        agent = create_agent(client)
        client.patch(f"{AGENTS}/{agent['agent_id']}", json=LIMIT)
    data = json.loads(state.read_text())
    for record in data["agents"].values():  # as an older emulator wrote it
        del record["agent_wide"]
    for version in data["versions"].values():
        version["config"].setdefault("platform_settings", {}).update(LIMIT["platform_settings"])
    state.write_text(json.dumps(data))
    with run_in_thread(config) as running, _client(running.url) as client:
        assert limit_of(get_agent(client, agent["agent_id"])) == 5
        stored = running.emulator.store
        assert stored.agents[agent["agent_id"]].agent_wide["call_limits"] == {
            "agent_concurrency_limit": 5
        }
        assert all(
            "call_limits" not in v.config["platform_settings"] for v in stored.versions.values()
        )


def _client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"xi-api-key": API_KEY}, timeout=10)
