"""``workflow:`` (nodes and edges) round-trips through import, plan, apply and pull: it is
versioned (apply stages it on a branch), compared whole with the API's response defaults
filled in on both sides, and written by import and pull without those defaults."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from ruamel.yaml import YAML

from convai_ops.plan import workflow_view

from .helpers import Cli, allow_untested

CreateAgent = Callable[[dict[str, Any]], str]

WORKFLOW: dict[str, Any] = {
    "nodes": {
        "start_node": {"type": "start", "position": {"x": 0, "y": 0}, "edge_order": ["to_billing"]},
        "billing": {
            "type": "override_agent",
            "label": "Billing",
            "position": {"x": 200, "y": 0},
            "edge_order": ["to_end"],
            "conversation_config": {"agent": {"prompt": {"prompt": "Handle billing."}}},
        },
        "end_node": {"type": "end", "position": {"x": 400, "y": 0}},
    },
    "edges": {
        "to_billing": {
            "source": "start_node",
            "target": "billing",
            "forward_condition": {"type": "llm", "condition": "The caller asks about a bill."},
        },
        "to_end": {
            "source": "billing",
            "target": "end_node",
            "forward_condition": {"type": "unconditional"},
        },
    },
}


def _agent_yaml(project: Path) -> dict[str, Any]:
    path = project / "agents" / "desk" / "agent.yaml"
    data: dict[str, Any] = YAML(typ="safe").load(path.read_text("utf-8"))
    return data


def _write_workflow(project: Path, workflow: dict[str, Any]) -> None:
    path = project / "agents" / "desk" / "agent.yaml"
    yaml = YAML()
    data = yaml.load(path.read_text("utf-8"))
    data["workflow"] = workflow
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(data, handle)


def _import(cli: Cli, create_agent: CreateAgent) -> str:
    prompt = {"prompt": "Hi."}
    body = {"name": "Desk", "conversation_config": {"agent": {"prompt": prompt}}}
    agent_id = create_agent({**body, "workflow": WORKFLOW})
    code, out, err = cli("import", agent_id, "--slug", "desk")
    assert code == 0, out + err
    return agent_id


def test_get_answers_the_workflow_with_its_defaults_filled_in(
    create_agent: CreateAgent, api: httpx.Client
) -> None:
    agent_id = create_agent({"name": "Desk", "conversation_config": {}, "workflow": WORKFLOW})
    live = api.get(f"/v1/convai/agents/{agent_id}").json()["workflow"]
    assert live["nodes"]["billing"]["entry_behavior"] == "auto"  # a response default
    assert live["nodes"]["billing"]["conversation_config"]["tts"] is None
    assert live["prevent_subagent_loops"] is False


def test_import_writes_the_workflow_without_defaults_and_plans_nothing(
    cli: Cli, create_agent: CreateAgent, project: Path
) -> None:
    _import(cli, create_agent)
    declared = _agent_yaml(project)["workflow"]
    assert workflow_view(declared) == workflow_view(WORKFLOW)  # nothing lost
    assert set(declared["nodes"]) == set(WORKFLOW["nodes"])
    assert declared["edges"] == WORKFLOW["edges"]  # each condition keeps its type
    assert declared["nodes"]["end_node"] == {"type": "end", "position": {"x": 400}}  # y: 0
    billing = declared["nodes"]["billing"]
    assert "entry_behavior" not in billing  # a default the API filled in
    assert billing["conversation_config"] == {"agent": {"prompt": {"prompt": "Handle billing."}}}
    assert cli("plan", "--detailed-exitcode")[0] == 0


def test_workflow_edit_is_gated_applied_on_a_branch_and_merged(
    cli: Cli, create_agent: CreateAgent, api: httpx.Client, project: Path
) -> None:
    agent_id = _import(cli, create_agent)
    edited = copy.deepcopy(WORKFLOW)
    edited["nodes"]["billing"]["label"] = "Invoices"
    edited["nodes"]["refunds"] = {"type": "override_agent", "label": "Refunds"}
    edited["edges"]["to_refunds"] = {"source": "start_node", "target": "refunds"}
    _write_workflow(project, edited)
    code, out, err = cli("plan", "--detailed-exitcode", "--format", "json")
    assert code == 2, out + err
    changes = json.loads(out)["agents"][0]["changes"]
    assert changes and all(c["path"][0] == "workflow" and c["gated"] for c in changes)
    allow_untested(project)
    code, out, err = cli("apply", "--auto-approve")
    assert code == 0, out + err
    assert "created branch" in out + err  # the workflow went through a branch
    live = api.get(f"/v1/convai/agents/{agent_id}").json()["workflow"]
    assert live["nodes"]["billing"]["label"] == "Invoices"
    assert set(live["nodes"]) == {"start_node", "billing", "refunds", "end_node"}
    assert set(live["edges"]) == {"to_billing", "to_end", "to_refunds"}
    assert cli("plan", "--detailed-exitcode")[0] == 0


def test_dashboard_workflow_edit_shows_in_plan_and_pull_adopts_it(
    cli: Cli, create_agent: CreateAgent, api: httpx.Client, project: Path
) -> None:
    agent_id = _import(cli, create_agent)
    live = copy.deepcopy(WORKFLOW)
    del live["nodes"]["billing"], live["edges"]["to_billing"], live["edges"]["to_end"]
    live["nodes"]["start_node"]["edge_order"] = []
    api.patch(f"/v1/convai/agents/{agent_id}", json={"workflow": live}).raise_for_status()
    code, out, err = cli("plan", "--detailed-exitcode")
    assert code == 2 and "billing" in out, out + err  # the node the dashboard removed
    code, out, err = cli("pull", "desk")
    assert code == 0, out + err
    assert workflow_view(_agent_yaml(project)["workflow"]) == workflow_view(live)
    assert cli("plan", "--detailed-exitcode")[0] == 0
