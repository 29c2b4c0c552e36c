"""Server defaults of the API's response schemas, filled into JSON values.

The API fills defaults when it stores config, inside list items too (evaluation criteria get
``type``, ``scope``, ``scoring_mode``, ``max_score``; attached tests get ``workflow_node_id``),
so a GET answers more than was sent. :func:`fill_defaults` reproduces that from the bundled
OpenAPI document; the emulator answers with it and the plan compares both sides through it.

What a missing property reads as (inferred from how the document is generated: it never
writes ``"default": null``, so an optional nullable property without a default is ``null``):

- its ``default`` when it has one (itself filled);
- ``null`` when it is nullable (an ``anyOf``/``oneOf`` member is ``{"type": "null"}``) and not
  ``required``;
- for an object schema, the object of its properties' defaults, when that is not empty and
  holds every ``required`` property;
- otherwise it stays missing.

The walk recurses into objects (``properties``, and ``additionalProperties`` for map values),
list items (``items``) and ``anyOf``/``oneOf`` members (by discriminator, else the only
non-null member, else the first member the value fits). Values the schema says nothing about
are kept as given. Pure: depends only on the bundled document; no FastAPI.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Collection, Sequence
from functools import cache
from typing import Any

from convai_ops.dicts import json_equal
from convai_ops.spec import openapi

__all__ = [
    "SECTION_SCHEMAS",
    "fill_defaults",
    "schema_at",
    "strip_defaults",
    "strip_item_defaults",
    "strip_list_defaults",
]

SECTION_SCHEMAS = {
    "conversation_config": "ConversationalConfigAPIModel-Output",
    "platform_settings": "AgentPlatformSettingsResponseModel",
}
"""The response schemas of a GET agent's config sections: what the API's defaults come from."""

Schema = dict[str, Any]
_MISSING: Any = object()
_MAX_DEPTH = 48


def fill_defaults(value: Any, schema: str | Schema, *, lists_only: bool = False) -> Any:
    """``value`` with the defaults of ``schema`` filled in (a new value; inputs untouched).

    ``schema`` is a component name of the document (``"PromptEvaluationCriteria"``) or a schema
    fragment whose ``$ref`` point into it. With ``lists_only``, objects outside lists keep the
    keys they have (the walk goes on below them) and only list items are filled, whole: what
    the plan needs, as PATCH merges objects key by key but replaces lists whole. Idempotent;
    never changes a value that was given (only adds keys). Raises ``KeyError`` for an unknown
    component name.
    """
    root = openapi.component(schema) if isinstance(schema, str) else schema
    return _fill(value, root, not lists_only, 0)


def strip_item_defaults(
    items: list[Any], schema: str | Schema, keep: Sequence[Collection[str]] = ()
) -> list[Any]:
    """``items`` (a list with ``schema``) with each object item's keys that filling would give
    back removed, so ``fill_defaults`` of the result equals ``fill_defaults`` of ``items``.

    What import and pull write for a list the API answered with its defaults filled in:
    ``[{id, name, conversation_goal_prompt, llm: "gpt-4o"}]`` rather than every default.
    ``keep[i]`` names keys of item ``i`` to keep anyway (those the repository declared).
    """
    root = openapi.component(schema) if isinstance(schema, str) else schema
    item_schema = _resolved(root).get("items")
    if not isinstance(item_schema, dict):
        return copy.deepcopy(items)
    kept = list(keep) + [()] * max(0, len(items) - len(keep))
    return [_lean(item, item_schema, set(k)) for item, k in zip(items, kept, strict=False)]


def strip_list_defaults(value: Any, schema: str | Schema) -> Any:
    """``value`` with :func:`strip_item_defaults` applied to every list inside it (objects are
    walked, their own keys kept): what import writes for a config the API answered."""
    root = openapi.component(schema) if isinstance(schema, str) else schema
    return _strip(value, root, 0)


def strip_defaults(value: Any, schema: str | Schema) -> Any:
    """``value`` without every key that :func:`fill_defaults` with ``schema`` gives back, at
    every depth, so that ``fill_defaults`` of the result equals ``fill_defaults`` of ``value``.

    Tags naming an object's variant (``openapi.is_tag``: a node's or condition's ``type``) are
    kept, and map entries (``additionalProperties``: a workflow's nodes and edges) are never
    dropped, as filling cannot give them back. What import writes for a whole-value field the
    API answered filled in (a workflow). Returns a new value.
    """
    root = openapi.component(schema) if isinstance(schema, str) else schema
    return _strip_all(value, root, 0)


def _strip_all(value: Any, schema: Any, depth: int) -> Any:
    resolved = _member(value, _resolved(schema))
    if resolved is None or depth > _MAX_DEPTH:
        return copy.deepcopy(value)
    if isinstance(value, list):
        items = resolved.get("items")
        if not isinstance(items, dict):
            return copy.deepcopy(value)
        return [_strip_all(item, items, depth + 1) for item in value]
    if not isinstance(value, dict):
        return value
    properties = resolved.get("properties") or {}
    extra = resolved.get("additionalProperties")
    lean: dict[str, Any] = {}
    for key, item in value.items():
        sub = properties.get(key, extra if isinstance(extra, dict) else None)
        stripped = copy.deepcopy(item) if sub is None else _strip_all(item, sub, depth + 1)
        lean[key] = copy.deepcopy(item) if stripped == {} else stripped  # not `position: {}`
    return _without_given_back(value, lean, schema, properties)


def _without_given_back(
    value: dict[str, Any], lean: dict[str, Any], schema: Any, properties: Schema
) -> dict[str, Any]:
    """``lean`` without the named properties that filling gives back as in ``value``."""
    target = _fill(value, schema, True, 0)
    for key in [k for k in value if k in properties and not openapi.is_tag(properties[k])]:
        trial = {k: v for k, v in lean.items() if k != key}
        if json_equal(_fill(trial, schema, True, 0), target):
            lean = trial
    return lean


def _strip(value: Any, schema: Any, depth: int) -> Any:
    resolved = _member(value, _resolved(schema))
    if resolved is None or depth > _MAX_DEPTH:
        return copy.deepcopy(value)
    if isinstance(value, list):
        return strip_item_defaults(value, resolved)
    if not isinstance(value, dict):
        return value
    properties = resolved.get("properties") or {}
    extra = resolved.get("additionalProperties")
    out: dict[str, Any] = {}
    for key, item in value.items():
        sub = properties.get(key, extra if isinstance(extra, dict) else None)
        out[key] = copy.deepcopy(item) if sub is None else _strip(item, sub, depth + 1)
    return out


def _lean(item: Any, schema: Schema, keep: set[str]) -> Any:
    if not isinstance(item, dict):
        return copy.deepcopy(item)
    target = _fill(item, schema, True, 0)
    lean = copy.deepcopy(item)
    for key in [k for k in item if k not in keep]:
        trial = {k: v for k, v in lean.items() if k != key}
        if json_equal(_fill(trial, schema, True, 0), target):
            lean = trial
    return lean


def schema_at(schema: str | Schema, path: Sequence[str]) -> Schema | None:
    """The schema of the value at key ``path`` below ``schema`` (``None`` when unconstrained).

    E.g. ``schema_at("AgentPlatformSettingsResponseModel", ("evaluation", "criteria"))``.
    """
    node: Any = openapi.component(schema) if isinstance(schema, str) else schema
    for key in path:
        node = openapi.value_schema(node, key)
        if node is None:
            return None
    return node if isinstance(node, dict) else None


def _fill(value: Any, schema: Any, add: bool, depth: int) -> Any:
    resolved = _member(value, _resolved(schema))
    if depth > _MAX_DEPTH or resolved is None:
        return copy.deepcopy(value)
    if isinstance(value, dict):
        return _fill_object(value, resolved, add, depth)
    if isinstance(value, list):
        items = resolved.get("items")
        if not isinstance(items, dict):
            return copy.deepcopy(value)
        return [_fill(item, items, True, depth + 1) for item in value]
    return value


def _fill_object(value: dict[str, Any], schema: Schema, add: bool, depth: int) -> dict[str, Any]:
    properties = schema.get("properties")
    properties = properties if isinstance(properties, dict) else {}
    extra = schema.get("additionalProperties")
    out: dict[str, Any] = {}
    for key, item in value.items():
        sub = properties.get(key, extra if isinstance(extra, dict) else None)
        out[key] = copy.deepcopy(item) if sub is None else _fill(item, sub, add, depth + 1)
    if add:
        for key, default in _missing_defaults(schema).items():
            if key not in out:
                out[key] = copy.deepcopy(default)
    return out


_RESOLVED: dict[int, tuple[Any, Schema]] = {}


def _resolved(schema: Any) -> Schema:
    """``openapi.resolve`` cached per schema object (the document's objects live for good)."""
    found = _RESOLVED.get(id(schema))
    if found is not None and found[0] is schema:
        return found[1]
    resolved = openapi.resolve(schema)
    _RESOLVED[id(schema)] = (schema, resolved)  # keeps ``schema`` alive: its id stays its own
    return resolved


_DEFAULTS: dict[int, tuple[Schema, dict[str, Any]]] = {}
_BUILDING: set[int] = set()
_BUILD_LOCK = threading.RLock()


def _missing_defaults(schema: Schema) -> dict[str, Any]:
    """``{property: what it reads as when missing}`` of an object schema (properties that stay
    missing are left out). Cached per schema object; never modify the answer. Built under a
    lock (plans run in threads); a schema met again while its own defaults are being built (a
    recursive schema) adds nothing there."""
    found = _DEFAULTS.get(id(schema))
    if found is not None and found[0] is schema:
        return found[1]
    with _BUILD_LOCK:
        found = _DEFAULTS.get(id(schema))
        if found is not None and found[0] is schema:
            return found[1]
        if id(schema) in _BUILDING:
            return {}
        _BUILDING.add(id(schema))
        try:
            out = _build_missing(schema)
        finally:
            _BUILDING.discard(id(schema))
        _DEFAULTS[id(schema)] = (schema, out)
        return out


def _build_missing(schema: Schema) -> dict[str, Any]:
    required = set(schema.get("required") or ())
    out: dict[str, Any] = {}
    for key, sub in (schema.get("properties") or {}).items():
        value = _absent(sub, key in required, 0)
        if value is not _MISSING:
            out[key] = value
    return out


def _absent(schema: Any, required: bool, depth: int) -> Any:
    """What a missing property with ``schema`` reads as, or ``_MISSING``."""
    resolved = _resolved(schema)
    if "default" in resolved:
        return _fill(copy.deepcopy(resolved["default"]), schema, True, depth + 1)
    if required or depth > _MAX_DEPTH:
        return _MISSING
    if _nullable(resolved):
        return None
    if resolved.get("type") != "object" or not isinstance(resolved.get("properties"), dict):
        return _MISSING
    built = _fill_object({}, resolved, True, depth + 1)
    wanted = resolved.get("required") or ()
    return built if built and all(key in built for key in wanted) else _MISSING


def _nullable(schema: Schema) -> bool:
    members = schema.get("anyOf") or schema.get("oneOf") or ()
    return schema.get("type") == "null" or any(
        isinstance(m, dict) and _resolved(m).get("type") == "null" for m in members
    )


def _member(value: Any, schema: Schema) -> Schema | None:
    """The ``anyOf``/``oneOf`` member ``value`` is an instance of (``schema`` itself when it
    has none); ``None`` when no member can be told."""
    members = schema.get("oneOf") or schema.get("anyOf")
    if not isinstance(members, list):
        return schema
    by_tag = _discriminated(value, schema)
    if by_tag is not None:
        return by_tag
    solid = [_resolved(m) for m in members if _resolved(m).get("type") != "null"]
    if value is not None and len(solid) == 1:
        return _member(value, solid[0])
    fitting = [m for m in solid if openapi.fits(m, value)]
    if isinstance(value, dict) and len(fitting) > 1:
        fitting = [m for m in fitting if set(value) <= set(m.get("properties") or {})] or fitting
    return _member(value, fitting[0]) if fitting else None


def _discriminated(value: Any, schema: Schema) -> Schema | None:
    discriminator = schema.get("discriminator")
    if not isinstance(discriminator, dict) or not isinstance(value, dict):
        return None
    tag = value.get(str(discriminator.get("propertyName")))
    ref = (discriminator.get("mapping") or {}).get(str(tag))
    return _target(ref) if isinstance(ref, str) else None


@cache
def _target(ref: str) -> Schema:
    return _resolved(openapi.resolve({"$ref": ref}))
