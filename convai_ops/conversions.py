"""Live API bodies as repository YAML data: pure conversions behind import and pull (no I/O).

- :func:`agent_file_data`: ``agent.yaml`` data from a ``GET /v1/convai/agents/{id}`` body: the
  *declared subset* of ``conversation_config`` / ``platform_settings`` (only keys the request
  schemas accept, minus values equal to the schema default, list items without the keys the
  API fills in; one of ``prompt.tools`` / ``prompt.tool_ids``), the :data:`ESSENTIAL` paths
  always, ``tags:`` only when the agent carries its managed tag, knowledge entries by id, the
  ``workflow`` (:func:`workflow_data`) when it has nodes.
- :func:`remote_test_data`: a test file's data from a ``GET /v1/convai/agent-testing/{id}``
  body; a test convai-ops created (``slug/name #hash``) is reproduced so that its content hash,
  and so its remote name, is the same.
- :func:`dig`, :func:`declared_subset`, :func:`kb_entry`, :func:`local_test_name`,
  :func:`attached_test_ids`: the helpers they share with :mod:`convai_ops.pull`.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from jsonschema.exceptions import best_match

from convai_ops.dicts import json_equal
from convai_ops.errors import ConvaiOpsError
from convai_ops.spec import (
    READ_ONLY_SETTINGS,
    TEST_TYPES,
    canonical_json,
    openapi,
)
from convai_ops.spec.defaults import SECTION_SCHEMAS, strip_defaults, strip_list_defaults
from convai_ops.spec.schema import validator
from convai_ops.spec.yamlio import field_name
from convai_ops.state import MANAGED_TAG_PREFIX, UNTESTED_TAG, managed_tag

if TYPE_CHECKING:
    pass

__all__ = [
    "ESSENTIAL",
    "MISSING",
    "agent_file_data",
    "attached_test_ids",
    "declared_subset",
    "dig",
    "kb_entry",
    "local_test_name",
    "remote_test_data",
    "workflow_data",
]

KeyPath = tuple[str, ...]
_SECTIONS = {
    "conversation_config": "ConversationalConfigAPIModel-Input",
    "platform_settings": "AgentPlatformSettingsRequestModel",
}
_WORKFLOW = "AgentWorkflowResponseModel"
_PROMPT = ("conversation_config", "agent", "prompt", "prompt")
_KB = ("conversation_config", "agent", "prompt", "knowledge_base")
_TESTS = ("platform_settings", "testing", "attached_tests")
_REFERENCED_ID = ("tool_call_parameters", "referenced_tool", "id")
_TOOLS = ("conversation_config", "agent", "prompt", "tools")
_TOOL_IDS = ("conversation_config", "agent", "prompt", "tool_ids")
_OPTIONS = ("name", "repeat", "min_pass")
_EXAMPLES = (("success_examples", "success"), ("failure_examples", "failure"))
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_OURS = re.compile(r"^[^/\s]+/(?P<name>.+) #(?P<hash>[0-9a-f]{8})$")
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()
"""What :func:`dig` answers for a path that is not there."""

ESSENTIAL: frozenset[KeyPath] = frozenset(
    ("conversation_config", *rest)
    for rest in (
        ("agent", "first_message"),
        ("agent", "language"),
        ("agent", "prompt", "llm"),
        ("agent", "prompt", "temperature"),
        ("tts", "voice_id"),
    )
)
"""Paths import always declares when the live agent has them, even at their default."""


# -- values -------------------------------------------------------------------------------------


def dig(data: Any, path: Sequence[str]) -> Any:
    """The value at ``path`` in nested mappings, or the ``MISSING`` marker."""
    for key in path:
        if not isinstance(data, Mapping) or key not in data:
            return MISSING
        data = data[key]
    return data


def _pop(data: Any, path: Sequence[str | int]) -> None:
    for key in path[:-1]:
        data = data[key]
    del data[path[-1]]


def _prune(data: dict[str, Any], path: Sequence[str]) -> None:
    """Delete ``path`` and the mappings that deleting it leaves empty."""
    _pop(data, path)
    for end in range(len(path) - 1, 0, -1):
        if dig(data, path[:end]) != {}:
            return
        _pop(data, path[:end])


def declared_subset(
    value: Any, schema: Any, keep: Iterable[KeyPath] = (), path: KeyPath = (), needed: bool = False
) -> Any:
    """``value`` reduced to what a request with ``schema`` accepts and what is not a default.

    Mappings are walked: unknown keys are dropped, and so are keys at their schema default (or
    null / ``[]`` / ``{}`` when the schema names none) unless required or leading to a key path
    in ``keep`` (paths from the top, ``path`` being where ``value`` is). A tag naming the
    object's variant (``openapi.is_tag``: ``params.system_tool_type``, a tool's ``type``) is
    kept whenever its object is (it holds other keys, or is ``needed``: required by its
    parent), so a plain ``end_call`` keeps its ``params``. Lists and scalars are leaves, kept
    whole. Returns a new value.
    """
    if not isinstance(value, Mapping):
        return copy.deepcopy(value)
    known = openapi.properties_of(schema, value)
    if known is None:
        return {k: _open_entry(v, schema, k, value, keep, (*path, k)) for k, v in value.items()}
    keep = frozenset(keep)
    required = {k for b in openapi.object_branches(schema, value) for k in b.get("required", ())}
    out: dict[str, Any] = {}
    tags: set[str] = set()
    for key, item in value.items():
        if key not in known:
            continue
        here = (*path, key)
        reduced = declared_subset(item, known[key], keep, here, key in required)
        if key in required or _says_something(item, reduced, known[key], keep, here):
            out[key] = reduced
        elif openapi.is_tag(known[key]):
            out[key] = reduced
            tags.add(key)
    if tags and not (needed or set(out) - tags):
        out = {k: v for k, v in out.items() if k not in tags}
    return out


def _says_something(
    item: Any, reduced: Any, schema: Any, keep: frozenset[KeyPath], here: KeyPath
) -> bool:
    """Whether a key is worth declaring: not at its default, or on the way to a kept path."""
    if here in keep:
        return True
    default = _is_default(item, schema)
    if item == {}:
        return not default
    leads = any(k[: len(here)] == here for k in keep)
    return reduced != {} and (leads or not default)


def _open_entry(
    item: Any, schema: Any, key: str, parent: Any, keep: Iterable[KeyPath], path: KeyPath
) -> Any:
    sub = openapi.value_schema(schema, key, parent)
    return copy.deepcopy(item) if sub is None else declared_subset(item, sub, keep, path, True)


def _is_default(value: Any, schema: Any) -> bool:
    resolved = openapi.resolve(schema)
    if "default" in resolved:
        return json_equal(value, resolved["default"])
    return value is None or value == [] or value == {}


# -- agent.yaml from a live agent ---------------------------------------------------------------


def agent_file_data(
    live: Mapping[str, Any], slug: str, env: str
) -> tuple[dict[str, Any], str | None, list[str]]:
    """``(agent.yaml data, prompt text for prompt.md or None, notes)`` of a GET agent body."""
    config = {s: copy.deepcopy(dict(live.get(s) or {})) for s in _SECTIONS}
    prompt = dig(config, _PROMPT)
    to_file = isinstance(prompt, str) and not prompt.endswith("\n")
    for path in (*([_PROMPT] if to_file else []), _KB, _TESTS):
        if dig(config, path) is not MISSING:
            _pop(config, path)
    for key in READ_ONLY_SETTINGS:
        config["platform_settings"].pop(key, None)
    _one_tools_field(config)
    for section, response in SECTION_SCHEMAS.items():
        config[section] = strip_list_defaults(config[section], response)
    data: dict[str, Any] = {"name": live["name"]}
    notes = _tags(data, live.get("tags") or [], slug)
    data["environments"] = {env: live["agent_id"]}
    if to_file:
        data["prompt_file"] = "prompt.md"
    keep = [*ESSENTIAL, *([] if to_file else [_PROMPT])]
    for section, component in _SECTIONS.items():
        reduced = declared_subset(config[section], openapi.component(component), keep, (section,))
        if reduced:
            data[section] = {k: reduced[k] for k in sorted(reduced, key=lambda k: k != "agent")}
    workflow = workflow_data(live.get("workflow"))
    if workflow is not None:
        data["workflow"] = workflow
    locators = dig(live, _KB)
    if isinstance(locators, list) and locators:
        data["knowledge_base"] = [kb_entry(loc) for loc in locators]
    notes.extend(_repair(data))
    return data, prompt if to_file else None, notes


def workflow_data(workflow: Any) -> dict[str, Any] | None:
    """``workflow:`` of agent.yaml from a GET agent's ``workflow``; ``None`` when it has no
    nodes. Every node and edge is kept (each with its ``type``), without the keys the API's
    response defaults (``AgentWorkflowResponseModel``) give back, so it fills back to what the
    GET answered (``plan.workflow_view``)."""
    if not isinstance(workflow, Mapping) or not workflow.get("nodes"):
        return None
    reduced: dict[str, Any] = strip_defaults(dict(workflow), _WORKFLOW)
    return reduced


def _one_tools_field(config: dict[str, Any]) -> None:
    """Keep one of ``prompt.tools`` / ``prompt.tool_ids``: a GET answers both, but a create or
    update naming both is refused. ``tool_ids`` when the agent has any (``tools`` then only
    repeats their configs), else ``tools``."""
    ids = dig(config, _TOOL_IDS)
    drop = _TOOLS if isinstance(ids, list) and ids else _TOOL_IDS
    if dig(config, drop) is not MISSING:
        _pop(config, drop)


def _tags(data: dict[str, Any], live: list[str], slug: str) -> list[str]:
    managed = managed_tag(slug)
    tags = [t for t in live if t != UNTESTED_TAG]  # the break-glass marker: convai-ops's own
    if managed in tags:  # convai-ops: tags are its own, never declared (validate refuses them)
        data["tags"] = [t for t in tags if not t.startswith(MANAGED_TAG_PREFIX)]
        return []
    if not tags:
        return []
    return [
        f"tags ({', '.join(tags)}) are not declared, so not managed: the live agent lacks "
        f"{managed}; declare tags: to manage them (the next apply then adds {managed})"
    ]


def kb_entry(locator: Mapping[str, Any]) -> dict[str, Any]:
    """A ``knowledge_base:`` entry (``id``, ``name``, ``usage_mode`` unless auto) of a locator."""
    entry = {"id": locator["id"], "name": locator.get("name") or locator["id"]}
    if locator.get("usage_mode", "auto") != "auto":
        entry["usage_mode"] = locator["usage_mode"]
    return entry


def _repair(data: dict[str, Any]) -> list[str]:
    """Drop what the agent.yaml schema still refuses (lists whole); notes name each drop."""
    notes: list[str] = []
    for _ in range(500):
        error = best_match(validator("agent").iter_errors(data))
        if error is None:
            return notes
        path = list(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
            path.extend([k for k in error.instance if k not in known][:1])
        cut = next((i for i, step in enumerate(path) if isinstance(step, int)), len(path))
        if cut < 2 or path[0] not in _SECTIONS:
            raise ConvaiOpsError(f"cannot import: {field_name(path)}: {error.message[:200]}")
        _prune(data, path[:cut])
        notes.append(f"left out {field_name(path[:cut])}: the API reports a value it refuses")
    raise ConvaiOpsError("cannot import: the live config does not fit the agent.yaml schema")


# -- tests --------------------------------------------------------------------------------------


def remote_test_data(
    remote: Mapping[str, Any], tools: Mapping[str, tuple[str, str]] | None = None
) -> tuple[str, dict[str, Any], bool]:
    """``(local name, test YAML data, exact)`` of a ``GET /v1/convai/agent-testing/{id}`` body.

    ``exact`` is True when the remote name's ``#hash`` is reproduced by the data (a test
    convai-ops created); otherwise the data is the body without its defaults. ``tools`` maps a
    workspace tool id to ``(name, ToolSpec.content_hash)`` of its ``tools/<name>.yaml``: a tool
    test referencing one is written naming it (``referenced_tool: {name}``), never by id.
    Raises ``ConvaiOpsError`` for a test type other than llm, tool or simulation.
    """
    name, wanted = local_test_name(str(remote.get("name") or remote.get("id") or "test"))
    kind = str(remote.get("type") or "llm")
    if kind not in TEST_TYPES:
        raise ConvaiOpsError(f"test {name!r} has the type {kind!r}, which convai-ops cannot hold")
    schema = openapi.component(TEST_TYPES[kind])
    accepted = schema.get("properties", {})
    raw = {k: v for k, v in remote.items() if k in accepted and k != "name"}
    raw["type"] = kind
    tool_name, tool_hash = (tools or {}).get(str(dig(raw, _REFERENCED_ID)), (None, ""))
    candidates = (_named_tool(b, tool_name) for b in _candidates(raw, schema))
    found = (b for b in candidates if _hash(b, tool_hash) == wanted) if wanted else iter(())
    body = next(found, None)
    exact = body is not None
    if body is None:
        body = _named_tool(declared_subset(raw, schema, [("type",)]), tool_name)
    data = {"type": kind, **{k: _examples(k, v) for k, v in body.items() if k != "type"}}
    return name, data, exact


def _named_tool(body: Mapping[str, Any], tool_name: str | None) -> dict[str, Any]:
    """``body`` with ``tool_call_parameters.referenced_tool`` naming ``tool_name`` (a copy;
    ``body`` as it is when ``tool_name`` is None)."""
    out = copy.deepcopy(dict(body))
    if tool_name is not None:
        out["tool_call_parameters"]["referenced_tool"] = {"name": tool_name}
    return out


def local_test_name(remote_name: str) -> tuple[str, str | None]:
    """``support/refund #1a2b3c4d`` -> ``("refund", "1a2b3c4d")``; others: ``(name, None)``."""
    ours = _OURS.match(remote_name)
    return (ours["name"], ours["hash"]) if ours else (remote_name, None)


def _hash(body: Mapping[str, Any], tool_hash: str = "") -> str:
    """``TestSpec.content_hash`` (first 8 digits) of a test file's ``body``."""
    data = canonical_json(dict(body)) + tool_hash.encode()
    return hashlib.sha256(data).hexdigest()[:8]


def _candidates(raw: dict[str, Any], schema: Any) -> Iterable[dict[str, Any]]:
    """The body as read, then without each combination of its default-valued keys."""
    props = schema.get("properties", {})
    optional = [k for k, v in raw.items() if k != "type" and _is_default(v, props[k])]
    for size in range(len(optional) + 1 if len(optional) <= 12 else 1):
        for dropped in itertools.combinations(optional, size):
            yield {k: v for k, v in raw.items() if k not in dropped}
    yield declared_subset(raw, schema, [("type",)])


def _examples(key: str, value: Any) -> Any:
    kind = dict(_EXAMPLES).get(key)
    if kind is None or not isinstance(value, list):
        return value
    return [_example(item, kind) for item in value]


def _example(item: Any, kind: str) -> Any:
    plain = isinstance(item, Mapping) and set(item) == {"response", "type"}
    return item["response"] if plain and item["type"] == kind else item


def attached_test_ids(live: Mapping[str, Any]) -> list[str]:
    """The ids of ``platform_settings.testing.attached_tests`` of a GET agent body."""
    tests = dig(live, _TESTS)
    return [t["test_id"] for t in tests if "test_id" in t] if isinstance(tests, list) else []
