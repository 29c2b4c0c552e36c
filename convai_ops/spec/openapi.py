"""Read access to JSON Schemas: the bundled OpenAPI document and schemas built from it.

The OpenAPI document (``convai_ops/openapi/openapi-convai.json``) is loaded once, lazily.
:func:`bundle` copies named components (and everything they reference) into a ``$defs``
mapping for a standalone JSON Schema. :func:`resolve`, :func:`properties_of`,
:func:`value_schema` and :func:`items_of` walk any schema, following ``$ref`` and looking through
``anyOf`` / ``oneOf`` / ``allOf``; they serve the unknown-field check and the editor schemas.
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from importlib import resources
from typing import Any

__all__ = [
    "OPENAPI_REF_PREFIX",
    "bundle",
    "component",
    "document",
    "fits",
    "is_tag",
    "items_of",
    "json_type",
    "object_branches",
    "properties_of",
    "resolve",
    "value_schema",
]

Schema = dict[str, Any]

OPENAPI_REF_PREFIX = "#/components/schemas/"
_DEFS_PREFIX = "#/$defs/"
_COMBINATORS = ("anyOf", "oneOf", "allOf")


@cache
def document() -> Schema:
    """Return the bundled OpenAPI document (parsed once; treat it as read-only)."""
    text = resources.files("convai_ops").joinpath("openapi/openapi-convai.json").read_text("utf-8")
    data: Schema = json.loads(text)
    return data


def component(name: str) -> Schema:
    """Return the component schema ``name``; raises ``KeyError`` when the document lacks it."""
    schema: Schema = document()["components"]["schemas"][name]
    return schema


def resolve(schema: Any, root: Schema | None = None) -> Schema:
    """Follow ``$ref`` (a local JSON pointer into ``root``, default the OpenAPI document).

    Returns the target schema merged under the referring schema's own keys (``description``);
    a non-mapping schema (``True``) resolves to ``{}``.
    """
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and seen < 64:
        target = _pointer(root if root is not None else document(), schema["$ref"])
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        seen += 1
    return schema if isinstance(schema, dict) else {}


def _pointer(root: Schema, ref: str) -> Schema:
    if not ref.startswith("#/"):
        raise KeyError(f"unsupported $ref {ref!r}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node if isinstance(node, dict) else {}


def _alternatives(schema: Any, root: Schema | None, depth: int = 0) -> list[Schema]:
    """Expand ``anyOf``/``oneOf``/``allOf`` (recursively) into resolved alternatives."""
    resolved = resolve(schema, root)
    branches = [b for key in _COMBINATORS for b in resolved.get(key, ())]
    if not branches or depth > 16:
        return [resolved]
    own = {k: v for k, v in resolved.items() if k not in _COMBINATORS}
    found = [own] if _is_object(own) else []
    for branch in branches:
        found.extend(_alternatives(branch, root, depth + 1))
    return found


def _is_object(schema: Schema) -> bool:
    return schema.get("type") == "object" or "properties" in schema


def _is_open(schema: Schema) -> bool:
    """True when a mapping schema accepts keys it does not name."""
    return "properties" not in schema or schema.get("additionalProperties") not in (None, False)


def _const(schema: Any, root: Schema | None) -> tuple[bool, Any]:
    resolved = resolve(schema, root)
    if "const" in resolved:
        return True, resolved["const"]
    enum = resolved.get("enum")
    if isinstance(enum, list) and len(enum) == 1:
        return True, enum[0]
    return False, None


def is_tag(schema: Any, root: Schema | None = None) -> bool:
    """Whether a property with ``schema`` is a tag: a ``const`` (or one-value ``enum``) in any of
    its alternatives, like ``system_tool_type: end_call`` or a tool's ``type``. A tag names the
    variant of the object holding it, so it is never dropped as "at its default"."""
    return any(_const(alt, root)[0] for alt in _alternatives(schema, root))


def _consistent(branch: Schema, instance: dict[str, Any], root: Schema | None) -> bool:
    """False when a ``const`` property of ``branch`` rules ``instance`` out (a discriminator)."""
    required = branch.get("required", ())
    for key, sub in branch.get("properties", {}).items():
        has_const, value = _const(sub, root)
        if not has_const:
            continue
        if key in instance and instance[key] != value:
            return False
        if key not in instance and key in required:
            return False
    return True


_JSON_TYPES: dict[type, tuple[str, ...]] = {
    dict: ("object",),
    list: ("array",),
    str: ("string",),
    bool: ("boolean",),
    int: ("integer", "number"),
    float: ("number",),
    type(None): ("null",),
}


def json_type(value: Any) -> tuple[str, ...]:
    """The JSON Schema type names ``value`` satisfies (``3`` -> ``("integer", "number")``)."""
    return _JSON_TYPES.get(type(value), ())


def fits(schema: Any, instance: Any, root: Schema | None = None) -> bool:
    """Whether ``instance`` has the type (and discriminating ``const`` values) ``schema`` asks."""
    resolved = resolve(schema, root)
    expected = resolved.get("type")
    if expected is not None:
        names = expected if isinstance(expected, list) else [expected]
        if not set(names) & set(json_type(instance)):
            return False
    if isinstance(instance, dict) and _is_object(resolved):
        return _consistent(resolved, instance, root)
    return True


def object_branches(schema: Any, instance: Any = None, root: Schema | None = None) -> list[Schema]:
    """The mapping alternatives of ``schema``, narrowed to those ``instance`` can match."""
    objects = [alt for alt in _alternatives(schema, root) if _is_object(alt)]
    if isinstance(instance, dict):
        narrowed = [alt for alt in objects if _consistent(alt, instance, root)]
        return narrowed or objects
    return objects


def properties_of(
    schema: Any, instance: Any = None, root: Schema | None = None
) -> dict[str, Any] | None:
    """The known keys of a mapping schema: ``{key: sub-schema}``.

    ``None`` when any key is accepted (``additionalProperties``, a dict of user keys, or a schema
    that is not a mapping at all, which the type check reports instead). With ``instance``,
    alternatives whose ``const`` properties (discriminators) do not match it are skipped.
    """
    branches = object_branches(schema, instance, root)
    if not branches or any(_is_open(b) for b in branches):
        return None
    merged: dict[str, list[Any]] = {}
    for branch in branches:
        for key, sub in branch["properties"].items():
            merged.setdefault(key, []).append(sub)
    return {k: v[0] if len(v) == 1 else {"anyOf": v} for k, v in merged.items()}


def value_schema(
    schema: Any, key: str, instance: Any = None, root: Schema | None = None
) -> Any | None:
    """The schema of ``instance[key]`` under a mapping ``schema``; ``None`` when unconstrained."""
    known = properties_of(schema, instance, root)
    if known is not None:
        return known.get(key)
    for branch in object_branches(schema, instance, root):
        if key in branch.get("properties", {}):
            return branch["properties"][key]
        for pattern, sub in branch.get("patternProperties", {}).items():
            if re.search(pattern, key):
                return sub
        extra = branch.get("additionalProperties")
        if isinstance(extra, dict) and extra:
            return extra
    return None


def items_of(schema: Any, root: Schema | None = None) -> Any | None:
    """The item schema of a list schema (alternatives joined by ``anyOf``); ``None`` if open."""
    items = [
        alt["items"] for alt in _alternatives(schema, root) if isinstance(alt.get("items"), dict)
    ]
    if not items:
        return None
    return items[0] if len(items) == 1 else {"anyOf": items}


def bundle(names: list[str]) -> dict[str, Schema]:
    """Copy components ``names`` and all they reference into a ``$defs`` mapping.

    References are rewritten from ``#/components/schemas/X`` to ``#/$defs/X``; raises
    ``KeyError`` for an unknown name.
    """
    defs: dict[str, Schema] = {}
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in defs:
            continue
        defs[name] = _rewrite(copy.deepcopy(component(name)), todo)
    return dict(sorted(defs.items()))


def _rewrite(node: Any, found: list[str]) -> Any:
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str) and value.startswith(OPENAPI_REF_PREFIX):
                name = value[len(OPENAPI_REF_PREFIX) :]
                found.append(name)
                node[key] = _DEFS_PREFIX + name
            else:
                _rewrite(value, found)
    elif isinstance(node, list):
        for item in node:
            _rewrite(item, found)
    return node
