"""Branches, versions and merges over loopback HTTP."""

from __future__ import annotations

from typing import Any

import httpx

from .helpers import GOOD_PROMPT, create_agent, create_branch, get_agent, prompt_change, prompt_of

AGENTS = "/v1/convai/agents"


def merge(client: httpx.Client, agent: dict[str, Any], source: str, **body: Any) -> httpx.Response:
    return client.post(
        f"{AGENTS}/{agent['agent_id']}/branches/{source}/merge",
        params={"target_branch_id": agent["main_branch_id"]},
        json=body,
    )


def preview(client: httpx.Client, agent: dict[str, Any], source: str) -> dict[str, Any]:
    response = client.get(
        f"{AGENTS}/{agent['agent_id']}/branches/{source}/merge-preview",
        params={"target_branch_id": agent["main_branch_id"]},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_branch_from_an_older_version(client: httpx.Client) -> None:
    agent = create_agent(client)
    url = f"{AGENTS}/{agent['agent_id']}"
    client.patch(url, json={"conversation_config": {"agent": {"first_message": "Main hi"}}})
    created = create_branch(
        client,
        agent,
        "from-v1",
        conversation_config={"agent": {"language": "de"}},
    )
    on_branch = get_agent(client, agent["agent_id"], branch_id=created["created_branch_id"])
    assert on_branch["version_id"] == created["created_version_id"]
    assert on_branch["conversation_config"]["agent"]["language"] == "de"
    assert on_branch["conversation_config"]["agent"]["first_message"] == ""
    assert prompt_of(on_branch) == GOOD_PROMPT
    version = client.get(f"{url}/versions/{created['created_version_id']}").json()
    assert version["parents"]["out_of_branch_parent_id"] == agent["version_id"]
    assert version["branch_id"] == created["created_branch_id"]
    branch = client.get(f"{url}/branches/{created['created_branch_id']}").json()
    assert branch["parent_branch"] == {"id": agent["main_branch_id"], "name": "Main"}


def test_branch_needs_an_existing_parent_and_a_unique_name(client: httpx.Client) -> None:
    agent = create_agent(client)
    body = {"parent_version_id": "agtvrsn_missing", "name": "x", "description": "x"}
    missing = client.post(f"{AGENTS}/{agent['agent_id']}/branches", json=body)
    assert missing.status_code == 404
    assert missing.json()["detail"]["status"] == "version_not_found"
    create_branch(client, agent, "dup")
    again = client.post(
        f"{AGENTS}/{agent['agent_id']}/branches",
        json={"parent_version_id": agent["version_id"], "name": "dup", "description": ""},
    )
    assert again.status_code == 409


def test_merge_fast_path(client: httpx.Client) -> None:
    agent = create_agent(client)
    branch = create_branch(client, agent, "fix", **prompt_change("Fixed prompt."))
    source = branch["created_branch_id"]
    assert preview(client, agent, source)["conflicts"] == []
    merged = merge(client, agent, source)
    assert merged.status_code == 200, merged.text
    main = get_agent(client, agent["agent_id"])
    assert prompt_of(main) == "Fixed prompt."
    assert main["version_id"] == merged.json()["version_id"]
    parents = client.get(f"{AGENTS}/{agent['agent_id']}/versions/{main['version_id']}").json()
    assert parents["parents"]["merged_from_branch_id"] == source
    assert parents["parents"]["merged_from_version_id"] == branch["created_version_id"]
    listed = client.get(f"{AGENTS}/{agent['agent_id']}/branches").json()["results"]
    assert [b["name"] for b in listed] == ["Main"]
    every = client.get(
        f"{AGENTS}/{agent['agent_id']}/branches", params={"include_archived": True}
    ).json()["results"]
    fix = next(b for b in every if b["id"] == source)
    assert fix["is_archived"] is True
    assert fix["merged_into_branch_id"] == agent["main_branch_id"]


def test_merge_can_keep_the_source_branch(client: httpx.Client) -> None:
    agent = create_agent(client)
    source = create_branch(client, agent, "keep", **prompt_change("Kept."))["created_branch_id"]
    assert merge(client, agent, source, archive_source_branch=False).status_code == 200
    branch = client.get(f"{AGENTS}/{agent['agent_id']}/branches/{source}").json()
    assert branch["is_archived"] is False


def conflicting(client: httpx.Client) -> tuple[dict[str, Any], str]:
    agent = create_agent(client)
    source = create_branch(
        client,
        agent,
        "mine",
        conversation_config={"agent": {"prompt": {"prompt": "Mine."}, "first_message": "Hey"}},
    )["created_branch_id"]
    client.patch(
        f"{AGENTS}/{agent['agent_id']}",
        json={
            "conversation_config": {"agent": {"prompt": {"prompt": "Theirs.", "temperature": 0.5}}}
        },
    )
    return agent, source


def test_merge_preview_lists_conflicts(client: httpx.Client) -> None:
    agent, source = conflicting(client)
    body = preview(client, agent, source)
    assert body["overridden_fields"] == ["conversation_config.agent.prompt.prompt"]
    assert body["conflicts"] == [
        {
            "path": "agent.prompt.prompt",
            "section": "conversation_config",
            "base_value": GOOD_PROMPT,
            "source_value": "Mine.",
            "target_value": "Theirs.",
        }
    ]
    merged_agent = body["conversation_config"]["agent"]
    assert merged_agent["first_message"] == "Hey"
    assert merged_agent["prompt"]["temperature"] == 0.5
    assert merged_agent["prompt"]["prompt"] == "Theirs."
    assert body["source_identical_to_target"] is False


def test_merge_conflict_goes_to_the_side_committed_later(client: httpx.Client) -> None:
    # main changed the prompt after the branch did: main's value wins, no 409
    agent, source = conflicting(client)
    expected = preview(client, agent, source)
    merged = merge(client, agent, source)
    assert merged.status_code == 200, merged.text
    main = get_agent(client, agent["agent_id"])
    assert prompt_of(main) == "Theirs."
    assert main["conversation_config"]["agent"]["first_message"] == "Hey"
    assert main["conversation_config"] == expected["conversation_config"]


def test_merge_conflict_source_wins_when_committed_later(client: httpx.Client) -> None:
    agent, source = conflicting(client)
    again = {"conversation_config": {"agent": {"prompt": {"prompt": "Mine again."}}}}
    url = f"{AGENTS}/{agent['agent_id']}"
    assert client.patch(url, params={"branch_id": source}, json=again).status_code == 200
    expected = preview(client, agent, source)
    assert expected["overridden_fields"] == ["conversation_config.agent.prompt.prompt"]
    assert merge(client, agent, source).status_code == 200
    main = get_agent(client, agent["agent_id"])
    assert prompt_of(main) == "Mine again."
    assert main["conversation_config"]["agent"]["prompt"]["temperature"] == 0.5
    assert main["conversation_config"] == expected["conversation_config"]


def test_forced_merge_source_wins_over_a_later_target(client: httpx.Client) -> None:
    agent, source = conflicting(client)
    forced_preview = client.get(
        f"{AGENTS}/{agent['agent_id']}/branches/{source}/merge-preview",
        params={"target_branch_id": agent["main_branch_id"], "force": True},
    ).json()
    assert prompt_of(forced_preview) == "Mine."
    forced = merge(client, agent, source, force=True)
    assert forced.status_code == 200
    main = get_agent(client, agent["agent_id"])
    assert prompt_of(main) == "Mine."
    assert main["conversation_config"]["agent"]["prompt"]["temperature"] == 0.5


def test_identical_branches_preview(client: httpx.Client) -> None:
    agent = create_agent(client)
    source = create_branch(client, agent, "same")["created_branch_id"]
    assert preview(client, agent, source)["source_identical_to_target"] is True


def test_update_branch_and_main_protection(client: httpx.Client) -> None:
    agent = create_agent(client)
    source = create_branch(client, agent, "old-name")["created_branch_id"]
    url = f"{AGENTS}/{agent['agent_id']}/branches"
    updated = client.patch(
        f"{url}/{source}", json={"name": "new-name", "protection_status": "admin_perms_required"}
    ).json()
    assert (updated["name"], updated["protection_status"]) == ("new-name", "admin_perms_required")
    refused = client.patch(f"{url}/{agent['main_branch_id']}", json={"is_archived": True})
    assert refused.status_code == 400


def test_commit_status_counts(client: httpx.Client) -> None:
    agent = create_agent(client)
    source = create_branch(client, agent, "ahead")["created_branch_id"]
    client.patch(f"{AGENTS}/{agent['agent_id']}", params={"branch_id": source}, json={})
    client.patch(f"{AGENTS}/{agent['agent_id']}", json={})
    listed = client.get(
        f"{AGENTS}/{agent['agent_id']}/branches", params={"include_commit_status": True}
    ).json()["results"]
    ahead = next(b for b in listed if b["id"] == source)
    assert (ahead["commits_ahead"], ahead["commits_behind"]) == (2, 1)
