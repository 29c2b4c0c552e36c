"""Import and pull of what a GET answers beyond what was sent: ``prompt.tools`` beside
``prompt.tool_ids`` (agent.yaml declares only one: the API refuses both) and list items with
the API's defaults filled in (agent.yaml declares them without)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from ruamel.yaml import YAML

from .helpers import Cli, allow_untested

CreateAgent = Callable[[dict[str, Any]], str]
TOOL = {"type": "client", "name": "show_map", "description": "Shows a map."}


def _agent_yaml(project: Path) -> dict[str, Any]:
    path = project / "agents" / "maps" / "agent.yaml"
    data: dict[str, Any] = YAML(typ="safe").load(path.read_text("utf-8"))
    return data


def _prompt_yaml(project: Path) -> dict[str, Any]:
    prompt: dict[str, Any] = _agent_yaml(project)["conversation_config"]["agent"]["prompt"]
    return prompt


def _import(cli: Cli, create_agent: CreateAgent, prompt: dict[str, Any]) -> str:
    body = {
        "name": "Maps",
        "conversation_config": {"agent": {"prompt": {"prompt": "Hi.", **prompt}}},
    }
    agent_id = create_agent(body)
    code, out, err = cli("import", agent_id, "--slug", "maps")
    assert code == 0, out + err
    return agent_id


def test_import_names_tools_instead_of_ids(
    cli: Cli, create_agent: CreateAgent, api: httpx.Client, project: Path
) -> None:
    tool_id = api.post("/v1/convai/tools", json={"tool_config": TOOL}).json()["id"]
    agent_id = _import(cli, create_agent, {"tool_ids": [tool_id]})
    live = api.get(f"/v1/convai/agents/{agent_id}").json()["conversation_config"]["agent"]
    assert live["prompt"]["tools"] and live["prompt"]["tool_ids"] == [tool_id]  # GET: both
    assert _agent_yaml(project)["tools"] == ["show_map"]  # a name, never the workspace's id
    prompt = _prompt_yaml(project)
    assert "tool_ids" not in prompt and "tools" not in prompt
    tool_file = YAML(typ="safe").load((project / "tools" / "show_map.yaml").read_text("utf-8"))
    assert tool_file == {"tool_config": TOOL}  # the create body, without id or defaults
    assert cli("plan", "--detailed-exitcode")[0] == 0
    (project / "agents" / "maps" / "prompt.md").write_text("Hello.\n", "utf-8")
    allow_untested(project)
    code, out, err = cli("apply", "--auto-approve")  # sends tool_ids only: accepted
    assert code == 0, out + err
    after = api.get(f"/v1/convai/agents/{agent_id}").json()["conversation_config"]["agent"]
    assert after["prompt"]["prompt"] == "Hello." and after["prompt"]["tool_ids"] == [tool_id]
    assert cli("pull", "maps")[0] == 0
    prompt = _prompt_yaml(project)
    assert "tools" not in prompt and "tool_ids" not in prompt
    assert _agent_yaml(project)["tools"] == ["show_map"]


def test_import_without_tools_declares_neither(
    cli: Cli, create_agent: CreateAgent, project: Path
) -> None:
    _import(cli, create_agent, {})
    prompt = _prompt_yaml(project)
    assert "tools" not in prompt and "tool_ids" not in prompt


def test_import_writes_list_items_without_the_apis_defaults(
    cli: Cli, create_agent: CreateAgent, project: Path
) -> None:
    criterion = {"id": "ok", "name": "OK", "conversation_goal_prompt": "Done.", "llm": "gpt-4o"}
    body = {
        "name": "Maps",
        "conversation_config": {"agent": {"prompt": {"prompt": "Hi."}}},
        "platform_settings": {"evaluation": {"criteria": [criterion]}},
    }
    agent_id = create_agent(body)
    assert cli("import", agent_id, "--slug", "maps")[0] == 0
    path = project / "agents" / "maps" / "agent.yaml"
    data = YAML(typ="safe").load(path.read_text("utf-8"))
    assert data["platform_settings"]["evaluation"]["criteria"] == [criterion]
    assert cli("plan", "--detailed-exitcode")[0] == 0
