"""The bundled OpenAPI document as the emulator's single source of shapes.

- :func:`document` loads ``convai_ops/openapi/openapi-convai.json`` once.
- :func:`validator` gives a Draft 2020-12 validator for any JSON schema fragment of the document,
  with ``#/components/schemas/...`` references resolved through :mod:`referencing`.
- :func:`over_defaults` fills the server defaults of a component schema into a stored value
  (inside list items too, :mod:`convai_ops.spec.defaults`), as the API answers it.
- :func:`operation` and :func:`match_path` map a concrete request path to its operation.
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from convai_ops.spec.defaults import fill_defaults

__all__ = [
    "DOCUMENT_URI",
    "component_ref",
    "document",
    "match_path",
    "operation",
    "over_defaults",
    "prune",
    "schema_defaults",
    "shared_defaults",
    "validator",
]

DOCUMENT_URI = "urn:convai-ops:openapi-convai"
_REF_PREFIX = "#/components/schemas/"


@cache
def document() -> dict[str, Any]:
    """Return the parsed OpenAPI document (cached; treat it as read-only)."""
    text = (Path(__file__).parent.parent / "openapi" / "openapi-convai.json").read_text("utf-8")
    parsed: dict[str, Any] = json.loads(text)
    return parsed


@cache
def _registry(strict: bool) -> Registry[Any]:
    contents = _closed(document()) if strict else document()
    resource: Resource[Any] = Resource.from_contents(contents, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(DOCUMENT_URI, resource)
    return registry


def _closed(node: Any) -> Any:
    """Copy ``node`` with ``unevaluatedProperties: false`` on every object schema that lists
    ``properties`` and says nothing about other properties (strict mode)."""
    if isinstance(node, list):
        return [_closed(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _closed(value) for key, value in node.items()}
    open_ended = "additionalProperties" in out or "unevaluatedProperties" in out
    if isinstance(out.get("properties"), dict) and not open_ended:
        out["unevaluatedProperties"] = False
    return out


def component_ref(name: str) -> dict[str, str]:
    """Return ``{"$ref": ...}`` pointing at ``#/components/schemas/<name>`` of the document."""
    return {"$ref": f"{DOCUMENT_URI}{_REF_PREFIX}{name}"}


def validator(schema: dict[str, Any], *, strict: bool = False) -> Draft202012Validator:
    """Return a validator for ``schema``, a fragment of the document (its refs are resolved).

    Local ``#/components/...`` references in the fragment are rewritten to the document URI.
    ``strict`` also rejects properties an object schema of the document does not list (unless
    it allows ``additionalProperties``), so undocumented fields are caught.
    """
    key = json.dumps(schema, sort_keys=True)
    return _validator(key, strict)


@cache
def _validator(key: str, strict: bool) -> Draft202012Validator:
    schema = _absolutize(json.loads(key))
    if strict:
        schema = _closed(schema)
    return Draft202012Validator(schema, registry=_registry(strict))


def _absolutize(node: Any) -> Any:
    if isinstance(node, dict):
        out = {key: _absolutize(value) for key, value in node.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            out["$ref"] = DOCUMENT_URI + ref
        return out
    if isinstance(node, list):
        return [_absolutize(item) for item in node]
    return node


def schema_defaults(name: str) -> dict[str, Any]:
    """Return what component schema ``name`` reads as when nothing was stored: its defaults as
    a nested object (:func:`convai_ops.spec.defaults.fill_defaults` of ``{}``). A fresh copy
    is returned on every call."""
    return copy.deepcopy(shared_defaults(name))


def over_defaults(name: str, stored: dict[str, Any]) -> dict[str, Any]:
    """Return ``stored`` with the defaults of component schema ``name`` filled in, inside list
    items and map values too (a new object sharing nothing with ``stored``)."""
    filled: dict[str, Any] = fill_defaults(stored, name)
    return filled


@cache
def shared_defaults(name: str) -> dict[str, Any]:
    """:func:`schema_defaults` of ``name`` as one cached object, read-only: never modify it."""
    built = fill_defaults({}, name)
    return built if isinstance(built, dict) else {}


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    components = document()["components"]["schemas"]
    while isinstance(schema.get("$ref"), str) and schema["$ref"].startswith(_REF_PREFIX):
        target = components[schema["$ref"][len(_REF_PREFIX) :]]
        siblings = {key: value for key, value in schema.items() if key != "$ref"}
        schema = {**target, **siblings}
    return schema


def prune(value: Any, name: str) -> Any:
    """Return ``value`` without the object keys component schema ``name`` does not list.

    The API ignores unknown fields of a request, so they never come back; this mirrors that.
    Objects that allow ``additionalProperties`` keep every key. Inside ``anyOf``/``oneOf`` the
    member is found by the discriminator, or is the only non-null member; otherwise the value
    is kept as it is.
    """
    return _prune(value, {"$ref": _REF_PREFIX + name})


def _prune(value: Any, schema: dict[str, Any]) -> Any:
    schema = _resolve(schema)
    member = _member(value, schema)
    if member is not None:
        return _prune(value, member)
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_prune(item, schema["items"]) for item in value]
    if not isinstance(value, dict):
        return value
    properties = schema.get("properties")
    extra = schema.get("additionalProperties")
    if isinstance(properties, dict) and extra is None:
        return {
            key: _prune(item, properties[key]) for key, item in value.items() if key in properties
        }
    if isinstance(extra, dict):
        return {
            key: _prune(item, (properties or {}).get(key, extra)) for key, item in value.items()
        }
    return value


def _member(value: Any, schema: dict[str, Any]) -> dict[str, Any] | None:
    members = schema.get("oneOf") or schema.get("anyOf")
    if not isinstance(members, list):
        return None
    discriminator = schema.get("discriminator") or {}
    mapping = discriminator.get("mapping") or {}
    if isinstance(value, dict) and discriminator.get("propertyName") in value:
        ref = mapping.get(str(value[discriminator["propertyName"]]))
        return {"$ref": ref} if isinstance(ref, str) else None
    solid = [item for item in members if _resolve(item).get("type") != "null"]
    return solid[0] if len(solid) == 1 else None


def operation(method: str, template: str) -> dict[str, Any] | None:
    """Return the operation object for ``method`` on path ``template``, or ``None``."""
    item = document()["paths"].get(template)
    if not isinstance(item, dict):
        return None
    found = item.get(method.lower())
    return found if isinstance(found, dict) else None


def match_path(method: str, path: str) -> str | None:
    """Return the document's path template for a concrete ``path`` (literal segments win)."""
    path = path.split("?", 1)[0]
    for template, pattern in _templates(method.lower()):
        if pattern.fullmatch(path):
            return template
    return None


@cache
def _templates(method: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    found = [
        (template, re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))))
        for template, item in document()["paths"].items()
        if isinstance(item, dict) and method in item
    ]
    found.sort(key=lambda pair: (pair[0].count("{"), -len(pair[0])))
    return tuple(found)
