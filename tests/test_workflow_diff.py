"""Workflows in the plan: nodes and edges added, removed, changed field by field; the text
lines; the Mermaid diagram of the markdown plan, checked by parsing it (no golden file)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

from convai_ops.plan import AgentPlan, FieldChange, Plan, diff_views
from convai_ops.render import render_plan_markdown, render_plan_text
from convai_ops.saved_plan import read_plan, write_plan
from convai_ops.workflow_diff import WorkflowDiagram, mermaid, workflow_diagram

ALWAYS = {"type": "unconditional"}


def _workflow() -> dict[str, Any]:
    return {
        "nodes": {
            "start": {"type": "start"},
            "billing": {"type": "override_agent", "label": "Billing", "additional_prompt": "p"},
            "end": {"type": "end"},
        },
        "edges": {
            "to_billing": {"source": "start", "target": "billing", "forward_condition": ALWAYS},
            "paid": {
                "source": "billing",
                "target": "end",
                "forward_condition": {"type": "llm", "condition": 'The caller says "paid"'},
            },
        },
    }


def _edited() -> dict[str, Any]:
    """``_workflow()`` with: billing's prompt changed, end removed (and its edge), refunds
    added with an edge from billing."""
    workflow = copy.deepcopy(_workflow())
    workflow["nodes"]["billing"]["additional_prompt"] = "q"
    del workflow["nodes"]["end"], workflow["edges"]["paid"]
    workflow["nodes"]["refunds"] = {"type": "override_agent", "label": "Refunds"}
    workflow["edges"]["to_refunds"] = {
        "source": "billing",
        "target": "refunds",
        "forward_condition": {"type": "result", "successful": True},
    }
    return workflow


def _changes() -> dict[str, FieldChange]:
    changes = diff_views({"workflow": _workflow()}, {"workflow": _edited()})
    return {c.dotted: c for c in changes}


def test_graph_changes_are_nodes_and_edges_added_removed_and_fields_changed() -> None:
    changes = _changes()
    assert {field: c.kind for field, c in changes.items()} == {
        "workflow.nodes.billing.additional_prompt": "change",
        "workflow.nodes.end": "remove",
        "workflow.nodes.refunds": "add",
        "workflow.edges.paid": "remove",
        "workflow.edges.to_refunds": "add",
    }
    assert all(c.gated for c in changes.values())  # a version holds the workflow


def test_a_workflow_added_whole_is_one_change_per_node_and_edge() -> None:
    before = {"conversation_config": {"agent": {"language": "en"}}}
    changes = diff_views(before, {**before, "workflow": _workflow()})
    assert [(c.dotted, c.kind) for c in changes] == [
        ("workflow.edges.paid", "add"),
        ("workflow.edges.to_billing", "add"),
        ("workflow.nodes.billing", "add"),
        ("workflow.nodes.end", "add"),
        ("workflow.nodes.start", "add"),
    ]


def test_a_workflow_removed_whole_is_one_change_per_node_and_edge() -> None:
    before = {"workflow": _workflow(), "name": "A"}
    changes = diff_views(before, {"name": "A"})
    assert {c.dotted for c in changes if c.kind == "remove"} == {
        "workflow.edges.paid",
        "workflow.edges.to_billing",
        "workflow.nodes.billing",
        "workflow.nodes.end",
        "workflow.nodes.start",
    }


def _plan(workflow: WorkflowDiagram | None = None) -> Plan:
    agent = AgentPlan(
        slug="support",
        action="update",
        agent_id="agent_1",
        changes=tuple(_changes().values()),
        workflow=workflow,
    )
    return Plan(environment="staging", base_url="http://127.0.0.1:1", agents=(agent,))


def test_text_shows_edges_with_their_ends_and_nodes_with_their_type() -> None:
    lines = [line.strip() for line in render_plan_text(_plan()).splitlines()]
    assert '- workflow.edges.paid: billing -> end (llm: The caller says "paid")' in lines
    assert "+ workflow.edges.to_refunds: billing -> refunds (success)" in lines
    assert '+ workflow.nodes.refunds: override_agent node "Refunds"' in lines
    assert "- workflow.nodes.end: end node" in lines
    assert '~ workflow.nodes.billing.additional_prompt: "p" -> "q"' in lines


def test_diagram_marks_every_node_and_edge() -> None:
    diagram = workflow_diagram(_workflow(), _edited())
    assert [(n.id, n.mark) for n in diagram.nodes] == [
        ("start", "unchanged"),
        ("billing", "changed"),
        ("refunds", "added"),
        ("end", "removed"),
    ]
    assert [(e.id, e.source, e.target, e.mark) for e in diagram.edges] == [
        ("to_billing", "start", "billing", "unchanged"),
        ("to_refunds", "billing", "refunds", "added"),
        ("paid", "billing", "end", "removed"),
    ]


_NODE = re.compile(r'^    (n\d+)\["([^"]*)"\]$')
_EDGE = re.compile(r'^    (n\d+) (-->|-\.->|<-->|<-\.->)(?:\|"([^"]*)"\|)? (n\d+)$')
_CLASS = re.compile(r"^    class ([\w,]+) (\w+)$")
_LINK = re.compile(r"^    linkStyle (\d+) (.+)$")


def parse_mermaid(chart: str) -> dict[str, Any]:
    """The Mermaid flowchart as nodes {id: text}, edges [(from, arrow, text, to)], classes
    {mark: [ids]}, link styles {index: style}; fails on any line it does not know."""
    lines = chart.splitlines()
    assert lines[0] == "flowchart TD"
    parsed: dict[str, Any] = {"nodes": {}, "edges": [], "classes": {}, "links": {}, "defs": set()}
    for line in lines[1:]:
        if node := _NODE.match(line):
            parsed["nodes"][node[1]] = node[2]
        elif edge := _EDGE.match(line):
            parsed["edges"].append((edge[1], edge[2], edge[3], edge[4]))
        elif klass := _CLASS.match(line):
            parsed["classes"][klass[2]] = klass[1].split(",")
        elif link := _LINK.match(line):
            parsed["links"][int(link[1])] = link[2]
        else:
            assert line.startswith("    classDef "), line
            parsed["defs"].add(line.split()[1])
    return parsed


def test_mermaid_draws_the_graph_with_marked_nodes_and_edges() -> None:
    chart = parse_mermaid(mermaid(workflow_diagram(_workflow(), _edited())))
    ids = {text.split(":")[0]: key for key, text in chart["nodes"].items()}
    assert set(ids) == {"start", "Billing (billing)", "Refunds (refunds)", "end"}
    start, billing, refunds, end = (
        ids[k] for k in ("start", "Billing (billing)", "Refunds (refunds)", "end")
    )
    assert chart["edges"] == [
        (start, "-->", None, billing),
        (billing, "-->", "success", refunds),
        (billing, "-.->", "llm: The caller says #quot;paid#quot;", end),
    ]
    assert chart["classes"] == {"added": [refunds], "removed": [end], "changed": [billing]}
    assert chart["defs"] == {"added", "removed", "changed"}
    assert sorted(chart["links"]) == [1, 2]  # the added and the removed edge
    assert "dasharray" in chart["links"][2]


def test_mermaid_draws_an_edge_to_a_missing_node_and_escapes_labels() -> None:
    workflow = {
        "nodes": {"a": {"type": "start", "label": 'Say "<hi>" #1'}},
        "edges": {"e": {"source": "a", "target": "ghost"}},
    }
    chart = parse_mermaid(mermaid(workflow_diagram(None, workflow)))
    assert chart["nodes"] == {
        "n0": "Say #quot;#lt;hi#gt;#quot; #35;1 (a): start",
        "n1": "ghost (missing)",
    }
    assert chart["edges"] == [("n0", "-->", None, "n1")]
    assert chart["classes"] == {"added": ["n0"]}


def test_markdown_plan_has_the_diagram_under_the_agents_section() -> None:
    markdown = render_plan_markdown(_plan(workflow_diagram(_workflow(), _edited())))
    section = markdown.split("<details>", 1)[1].split("</details>", 1)[0]
    assert "```diff" in section
    chart = section.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert parse_mermaid(chart)["classes"]["added"]


def test_markdown_plan_without_a_workflow_change_has_no_diagram() -> None:
    assert "mermaid" not in render_plan_markdown(_plan())


def test_saved_plan_keeps_the_diagram(tmp_path: Path) -> None:
    plan = _plan(workflow_diagram(_workflow(), _edited()))
    write_plan(plan, tmp_path / "plan.json")
    read = read_plan(tmp_path / "plan.json")
    assert read == plan
    assert read.agents[0].workflow is not None
    assert json.loads((tmp_path / "plan.json").read_text())["agents"][0]["workflow"]["nodes"]


def test_a_plan_carries_a_diagram_only_when_the_workflow_changes() -> None:
    from convai_ops.plan import changed_workflow_diagram as _diagram

    before, after = {"workflow": _workflow()}, {"workflow": _edited()}
    diagram = _diagram(before, after, diff_views(before, after))
    assert diagram == workflow_diagram(_workflow(), _edited())
    name_only = diff_views({**before, "name": "A"}, {**before, "name": "B"})
    assert _diagram({**before, "name": "A"}, {**before, "name": "B"}, name_only) is None


def test_a_new_agent_lists_each_node_and_edge_once() -> None:
    changes = diff_views({}, {"name": "A", "workflow": _workflow()})
    assert [c.dotted for c in changes] == [
        "name",
        "workflow.edges.paid",
        "workflow.edges.to_billing",
        "workflow.nodes.billing",
        "workflow.nodes.end",
        "workflow.nodes.start",
    ]
    assert changes[3].after == _workflow()["nodes"]["billing"]
