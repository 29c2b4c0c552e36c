"""An agent declaring evaluation criteria and data collection with only their required fields:
the API fills the items' defaults, and plan, drift, pull and apply's read-back verification
must not see that as a change; a real dashboard edit of an item still shows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.e2e.conftest import KEY, agent_ids, main_config

DECLARED = """\
platform_settings:
  evaluation:
    criteria:
      - id: resolved
        name: Resolved
        conversation_goal_prompt: The caller's question was answered.
  data_collection:
    order_number:
      type: string
      description: The order number the caller gives.
"""


def _declare_lists(project: Path) -> Path:
    path = project / "agents" / "assistant" / "agent.yaml"
    head = path.read_text("utf-8").split("\nplatform_settings:", 1)[0].rstrip("\n")
    path.write_text(f"{head}\n{DECLARED}", "utf-8")
    return path


def _dashboard_edit(server: Any, agent_id: str, criterion: dict[str, Any]) -> None:
    """What a dashboard edit of main does: a PATCH of the live agent."""
    patch = {"platform_settings": {"evaluation": {"criteria": [criterion]}}}
    response = httpx.patch(
        f"{server.url}/v1/convai/agents/{agent_id}", json=patch, headers={"xi-api-key": KEY}
    )
    response.raise_for_status()


def test_required_fields_only_plan_empty_after_apply(cli: Any, server: Any, project: Path) -> None:
    _declare_lists(project)
    code, out, err = cli("apply", "--auto-approve")
    assert code == 0, out + err  # includes apply's read-back verification
    live = main_config(server, agent_ids(server)["assistant"])["platform_settings"]
    assert live["evaluation"]["criteria"][0]["scoring_mode"] == "binary"  # the API filled it
    code, out, _ = cli("plan", "--detailed-exitcode")
    assert code == 0, out
    assert "No changes." in out
    code, out, _ = cli("drift")
    assert code == 0, out
    before = (project / "agents" / "assistant" / "agent.yaml").read_text("utf-8")
    code, out, _ = cli("pull", "assistant")
    assert code == 0, out
    assert (project / "agents" / "assistant" / "agent.yaml").read_text("utf-8") == before


def test_dashboard_edit_of_a_list_item_shows_in_plan_and_drift(
    cli: Any, server: Any, project: Path
) -> None:
    path = _declare_lists(project)
    assert cli("apply", "--auto-approve")[0] == 0
    agent_id = agent_ids(server)["assistant"]
    criterion = main_config(server, agent_id)["platform_settings"]["evaluation"]["criteria"][0]
    _dashboard_edit(server, agent_id, {**criterion, "llm": "gpt-4o"})
    code, out, _ = cli("plan", "--detailed-exitcode")
    assert code == 2, out
    assert "platform_settings.evaluation.criteria" in out
    code, out, _ = cli("drift")
    assert code == 2, out
    assert "gpt-4o" in out
    assert cli("pull", "assistant")[0] == 0
    pulled = path.read_text("utf-8")
    assert "llm: gpt-4o" in pulled
    assert "scoring_mode" not in pulled  # the item's defaults are not written out
    assert cli("plan", "--detailed-exitcode")[0] == 0


def test_inline_tools_plan_empty_after_apply(cli: Any, server: Any, project: Path) -> None:
    """Inline tools (deprecated, but accepted) read back as full configs beside their new
    tool_ids: the plan compares the declared items with their defaults filled."""
    path = project / "agents" / "assistant" / "agent.yaml"
    text = path.read_text("utf-8").replace(
        "      max_tokens: 1000\n",
        "      max_tokens: 1000\n"
        "      tools:\n"
        "        - {type: client, name: show_map, description: Shows a map of the office.}\n",
    )
    path.write_text(text, "utf-8")
    code, out, err = cli("apply", "--auto-approve")
    assert code == 0, out + err
    prompt = main_config(server, agent_ids(server)["assistant"])["conversation_config"]["agent"]
    assert len(prompt["prompt"]["tool_ids"]) == 1
    assert prompt["prompt"]["tools"][0]["expects_response"] is False
    code, out, _ = cli("plan", "--detailed-exitcode")
    assert code == 0, out
