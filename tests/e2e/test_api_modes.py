"""The client under every reading of the API's inferred behaviours (BEHAVIOUR.md): the example
agents (evaluation criteria, data collection, an agent-wide call limit) apply, then plan empty,
with the emulator in its default mode and in each knob's other mode."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.conftest import agent_ids, main_config
from tests.helpers import Runner


def test_apply_then_plan_and_drift_are_empty(mode_cli: Runner, mode_server: Any) -> None:
    code, out, err = mode_cli("apply", "--auto-approve")
    assert code == 0, out + err
    code, out, err = mode_cli("plan", "--detailed-exitcode")
    assert code == 0, out + err
    code, out, err = mode_cli("drift")
    assert code == 0, out + err
    support = main_config(mode_server, agent_ids(mode_server)["support"])
    criteria = support["platform_settings"]["evaluation"]["criteria"]
    assert criteria[0]["id"] == "greeted_as_ava"
    assert support["platform_settings"]["call_limits"]["agent_concurrency_limit"] == -1


def test_second_change_reaches_main_and_plans_empty(
    mode_cli: Runner, mode_server: Any, project: Path
) -> None:
    assert mode_cli("apply", "--auto-approve")[0] == 0
    agent = project / "agents" / "support" / "agent.yaml"
    text = agent.read_text()
    agent.write_text(text.replace("agent_concurrency_limit: -1", "agent_concurrency_limit: 5"))
    prompt = project / "agents" / "support" / "prompt.md"
    prompt.write_text(prompt.read_text().replace("apologise once", "apologise sincerely once"))
    code, out, err = mode_cli("apply", "--auto-approve")
    assert code == 0, out + err
    code, out, err = mode_cli("plan", "--detailed-exitcode")
    assert code == 0, out + err
    support = main_config(mode_server, agent_ids(mode_server)["support"])
    assert support["platform_settings"]["call_limits"]["agent_concurrency_limit"] == 5
    assert "apologise sincerely once" in support["conversation_config"]["agent"]["prompt"]["prompt"]


WORKFLOW_AND_SYSTEM_TOOLS = """\
workflow:
  nodes:
    start_node: {type: start, edge_order: [to_returns]}
    returns:
      type: override_agent
      label: Returns
      conversation_config: {agent: {prompt: {prompt: Help with a return.}}}
  edges:
    to_returns:
      source: start_node
      target: returns
      forward_condition: {type: llm, condition: The caller wants to return an item.}
"""


def test_workflow_and_system_tools_apply_then_plan_empty(
    mode_cli: Runner, mode_server: Any, project: Path
) -> None:
    agent = project / "agents" / "support" / "agent.yaml"
    text = agent.read_text().replace(
        "      temperature: 0.1\n",
        "      temperature: 0.1\n      built_in_tools:\n"
        "        end_call: {name: end_call, params: {system_tool_type: end_call}}\n",
    )
    agent.write_text(text + WORKFLOW_AND_SYSTEM_TOOLS)
    code, out, err = mode_cli("apply", "--auto-approve")
    assert code == 0, out + err
    code, out, err = mode_cli("plan", "--detailed-exitcode")
    assert code == 0, out + err
    support = main_config(mode_server, agent_ids(mode_server)["support"])
    built_in = support["conversation_config"]["agent"]["prompt"]["built_in_tools"]
    assert built_in["end_call"]["params"] == {"system_tool_type": "end_call"}
    assert support["workflow"]["nodes"]["returns"]["label"] == "Returns"
    agent.write_text(agent.read_text().replace("label: Returns", "label: Refunds"))
    code, out, err = mode_cli("apply", "--auto-approve")
    assert code == 0, out + err
    support = main_config(mode_server, agent_ids(mode_server)["support"])
    assert support["workflow"]["nodes"]["returns"]["label"] == "Refunds"
    assert mode_cli("plan", "--detailed-exitcode")[0] == 0
