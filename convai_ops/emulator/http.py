"""Request plumbing shared by the route modules: the emulator dependency, JSON bodies checked
against the operation's request schema, and cursor pages."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from jsonschema.exceptions import relevance

from convai_ops.emulator.core import Emulator
from convai_ops.emulator.problems import InvalidRequest, schema_errors
from convai_ops.emulator.schema import document, operation, validator

__all__ = ["Body", "Emu", "json_body", "page", "request_emulator"]

T = TypeVar("T")


async def request_emulator(request: Request) -> Emulator:
    """Return the :class:`Emulator` of the app serving ``request`` (``async``: a plain ``def``
    dependency would cost every request a hop to the thread pool and back)."""
    emulator: Emulator = request.app.state.emulator
    return emulator


async def json_body(request: Request) -> dict[str, Any]:
    """Return the JSON body, validated against the request schema of the matched operation.

    Raises :class:`InvalidRequest` (422) for a missing required body, malformed JSON or a
    schema violation (``loc`` starts with ``"body"``). A body schema that is a union of
    objects told apart by a ``type`` constant is checked against the member ``type`` names
    (the first member when ``type`` is absent, as its default says).
    """
    template = request.scope["route"].path_format
    spec = (operation(request.method, template) or {}).get("requestBody") or {}
    raw = await request.body()
    if not raw.strip():
        if spec.get("required"):
            raise InvalidRequest.one(["body"], "Field required", "missing")
        return {}
    data = _parse(raw)
    schema = spec.get("content", {}).get("application/json", {}).get("schema")
    if schema is not None:
        _check(_discriminated(schema, data), data)
    if not isinstance(data, dict):
        raise InvalidRequest.one(["body"], "Input should be an object", "dict_type")
    return data


def _parse(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InvalidRequest.one(
            ["body", 0], f"JSON decode error: {error}", "json_invalid"
        ) from None


def _check(schema: dict[str, Any], data: Any) -> None:
    errors = sorted(validator(schema).iter_errors(data), key=relevance)
    if errors:
        raise InvalidRequest(schema_errors(errors, ["body"]))


def _discriminated(schema: dict[str, Any], data: Any) -> dict[str, Any]:
    members = schema.get("anyOf")
    if not isinstance(members, list) or not isinstance(data, dict):
        return schema
    by_type: dict[str | None, dict[str, Any]] = {_type_const(m): m for m in members}
    if None in by_type:
        return schema
    wanted = data.get("type", next(iter(by_type)))
    if wanted not in by_type:
        names = ", ".join(repr(name) for name in by_type)
        raise InvalidRequest.one(
            ["body", "type"], f"Input should be one of {names}", "literal_error"
        )
    return by_type[wanted]


def _type_const(member: dict[str, Any]) -> str | None:
    ref = member.get("$ref", "")
    target = document()["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {})
    const = target.get("properties", {}).get("type", {}).get("const")
    return const if isinstance(const, str) else None


def page(
    items: Sequence[T], cursor: str | None, page_size: int
) -> tuple[list[T], str | None, bool]:
    """Return ``(items on this page, next_cursor, has_more)``; cursors encode an offset."""
    start = _offset(cursor)
    chunk = list(items[start : start + page_size])
    more = start + page_size < len(items)
    token = base64.urlsafe_b64encode(f"offset:{start + page_size}".encode()).decode()
    return chunk, token if more else None, more


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind == "offset" and value.isdigit():
            return int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise InvalidRequest.one(["query", "cursor"], "Invalid cursor", "value_error")


Emu = Annotated[Emulator, Depends(request_emulator)]
Body = Annotated[dict[str, Any], Depends(json_body)]
