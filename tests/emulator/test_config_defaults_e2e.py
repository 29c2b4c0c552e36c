"""Agent config as the API stores it: defaults filled inside list items and map values, and
``prompt.tools`` / ``prompt.tool_ids`` (both read, only one accepted). Every answer is checked
against the document (strictly) by the ``server`` fixture."""

from __future__ import annotations

from typing import Any

import httpx

from convai_ops.emulator.contract import validate_response

from .helpers import create_agent, create_branch, get_agent

AGENTS = "/v1/convai/agents"
CRITERION = {"id": "solved", "name": "Solved", "conversation_goal_prompt": "The issue is solved."}
SETTINGS = {
    "evaluation": {"criteria": [CRITERION]},
    "data_collection": {"x": {"type": "string", "description": "The order number"}},
    "testing": {"attached_tests": [{"test_id": "t1"}]},
}
CLIENT_TOOL = {"type": "client", "name": "show_map", "description": "Shows a map."}


def _prompt(agent: dict[str, Any]) -> dict[str, Any]:
    prompt: dict[str, Any] = agent["conversation_config"]["agent"]["prompt"]
    return prompt


def _assert_filled(agent: dict[str, Any]) -> None:
    settings = agent["platform_settings"]
    [criterion] = settings["evaluation"]["criteria"]
    assert criterion == {
        **CRITERION,
        "type": "prompt",
        "use_knowledge_base": False,
        "scope": "conversation",
        "llm": None,
        "scoring_mode": "binary",
        "max_score": 100,
        "score_instructions": None,
    }
    item = settings["data_collection"]["x"]
    assert item["description"] == "The order number"
    assert item["dynamic_variable"] == "" and item["is_system_provided"] is False
    assert settings["testing"]["attached_tests"] == [{"test_id": "t1", "workflow_node_id": None}]


def test_get_fills_defaults_inside_list_items_and_map_values(client: httpx.Client) -> None:
    agent = create_agent(client, platform_settings=SETTINGS)
    _assert_filled(agent)
    path = f"{AGENTS}/{agent['agent_id']}"
    assert validate_response("GET", path, 200, agent, strict=True) == []
    _assert_filled(get_agent(client, agent["agent_id"], version_id=agent["version_id"]))


def test_branch_and_merge_preview_answer_the_filled_config(client: httpx.Client) -> None:
    agent = create_agent(client)
    branch = create_branch(client, agent, "criteria", platform_settings=SETTINGS)
    on_branch = get_agent(client, agent["agent_id"], branch_id=branch["created_branch_id"])
    _assert_filled(on_branch)
    preview = client.get(
        f"{AGENTS}/{agent['agent_id']}/branches/{branch['created_branch_id']}/merge-preview",
        params={"target_branch_id": agent["main_branch_id"]},
    )
    assert preview.status_code == 200, preview.text
    _assert_filled(preview.json())


def test_a_knowledge_base_locator_reads_its_usage_mode(client: httpx.Client) -> None:
    doc = client.post("/v1/convai/knowledge-base/text", json={"text": "Hi.", "name": "faq"})
    locator = {"type": "text", "name": "faq", "id": doc.json()["id"]}
    agent = create_agent(client)
    patch = {"conversation_config": {"agent": {"prompt": {"knowledge_base": [locator]}}}}
    answer = client.patch(f"{AGENTS}/{agent['agent_id']}", json=patch).json()
    assert _prompt(answer)["knowledge_base"] == [{**locator, "usage_mode": "auto"}]


def test_get_answers_both_tool_ids_and_tools(client: httpx.Client) -> None:
    made = client.post("/v1/convai/tools", json={"tool_config": CLIENT_TOOL}).json()
    agent = create_agent(
        client, conversation_config={"agent": {"prompt": {"tool_ids": [made["id"]]}}}
    )
    prompt = _prompt(agent)
    assert prompt["tool_ids"] == [made["id"]]
    [tool] = prompt["tools"]
    assert tool["name"] == "show_map" and tool["expects_response"] is False  # defaults filled
    assert tool == made["tool_config"]
    bare = create_agent(client)
    assert (_prompt(bare)["tools"], _prompt(bare)["tool_ids"]) == ([], [])


def test_inline_tools_become_workspace_tools_named_by_id(client: httpx.Client) -> None:
    agent = create_agent(
        client, conversation_config={"agent": {"prompt": {"tools": [CLIENT_TOOL]}}}
    )
    [tool_id] = _prompt(agent)["tool_ids"]
    assert _prompt(agent)["tools"][0]["name"] == "show_map"
    stored = client.get(f"/v1/convai/tools/{tool_id}")
    assert stored.status_code == 200 and stored.json()["tool_config"]["name"] == "show_map"


def test_a_write_naming_both_tools_and_tool_ids_is_refused(client: httpx.Client) -> None:
    made = client.post("/v1/convai/tools", json={"tool_config": CLIENT_TOOL}).json()
    both = {"agent": {"prompt": {"tools": [CLIENT_TOOL], "tool_ids": [made["id"]]}}}
    created = client.post(f"{AGENTS}/create", json={"conversation_config": both})
    assert created.status_code == 422
    assert created.json()["detail"][0]["loc"][-1] == "tools"
    agent = create_agent(client)
    url = f"{AGENTS}/{agent['agent_id']}"
    assert client.patch(url, json={"conversation_config": both}).status_code == 422
    body = {"parent_version_id": agent["version_id"], "name": "b", "description": "b"}
    branch = client.post(f"{url}/branches", json={**body, "conversation_config": both})
    assert branch.status_code == 422
    tools = client.get("/v1/convai/tools").json()["tools"]
    assert [t["id"] for t in tools] == [made["id"]]  # nothing was created by the refusals
    assert get_agent(client, agent["agent_id"])["version_id"] == agent["version_id"]
