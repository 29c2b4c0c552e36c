"""Built-in system tools (``conversation_config.agent.prompt.built_in_tools``) round-trip
through import, plan, apply and pull: a plain ``end_call`` (params holding only its
``system_tool_type`` tag) is declared, not dropped as a default."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from ruamel.yaml import YAML

from .helpers import Cli, allow_untested

CreateAgent = Callable[[dict[str, Any]], str]


def system_tool(kind: str, **params: Any) -> dict[str, Any]:
    """A built-in tool as the dashboard sends it: ``{name, description, params}``."""
    return {"name": kind, "description": "", "params": {"system_tool_type": kind, **params}}


BUILT_IN = {kind: system_tool(kind) for kind in ("end_call", "language_detection", "skip_turn")}


def _built_in(project: Path) -> dict[str, Any]:
    path = project / "agents" / "desk" / "agent.yaml"
    data = YAML(typ="safe").load(path.read_text("utf-8"))
    tools: dict[str, Any] = data["conversation_config"]["agent"]["prompt"]["built_in_tools"]
    return tools


def _live_built_in(api: httpx.Client, agent_id: str) -> dict[str, Any]:
    body = api.get(f"/v1/convai/agents/{agent_id}").json()
    tools: dict[str, Any] = body["conversation_config"]["agent"]["prompt"]["built_in_tools"]
    return tools


def test_import_declares_plain_system_tools_and_plans_nothing(
    cli: Cli, create_agent: CreateAgent, project: Path
) -> None:
    prompt = {"prompt": "Hi.", "built_in_tools": BUILT_IN}
    agent_id = create_agent({"name": "Desk", "conversation_config": {"agent": {"prompt": prompt}}})
    code, out, err = cli("import", agent_id, "--slug", "desk")
    assert code == 0, out + err
    assert "left out" not in out + err
    declared = _built_in(project)
    assert sorted(declared) == sorted(BUILT_IN)
    for kind, tool in declared.items():
        assert tool["name"] == kind and tool["params"] == {"system_tool_type": kind}
    assert cli("plan", "--detailed-exitcode")[0] == 0


def test_system_tool_edit_in_the_repository_is_applied_and_pulled_back(
    cli: Cli, create_agent: CreateAgent, api: httpx.Client, project: Path
) -> None:
    prompt = {"prompt": "Hi.", "built_in_tools": {"end_call": BUILT_IN["end_call"]}}
    agent_id = create_agent({"name": "Desk", "conversation_config": {"agent": {"prompt": prompt}}})
    assert cli("import", agent_id, "--slug", "desk")[0] == 0
    path = project / "agents" / "desk" / "agent.yaml"
    text = path.read_text("utf-8").replace(
        "      built_in_tools:\n",
        "      built_in_tools:\n        language_detection:\n          name: language_detection\n"
        "          params:\n            system_tool_type: language_detection\n"
        "            only_at_conversation_start: true\n",
    )
    path.write_text(text, "utf-8")
    allow_untested(project)
    code, out, err = cli("plan", "--detailed-exitcode")
    assert code == 2 and "language_detection" in out, out + err
    code, out, err = cli("apply", "--auto-approve")
    assert code == 0, out + err
    live = _live_built_in(api, agent_id)
    assert live["end_call"]["params"] == {"system_tool_type": "end_call"}
    assert live["language_detection"]["params"]["only_at_conversation_start"] is True
    assert cli("plan", "--detailed-exitcode")[0] == 0
    params = {"system_tool_type": "language_detection", "only_at_conversation_start": False}
    built_in = {"language_detection": {"name": "language_detection", "params": params}}
    change = {"agent": {"prompt": {"built_in_tools": built_in}}}
    api.patch(
        f"/v1/convai/agents/{agent_id}", json={"conversation_config": change}
    ).raise_for_status()
    assert cli("plan", "--detailed-exitcode")[0] == 2  # a dashboard edit of a declared tool
    code, out, err = cli("pull", "desk")
    assert code == 0, out + err
    declared = _built_in(project)
    assert declared["language_detection"]["params"].get("only_at_conversation_start") is False
    assert declared["end_call"]["params"] == {"system_tool_type": "end_call"}
    assert cli("plan", "--detailed-exitcode")[0] == 0
