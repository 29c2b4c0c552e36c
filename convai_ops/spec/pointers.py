"""``ignore:`` pointers must name a field the agent schema knows (plan and pull skip it).

A pointer is read as plan reads it (``convai_ops.plan``): its keys walk the agent's view,
mappings only. The first key is a field of that view; under ``conversation_config`` and
``platform_settings`` each key must be a field of the API's schema there (with a did-you-mean),
until a mapping of free-form keys (such as ``dynamic_variable_placeholders``) is reached.
"""

from __future__ import annotations

from typing import Any

from convai_ops.spec import openapi
from convai_ops.spec.schema import schema_of
from convai_ops.spec.validate import did_you_mean
from convai_ops.spec.yamlio import Document

__all__ = ["VIEW_FIELDS", "check_ignore", "pointer_problem"]

VIEW_FIELDS = (
    "name",
    "tags",
    "conversation_config",
    "platform_settings",
    "workflow",
    "knowledge_base",
    "tests",
    "tools",
)
"""The agent fields a plan compares, hence those an ``ignore:`` pointer may start with."""
_CHECKED = ("conversation_config", "platform_settings")


def check_ignore(doc: Document, pointers: tuple[str, ...] | list[str]) -> None:
    """Raise :class:`SpecError` at ``ignore[i]`` of ``doc`` for the first pointer naming no
    known field (see :func:`pointer_problem`)."""
    for index, pointer in enumerate(pointers):
        problem = pointer_problem(pointer)
        if problem is not None:
            raise doc.error(("ignore", index), problem)


def pointer_problem(pointer: str) -> str | None:
    """Why ``pointer`` (``/conversation_config/tts/voice_id``) names no field, else ``None``."""
    keys = [k.replace("~1", "/").replace("~0", "~") for k in pointer.strip("/").split("/")]
    if keys[0] not in VIEW_FIELDS:
        return _unknown(pointer, keys[0], VIEW_FIELDS)
    if keys[0] not in _CHECKED:
        return None if len(keys) == 1 else f"{pointer}: ignore can name {keys[0]} only as a whole"
    root = schema_of("agent")
    schema: Any = root["properties"][keys[0]]
    for depth, key in enumerate(keys[1:], start=1):
        walked = "/" + "/".join(keys[:depth])
        if not openapi.object_branches(schema, None, root):
            return f"{pointer}: {walked} is not a mapping, so it has no field {key!r}"
        known = openapi.properties_of(schema, None, root)
        if known is None:
            return None  # free-form keys from here on
        if key not in known:
            return _unknown(pointer, key, known)
        schema = known[key]
    return None


def _unknown(pointer: str, key: str, known: Any) -> str:
    hint = did_you_mean(key, known) or ""
    return f"{pointer}: the schema has no field {key!r} here{hint}"
