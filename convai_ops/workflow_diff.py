"""A workflow's changes as a graph: nodes and edges added, removed, changed; a Mermaid diagram.

The API's ``workflow`` is ``{"nodes": {id: node}, "edges": {id: edge}}``
(``AgentWorkflowRequestModel``; a node has a ``type`` and often a ``label``, an edge a
``source`` and a ``target`` node id and a ``forward_condition``). The plan diffs it as any
other dict, node by node and field by field; this module adds what a reader of a graph wants:

- :func:`expand_graph_changes`: a workflow (or its ``nodes`` / ``edges``) added or removed
  whole becomes one change per node and edge;
- :func:`graph_summary`: the one-line text of a node or edge added or removed
  (``start -> billing (llm: caller asks about a bill)``);
- :func:`workflow_diagram` and :func:`mermaid`: the whole graph, each node and edge marked
  ``added``, ``removed``, ``changed`` or ``unchanged``, as a Mermaid flowchart (GitHub draws it
  in a markdown plan) with the marks as ``classDef`` styles.

Pure functions on JSON-like values; no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from convai_ops.dicts import json_equal
from convai_ops.field_diff import RawChange

__all__ = [
    "DiagramEdge",
    "DiagramNode",
    "Mark",
    "WorkflowDiagram",
    "expand_graph_changes",
    "graph_summary",
    "is_graph_entry",
    "mermaid",
    "workflow_diagram",
]

Mark = Literal["added", "removed", "changed", "unchanged"]
_WHOLE = {("workflow",), ("workflow", "nodes"), ("workflow", "edges")}
_LABEL_MAX = 40
#: Mermaid styles of the marks (GitHub's diff colours); removed nodes are dashed.
_STYLES = {
    "added": "fill:#dafbe1,stroke:#1a7f37,color:#1f2328",
    "removed": "fill:#ffebe9,stroke:#cf222e,stroke-dasharray:5 5,color:#1f2328",
    "changed": "fill:#fff8c5,stroke:#9a6700,color:#1f2328",
}
_LINK_STYLES = {
    "added": "stroke:#1a7f37,stroke-width:2px",
    "removed": "stroke:#cf222e,stroke-width:2px,stroke-dasharray:5 5",
    "changed": "stroke:#9a6700,stroke-width:2px",
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class DiagramNode(_Frozen):
    """A workflow node: its ``id`` (key in ``nodes``), ``type``, ``label`` and ``mark``."""

    id: str
    type: str
    label: str
    mark: Mark


class DiagramEdge(_Frozen):
    """A workflow edge: its ``id``, ``source`` -> ``target`` node ids, a short ``condition``
    (``""`` when unconditional), ``both_ways`` when it has a backward condition, ``mark``."""

    id: str
    source: str
    target: str
    condition: str = ""
    both_ways: bool = False
    mark: Mark


class WorkflowDiagram(_Frozen):
    """The workflow after the change, plus what it removes: nodes and edges in the desired
    order, removed ones last."""

    nodes: tuple[DiagramNode, ...] = ()
    edges: tuple[DiagramEdge, ...] = ()


def is_graph_entry(path: Sequence[str]) -> bool:
    """True for the path of one workflow node or edge: ``("workflow", "nodes", id)``."""
    return len(path) == 3 and path[0] == "workflow" and path[1] in ("nodes", "edges")


def expand_graph_changes(changes: Sequence[RawChange]) -> list[RawChange]:
    """``changes`` sorted by path, with a workflow, ``workflow.nodes`` or ``workflow.edges``
    added or removed whole split into one change per node and edge (and per other key)."""
    return sorted((c for change in changes for c in _expand(change)), key=lambda c: c.path)


def _expand(change: RawChange) -> Iterator[RawChange]:
    value = change.after if change.kind == "add" else change.before
    if change.path not in _WHOLE or change.kind not in ("add", "remove") or not value:
        yield change
        return
    if not isinstance(value, Mapping):
        yield change
        return
    for key, item in value.items():
        old, new = (None, item) if change.kind == "add" else (item, None)
        yield from _expand(RawChange((*change.path, str(key)), change.kind, old, new))


def graph_summary(path: Sequence[str], value: Any) -> str | None:
    """One line for a workflow node or edge added or removed whole (``value`` is the node or
    edge): ``override_agent node "Billing"``, ``start -> billing (llm: ...)``; ``None`` for
    any other path."""
    if len(path) != 3 or path[0] != "workflow" or not isinstance(value, Mapping):
        return None
    if path[1] == "nodes":
        label = value.get("label")
        named = f' "{label}"' if isinstance(label, str) and label else ""
        return f"{value.get('type', '?')} node{named}"
    if path[1] == "edges":
        edge = _edge(str(path[2]), value, "unchanged")
        arrow = "<->" if edge.both_ways else "->"
        condition = f" ({edge.condition})" if edge.condition else ""
        return f"{edge.source} {arrow} {edge.target}{condition}"
    return None


def workflow_diagram(before: Any, after: Any) -> WorkflowDiagram:
    """The graph of ``after`` with what ``before`` had and ``after`` lacks, each node and edge
    marked by comparing it (as JSON values) with ``before``'s of the same id. Either side may
    be ``None`` or ``{}`` (no workflow)."""
    nodes = [_node(key, value, mark) for key, value, mark in _marked(before, after, "nodes")]
    edges = [_edge(key, value, mark) for key, value, mark in _marked(before, after, "edges")]
    return WorkflowDiagram(nodes=tuple(nodes), edges=tuple(edges))


def _marked(before: Any, after: Any, part: str) -> Iterator[tuple[str, Mapping[str, Any], Mark]]:
    old, new = _part(before, part), _part(after, part)
    for key, value in new.items():
        if key not in old:
            yield key, value, "added"
        else:
            yield key, value, "unchanged" if json_equal(old[key], value) else "changed"
    for key, value in old.items():
        if key not in new:
            yield key, value, "removed"


def _part(workflow: Any, part: str) -> dict[str, Mapping[str, Any]]:
    entries = workflow.get(part) if isinstance(workflow, Mapping) else None
    if not isinstance(entries, Mapping):
        return {}
    return {str(k): v for k, v in entries.items() if isinstance(v, Mapping)}


def _node(key: str, node: Mapping[str, Any], mark: Mark) -> DiagramNode:
    label = node.get("label")
    text = label if isinstance(label, str) and label else key
    return DiagramNode(id=key, type=str(node.get("type", "?")), label=text, mark=mark)


def _edge(key: str, edge: Mapping[str, Any], mark: Mark) -> DiagramEdge:
    return DiagramEdge(
        id=key,
        source=str(edge.get("source", "?")),
        target=str(edge.get("target", "?")),
        condition=_condition(edge.get("forward_condition")),
        both_ways=isinstance(edge.get("backward_condition"), Mapping),
        mark=mark,
    )


def _condition(condition: Any) -> str:
    """A short text for an edge's condition: ``llm: <condition>``, ``success``, ``failure``,
    ``expression``, or ``""`` when unconditional (``WorkflowEdgeModel`` condition types)."""
    if not isinstance(condition, Mapping):
        return ""
    if isinstance(condition.get("condition"), str):
        return f"llm: {_clip(condition['condition'])}"
    if isinstance(condition.get("successful"), bool):
        return "success" if condition["successful"] else "failure"
    if condition.get("type") == "expression" or "expression" in condition:
        return "expression"
    return ""


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _LABEL_MAX else text[: _LABEL_MAX - 3] + "..."


def mermaid(diagram: WorkflowDiagram) -> str:
    """``diagram`` as a Mermaid flowchart (top-down): one ``nK["..."]`` line per node (its id,
    label and type), one line per edge (``-.->`` for a removed one, its condition as the edge
    text), a ``classDef`` and a ``class`` line per mark present (``added``, ``removed``,
    ``changed``) and a ``linkStyle`` per marked edge. Node ids are ``n0``, ``n1`` ... in
    diagram order; an edge to a node the workflow lacks gets a node of its own."""
    ids = {node.id: f"n{i}" for i, node in enumerate(diagram.nodes)}
    lines = ["flowchart TD"]
    lines += [f'    {ids[n.id]}["{_text(_node_text(n))}"]' for n in diagram.nodes]
    for edge in diagram.edges:
        for end in (edge.source, edge.target):
            if end not in ids:
                ids[end] = f"n{len(ids)}"
                lines.append(f'    {ids[end]}["{_text(end)} (missing)"]')
        lines.append(f"    {_edge_line(edge, ids)}")
    lines += list(_styles(diagram, ids))
    return "\n".join(lines) + "\n"


def _node_text(node: DiagramNode) -> str:
    name = node.id if node.label == node.id else f"{node.label} ({node.id})"
    return f"{_clip(name)}: {node.type}"


def _edge_line(edge: DiagramEdge, ids: Mapping[str, str]) -> str:
    arrow = "-.->" if edge.mark == "removed" else "-->"
    if edge.both_ways:
        arrow = "<-.->" if edge.mark == "removed" else "<-->"
    text = f'|"{_text(edge.condition)}"|' if edge.condition else ""
    return f"{ids[edge.source]} {arrow}{text} {ids[edge.target]}"


def _styles(diagram: WorkflowDiagram, ids: Mapping[str, str]) -> Iterator[str]:
    for mark, style in _STYLES.items():
        marked = [ids[n.id] for n in diagram.nodes if n.mark == mark]
        if marked:
            yield f"    classDef {mark} {style}"
            yield f"    class {','.join(marked)} {mark}"
    for index, edge in enumerate(diagram.edges):
        if edge.mark in _LINK_STYLES:
            yield f"    linkStyle {index} {_LINK_STYLES[edge.mark]}"


def _text(text: str) -> str:
    """``text`` safe inside a quoted Mermaid label (entity codes for quotes and brackets)."""
    for char, code in (("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;")):
        text = text.replace(char, code)
    return " ".join(text.split())
