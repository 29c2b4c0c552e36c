"""The comparable views a plan diffs: the declared state of an agent in an environment
(:func:`desired_view`) and the live one reduced to what is declared (:func:`remote_view`).

Both sides get the API's list-item defaults filled in (:func:`with_list_defaults`) and a
workflow is compared whole with its defaults (:func:`workflow_view`); knowledge documents, tests
and tools are compared by their convai-ops names; ``ignore:`` pointers are taken out of both
(:func:`without_pointers`). Pure: no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from convai_ops.dicts import json_equal
from convai_ops.spec.defaults import SECTION_SCHEMAS, fill_defaults
from convai_ops.state import (
    UNTESTED_TAG,
    RemoteIndex,
    document_name,
    managed_tag,
    project_onto,
    remote_test_name,
)
from convai_ops.workspace_tools import desired_tools_view, main_tool_ids, remote_tools_view

if TYPE_CHECKING:
    from convai_ops.spec import AgentSpec, KnowledgeSpec

__all__ = [
    "declared_view",
    "desired_view",
    "remote_view",
    "with_list_defaults",
    "without_pointers",
    "workflow_view",
]

_CONFIG_KEYS = ("name", "tags", "conversation_config", "platform_settings", "workflow")
_WORKFLOW_SCHEMA = "AgentWorkflowResponseModel"
_KB_PATH = ("conversation_config", "agent", "prompt", "knowledge_base")
_TESTS_PATH = ("platform_settings", "testing", "attached_tests")


def desired_view(spec: AgentSpec, env: str) -> dict[str, Any]:
    """The declared state of ``spec`` in ``env`` as a comparable view (see module docstring)."""
    return with_list_defaults(declared_view(spec, env))


def declared_view(spec: AgentSpec, env: str) -> dict[str, Any]:
    """:func:`desired_view` before the API's list-item defaults are filled in."""
    view = {k: v for k, v in spec.desired(env).items() if k in _CONFIG_KEYS and v != {}}
    if "tags" in view:
        view["tags"] = sorted({*view["tags"], managed_tag(spec.slug)})
    if spec.knowledge:
        view["knowledge_base"] = sorted(
            _kb_key(document_name(spec.slug, k), k.usage_mode) for k in spec.knowledge
        )
    if spec.tests:
        view["tests"] = sorted(remote_test_name(spec.slug, t) for t in spec.tests)
    if "workflow" in view:
        view["workflow"] = workflow_view(view["workflow"])
    if spec.tools is not None:
        view["tools"] = desired_tools_view(spec.tool_specs)
    return view


def remote_view(
    config: Mapping[str, Any], desired: Mapping[str, Any], spec: AgentSpec, index: RemoteIndex
) -> dict[str, Any]:
    """The live ``config`` (a GET agent body) reduced to the paths ``desired`` declares."""
    declared = {k: v for k, v in desired.items() if k in _CONFIG_KEYS}
    view: dict[str, Any] = with_list_defaults(project_onto(dict(config), declared), like=desired)
    if "tags" in view:  # the break-glass marker is convai-ops's own, never declared
        view["tags"] = sorted(t for t in view["tags"] or [] if t != UNTESTED_TAG)
    if "workflow" in desired:
        view["workflow"] = workflow_view(config.get("workflow"))
    if "knowledge_base" in desired:
        view["knowledge_base"] = sorted(_remote_kb_keys(config, spec.knowledge))
    if "tests" in desired:
        attached = _dig(config, _TESTS_PATH) or []
        view["tests"] = sorted(index.test_names.get(t["test_id"], t["test_id"]) for t in attached)
    if "tools" in desired:
        view["tools"] = remote_tools_view(main_tool_ids(config), index.tools, spec.tool_specs)
    return view


def with_list_defaults(
    view: dict[str, Any], *, like: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """``view`` with the response schemas' defaults filled into the items of its lists.

    A GET answers list items with the defaults the API filled in (an evaluation criterion's
    ``scoring_mode``, ...), and apply replaces a list whole, so items are compared complete on
    both sides: declared with required fields only and read back, they are equal; an item
    that differs beyond the defaults still differs. Objects outside lists gain no keys (what
    is not declared is not compared). ``view`` is modified and returned.

    ``like`` (a view already filled) saves the walk of a section equal to its own: filling
    only adds keys a value lacks, so a section equal to a filled one is filled already.
    """
    for section, schema in SECTION_SCHEMAS.items():
        value = view.get(section)
        if not isinstance(value, dict):
            continue
        if like is not None and json_equal(value, like.get(section)):
            continue
        view[section] = fill_defaults(value, schema, lists_only=True)
    return view


def workflow_view(workflow: Any) -> dict[str, Any]:
    """A workflow (``{nodes, edges, ...}``, declared or as a GET answers it) compared whole:
    every key, with ``AgentWorkflowResponseModel``'s defaults filled in on both sides (a write
    replaces the workflow whole, so a node or edge the repository lacks is a change too). A
    missing or empty workflow is ``{}``."""
    if not isinstance(workflow, Mapping) or not workflow:
        return {}
    filled: dict[str, Any] = fill_defaults(dict(workflow), _WORKFLOW_SCHEMA)
    return filled


def _remote_kb_keys(config: Mapping[str, Any], knowledge: Sequence[KnowledgeSpec]) -> list[str]:
    by_id = {k.id: k.name or k.id for k in knowledge if k.kind == "id" and k.id}
    locators = _dig(config, _KB_PATH) or []
    return [
        _kb_key(by_id.get(loc["id"], loc["name"]), loc.get("usage_mode", "auto"))
        for loc in locators
    ]


def _kb_key(name: str, usage_mode: str | None) -> str:
    return name if usage_mode in (None, "auto") else f"{name} [usage_mode={usage_mode}]"


def _dig(doc: Any, path: Sequence[str], default: Any = None) -> Any:
    for key in path:
        if not isinstance(doc, Mapping) or key not in doc:
            return default
        doc = doc[key]
    return doc


def without_pointers(view: dict[str, Any], pointers: Sequence[str]) -> dict[str, Any]:
    """``view`` without the fields the JSON ``pointers`` name (``ignore:``); a copy when there
    are pointers, ``view`` itself when there are none."""
    if not pointers:
        return view
    view = json.loads(json.dumps(view))
    for pointer in pointers:
        keys = [k.replace("~1", "/").replace("~0", "~") for k in pointer.strip("/").split("/")]
        parent = _dig(view, keys[:-1])
        if isinstance(parent, dict):
            parent.pop(keys[-1], None)
    return view
