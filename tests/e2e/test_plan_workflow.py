"""A workflow as the API answers it (over loopback), diffed between two reads of main: a
dashboard edit adds a node, removes one with its edge and renames a third; the plan's lines and
its Mermaid diagram say exactly that. (agent.yaml does not declare ``workflow:`` in this
slice: the views are built from the two GET bodies.)"""

from __future__ import annotations

import copy
from typing import Any

import httpx

from convai_ops.plan import AgentPlan, Plan, diff_views
from convai_ops.render import render_plan_markdown, render_plan_text
from convai_ops.workflow_diff import workflow_diagram
from tests.e2e.conftest import KEY, main_config
from tests.test_workflow_diff import parse_mermaid

WORKFLOW = {
    "nodes": {
        "start_node": {"type": "start"},
        "billing": {"type": "override_agent", "label": "Billing", "additional_prompt": "Bills"},
        "end_node": {"type": "end"},
    },
    "edges": {
        "start_to_billing": {
            "source": "start_node",
            "target": "billing",
            "forward_condition": {"type": "unconditional"},
        },
        "billing_to_end": {
            "source": "billing",
            "target": "end_node",
            "forward_condition": {"type": "llm", "condition": "The bill is paid"},
        },
    },
}


def _edited() -> dict[str, Any]:
    workflow = copy.deepcopy(WORKFLOW)
    workflow["nodes"]["billing"]["label"] = "Billing desk"
    del workflow["nodes"]["end_node"], workflow["edges"]["billing_to_end"]
    workflow["nodes"]["refunds"] = {"type": "override_agent", "label": "Refunds"}
    workflow["edges"]["billing_to_refunds"] = {
        "source": "billing",
        "target": "refunds",
        "forward_condition": {"type": "llm", "condition": "The caller wants a refund"},
    }
    return workflow


def _create(server: Any) -> str:
    body = {"name": "Router", "conversation_config": {}, "workflow": WORKFLOW}
    response = httpx.post(
        f"{server.url}/v1/convai/agents/create", json=body, headers={"xi-api-key": KEY}
    )
    response.raise_for_status()
    agent_id: str = response.json()["agent_id"]
    return agent_id


def _patch(server: Any, agent_id: str, workflow: dict[str, Any]) -> None:
    response = httpx.patch(
        f"{server.url}/v1/convai/agents/{agent_id}",
        json={"workflow": workflow},
        headers={"xi-api-key": KEY},
    )
    response.raise_for_status()


def test_a_dashboard_edit_of_a_workflow_plans_as_graph_changes(server: Any) -> None:
    agent_id = _create(server)
    before = {"workflow": main_config(server, agent_id)["workflow"]}
    _patch(server, agent_id, _edited())
    after = {"workflow": main_config(server, agent_id)["workflow"]}
    changes = diff_views(before, after)
    assert {(c.dotted, c.kind) for c in changes} == {
        ("workflow.nodes.billing.label", "change"),
        ("workflow.nodes.end_node", "remove"),
        ("workflow.nodes.refunds", "add"),
        ("workflow.edges.billing_to_end", "remove"),
        ("workflow.edges.billing_to_refunds", "add"),
    }
    diagram = workflow_diagram(before["workflow"], after["workflow"])
    agent = AgentPlan(slug="router", action="update", changes=tuple(changes), workflow=diagram)
    plan = Plan(environment="staging", base_url=server.url, agents=(agent,))
    text = render_plan_text(plan)
    assert "+ workflow.edges.billing_to_refunds: billing -> refunds (llm: The caller" in text
    assert "- workflow.edges.billing_to_end: billing -> end_node (llm: The bill is paid)" in text
    chart = render_plan_markdown(plan).split("```mermaid\n", 1)[1].split("```", 1)[0]
    marks = {mark: len(ids) for mark, ids in parse_mermaid(chart)["classes"].items()}
    assert marks == {"added": 1, "removed": 1, "changed": 1}
