"""Lists of objects in the plan over real HTTP: after applying the example, an edited evaluation
criterion shows as exactly its edited field under its id; an added criterion and a reorder show
as such, and apply (which writes the list whole) leaves the plan empty."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.e2e.conftest import agent_ids, main_config
from tests.helpers import Runner

GOAL = 'The agent greets the caller as "Ava from Acme Outdoor Gear".'
NEW_GOAL = "The agent greets the caller by name."
FIELD = "platform_settings.evaluation.criteria[greeted_as_ava].conversation_goal_prompt"
SECOND = """\
      - id: asked_order_number
        name: Asked for the order number
        conversation_goal_prompt: The agent asks for the order number.
"""


def _agent_yaml(project: Path) -> Path:
    return project / "agents" / "support" / "agent.yaml"


def _edit(project: Path, old: str, new: str) -> None:
    path = _agent_yaml(project)
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")


def test_an_edited_criterion_plans_as_exactly_that_field(cli: Runner, project: Path) -> None:
    code, out, err = cli("apply", "--auto-approve")
    assert code == 0, out + err
    _edit(project, GOAL, NEW_GOAL)
    code, out, err = cli("plan", "--detailed-exitcode")
    assert code == 2, out + err
    changed = [line.strip() for line in out.splitlines() if line.startswith("    ~ ")]
    assert changed == [f"~ {FIELD}: {json.dumps(GOAL)} -> {json.dumps(NEW_GOAL)}"]
    code, out, _ = cli("plan", "--format", "json")
    [support] = [a for a in json.loads(out)["agents"] if a["slug"] == "support"]
    [change] = support["changes"]
    assert change["path"] == [
        "platform_settings",
        "evaluation",
        "criteria",
        "[greeted_as_ava]",
        "conversation_goal_prompt",
    ]
    assert (change["field"], change["kind"], change["gated"]) == (FIELD, "change", True)


def test_an_added_criterion_and_a_reorder_plan_as_such_then_apply_empties_the_plan(
    cli: Runner, server: Any, project: Path
) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    _edit(project, "    criteria:\n", f"    criteria:\n{SECOND}")  # new item, now first
    code, out, err = cli("plan", "--detailed-exitcode")
    assert code == 2, out + err
    lines = [line.strip() for line in out.splitlines()]
    assert "+ platform_settings.evaluation.criteria[asked_order_number]:" in lines
    assert 'conversation_goal_prompt: "The agent asks for the order number."' in lines
    assert not any("criteria: order" in line for line in lines)  # an insertion, not a reorder
    code, out, err = cli("apply", "--auto-approve")
    assert code == 0, out + err
    live = main_config(server, agent_ids(server)["support"])["platform_settings"]
    assert [c["id"] for c in live["evaluation"]["criteria"]] == [
        "asked_order_number",
        "greeted_as_ava",
        "warranty_stated",
    ]
    _move_first_criterion_last(project)
    code, out, _ = cli("plan", "--detailed-exitcode")
    assert code == 2, out
    before = '["asked_order_number", "greeted_as_ava", "warranty_stated"]'
    after = '["greeted_as_ava", "warranty_stated", "asked_order_number"]'
    assert f"~ platform_settings.evaluation.criteria: order {before} -> {after}" in out
    assert cli("apply", "--auto-approve")[0] == 0
    code, out, _ = cli("plan", "--detailed-exitcode")
    assert code == 0, out


def _move_first_criterion_last(project: Path) -> None:
    path = _agent_yaml(project)
    text = path.read_text("utf-8").replace(SECOND, "", 1)
    head, tail = text.split("  data_collection:", 1)
    path.write_text(f"{head}{SECOND}  data_collection:{tail}", "utf-8")


def test_an_item_to_add_shows_what_the_repository_declares(cli: Runner) -> None:
    """The comparison fills the API's defaults into items; the display does not."""
    code, out, _ = cli("plan", "--format", "json")
    assert code == 0, out
    support = next(a for a in json.loads(out)["agents"] if a["slug"] == "support")
    [added] = [c for c in support["changes"] if c["path"][-1] == "[greeted_as_ava]"]
    assert added["kind"] == "add"
    assert added["after"] == {
        "id": "greeted_as_ava",
        "name": "Greeted as Ava",
        "conversation_goal_prompt": GOAL,
    }
    code, out, _ = cli("plan")
    assert "criteria[greeted_as_ava]:" in out and "scoring_mode" not in out
