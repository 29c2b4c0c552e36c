"""Agents over loopback HTTP: create, read with defaults, list pages, patch, versions, delete."""

from __future__ import annotations

import httpx

from .helpers import GOOD_PROMPT, create_agent, create_branch, get_agent, prompt_change, prompt_of

AGENTS = "/v1/convai/agents"


def test_create_then_get_with_server_defaults(client: httpx.Client) -> None:
    agent = create_agent(client, tags=["support"])
    assert agent["agent_id"].startswith("agent_")
    assert agent["version_id"].startswith("agtvrsn_")
    assert agent["branch_id"] == agent["main_branch_id"]
    assert agent["main_branch_id"].startswith("agtbrch_")
    assert prompt_of(agent) == GOOD_PROMPT
    assert agent["conversation_config"]["agent"]["prompt"]["llm"] == "gemini-2.5-flash"
    assert agent["conversation_config"]["tts"]["model_id"] == "eleven_flash_v2"
    assert agent["platform_settings"]["archived"] is False
    assert agent["tags"] == ["support"]
    main = client.get(f"{AGENTS}/{agent['agent_id']}/branches/{agent['main_branch_id']}").json()
    assert main["name"] == "Main"
    assert [v["seq_no_in_branch"] for v in main["most_recent_versions"]] == [1]


def test_list_pages_with_cursor(client: httpx.Client) -> None:
    made = [create_agent(client, name=f"Agent {i}")["agent_id"] for i in range(5)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"page_size": 2, **({"cursor": cursor} if cursor else {})}
        body = client.get(AGENTS, params=params).json()
        seen += [item["agent_id"] for item in body["agents"]]
        pages += 1
        if not body["has_more"]:
            assert body["next_cursor"] is None
            break
        cursor = body["next_cursor"]
    assert pages == 3
    assert seen == made[::-1]  # newest first


def test_list_filters_and_sorting(client: httpx.Client) -> None:
    create_agent(client, name="Billing bot", tags=["billing"])
    create_agent(client, name="Support bot", tags=["support"])
    create_agent(client, name="alpha")
    names = [a["name"] for a in client.get(AGENTS, params={"search": "BOT"}).json()["agents"]]
    assert sorted(names) == ["Billing bot", "Support bot"]
    tagged = client.get(AGENTS, params=[("tags", "billing"), ("tags", "x")]).json()["agents"]
    assert [a["name"] for a in tagged] == ["Billing bot"]
    ordered = client.get(AGENTS, params={"sort_by": "name", "sort_direction": "asc"}).json()
    assert [a["name"] for a in ordered["agents"]] == ["alpha", "Billing bot", "Support bot"]


def test_archived_agents_are_hidden_by_default(client: httpx.Client) -> None:
    agent = create_agent(client, name="old")
    client.patch(f"{AGENTS}/{agent['agent_id']}", json={"platform_settings": {"archived": True}})
    assert client.get(AGENTS).json()["agents"] == []
    archived = client.get(AGENTS, params={"archived": True}).json()["agents"]
    assert [a["name"] for a in archived] == ["old"]


def test_patch_deep_merges_and_commits_versions(client: httpx.Client) -> None:
    agent = create_agent(client)
    url = f"{AGENTS}/{agent['agent_id']}"
    first = client.patch(
        url,
        json={
            "conversation_config": {"agent": {"first_message": "Hi"}},
            "version_description": "greeting",
        },
    ).json()
    assert prompt_of(first) == GOOD_PROMPT
    assert first["conversation_config"]["agent"]["first_message"] == "Hi"
    second = client.patch(url, json={"name": "Renamed", **prompt_change("New.")}).json()
    assert second["name"] == "Renamed"
    versions = client.get(f"{url}/branches/{agent['main_branch_id']}").json()
    recent = versions["most_recent_versions"]
    assert [v["seq_no_in_branch"] for v in recent] == [3, 2, 1]
    assert recent[1]["version_description"] == "greeting"
    assert recent[0]["parents"]["in_branch_parent_id"] == first["version_id"]
    old = get_agent(client, agent["agent_id"], version_id=agent["version_id"])
    assert prompt_of(old) == GOOD_PROMPT
    assert old["conversation_config"]["agent"]["first_message"] == ""


def test_patch_lists_are_replaced(client: httpx.Client) -> None:
    agent = create_agent(client)
    url = f"{AGENTS}/{agent['agent_id']}"
    client.patch(url, json={"conversation_config": {"agent": {"prompt": {"tool_ids": ["a", "b"]}}}})
    patched = client.patch(
        url, json={"conversation_config": {"agent": {"prompt": {"tool_ids": ["c"]}}}}
    )
    assert patched.json()["conversation_config"]["agent"]["prompt"]["tool_ids"] == ["c"]


def test_patch_on_branch_leaves_main_alone(client: httpx.Client) -> None:
    agent = create_agent(client)
    branch = create_branch(client, agent, "experiment")
    patched = client.patch(
        f"{AGENTS}/{agent['agent_id']}",
        params={"branch_id": branch["created_branch_id"]},
        json=prompt_change("Branch prompt."),
    ).json()
    assert patched["branch_id"] == branch["created_branch_id"]
    assert prompt_of(patched) == "Branch prompt."
    assert prompt_of(get_agent(client, agent["agent_id"])) == GOOD_PROMPT
    on_branch = get_agent(client, agent["agent_id"], branch_id=branch["created_branch_id"])
    assert on_branch["version_id"] == patched["version_id"]


def test_unversioned_agent_until_patch_enables_versioning(client: httpx.Client) -> None:
    body = {"name": "legacy", "conversation_config": {}}
    created = client.post(f"{AGENTS}/create", params={"enable_versioning": "false"}, json=body)
    agent_id = created.json()["agent_id"]
    agent = get_agent(client, agent_id)
    assert (agent["version_id"], agent["branch_id"], agent["main_branch_id"]) == (None, None, None)
    refused = client.get(f"{AGENTS}/{agent_id}/branches")
    assert refused.status_code == 400
    assert refused.json()["detail"]["status"] == "agent_not_versioned"
    client.patch(
        f"{AGENTS}/{agent_id}",
        params={"enable_versioning_if_not_enabled": "false"},
        json={"name": "still legacy"},
    )
    assert get_agent(client, agent_id)["version_id"] is None
    enabled = client.patch(f"{AGENTS}/{agent_id}", json={"name": "versioned"}).json()
    assert enabled["version_id"] is not None
    assert client.get(f"{AGENTS}/{agent_id}/branches").status_code == 200


def test_delete_agent(client: httpx.Client) -> None:
    agent = create_agent(client)
    assert client.delete(f"{AGENTS}/{agent['agent_id']}").status_code == 200
    gone = client.get(f"{AGENTS}/{agent['agent_id']}")
    assert gone.status_code == 404
    assert gone.json()["detail"]["status"] == "agent_not_found"


def test_every_cli_template_round_trips(client: httpx.Client) -> None:
    import json
    from pathlib import Path

    for path in sorted((Path(__file__).parent / "data").glob("*.json")):
        template = json.loads(path.read_text())
        created = client.post(f"{AGENTS}/create", json=template)
        assert created.status_code == 200, (path.name, created.text)
        agent = get_agent(client, created.json()["agent_id"])
        wanted = template["conversation_config"]["agent"]["prompt"]["prompt"]
        assert prompt_of(agent) == wanted


def test_concurrent_patches_each_commit_one_version(client: httpx.Client) -> None:
    from concurrent.futures import ThreadPoolExecutor

    agent = create_agent(client)
    url = f"{AGENTS}/{agent['agent_id']}"

    def patch(index: int) -> int:
        body = {"conversation_config": {"agent": {"first_message": f"Hi {index}"}}}
        return client.patch(url, json=body).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(patch, range(40)))
    assert statuses == [200] * 40
    main = client.get(f"{url}/branches/{agent['main_branch_id']}").json()
    assert main["most_recent_versions"][0]["seq_no_in_branch"] == 41
