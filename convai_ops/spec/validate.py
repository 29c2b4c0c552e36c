"""Checking a parsed file against its JSON Schema, with one-line ``file:line:col`` errors.

Two passes: unknown keys first (at every level, with a did-you-mean suggestion), then the
schema's types and values through a compiled ``jsonschema`` validator. Of several problems the
first in the file is reported; within ``anyOf``/``oneOf`` the alternative that matches the
value's type and discriminator (``type: system``) explains the failure.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from convai_ops.errors import SpecError
from convai_ops.spec import openapi
from convai_ops.spec.check_cache import active_cache
from convai_ops.spec.schema import PATTERN_HINTS, schema_of, validator
from convai_ops.spec.yamlio import Document

if TYPE_CHECKING:
    from jsonschema import ValidationError

__all__ = ["check", "did_you_mean", "parse_model", "unknown_field"]

Schema = dict[str, Any]
_M = TypeVar("_M", bound=BaseModel)
_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


def check(doc: Document, kind: str) -> None:
    """Validate ``doc.data`` against the schema ``kind`` (``project``, ``agent``, ``test:<type>``).

    Raises :class:`SpecError` naming the first unknown field, else the first schema violation
    in the file. Skipped for a value that passed before under the same schemas (the
    ``.convai-ops/cache`` of the project being loaded, :mod:`convai_ops.spec.check_cache`).
    """
    cache = active_cache()
    key = cache.key(kind, doc.data) if cache else ""
    if cache and cache.passed(key):
        return
    _check(doc, kind)
    if cache:
        cache.add(key)


def _check(doc: Document, kind: str) -> None:
    compiled, root = validator(kind), schema_of(kind)
    unknown = _first_unknown(doc.data, root, root, ())
    if unknown is not None:
        raise doc.error(*unknown)
    errors = list(compiled.iter_errors(doc.data))
    if errors:
        raise _report(doc, errors, root)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``choices``, else ``""``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def unknown_field(key: str, choices: Iterable[str]) -> str:
    """The message for an unknown key, suggesting the closest known one."""
    known = sorted(choices)
    hint = did_you_mean(key, known)
    if not hint and 0 < len(known) <= 12:
        hint = f" (expected one of: {', '.join(known)})"
    return f"unknown field {key!r}{hint}"


def _first_unknown(
    data: Any, schema: Any, root: Schema, loc: tuple[str | int, ...]
) -> tuple[tuple[str | int, ...], str] | None:
    """The location and message of the first key ``schema`` does not know (or of a tag, such
    as a workflow node's ``type``, naming no variant of a discriminated ``oneOf``)."""
    if isinstance(data, dict):
        bad_tag = _unknown_tag(data, schema, root)
        if bad_tag is not None:
            return (*loc, bad_tag[0]), bad_tag[1]
        known = openapi.properties_of(schema, data, root)
        for key, value in data.items():
            if known is not None and key not in known:
                return (*loc, key), unknown_field(str(key), known)
            sub = known[key] if known is not None else openapi.value_schema(schema, key, data, root)
            found = _first_unknown(value, sub, root, (*loc, key)) if sub is not None else None
            if found:
                return found
    elif isinstance(data, list):
        item = openapi.items_of(schema, root)
        for index, value in enumerate(data if item is not None else ()):
            found = _first_unknown(value, item, root, (*loc, index))
            if found:
                return found
    return None


def _unknown_tag(data: dict[str, Any], schema: Any, root: Schema) -> tuple[str, str] | None:
    """``(tag key, message)`` when ``schema`` is discriminated and ``data``'s tag names none of
    its variants; else ``None``."""
    resolved = openapi.resolve(schema, root) if isinstance(schema, dict) else {}
    discriminator = resolved.get("discriminator")
    if not isinstance(discriminator, dict) or not isinstance(discriminator.get("mapping"), dict):
        return None
    key = str(discriminator.get("propertyName"))
    if key not in data or data[key] in discriminator["mapping"]:
        return None
    return key, _enum(list(discriminator["mapping"]), data[key], None)


def _report(doc: Document, errors: list[ValidationError], root: Schema) -> SpecError:
    def order(error: ValidationError) -> tuple[int, int]:
        return doc.position(list(error.absolute_path))

    where, message = _describe(_refine(min(errors, key=order), root))
    return doc.error(where, message)


def _refine(error: ValidationError, root: Schema) -> ValidationError:
    """Descend into ``anyOf``/``oneOf`` through the alternatives the value was meant for."""
    from jsonschema.exceptions import best_match

    while error.validator in ("anyOf", "oneOf") and error.context:
        branches = error.validator_value if isinstance(error.validator_value, list) else []
        meant = [
            index for index, sub in enumerate(branches) if openapi.fits(sub, error.instance, root)
        ]
        context = [e for e in error.context if e.schema_path[0] in meant] or error.context
        if not meant and all(e.validator == "type" for e in context):
            return error
        chosen = best_match(context)
        if chosen is None:
            return error
        error = chosen
    return error


def _describe(error: ValidationError) -> tuple[list[str | int], str]:
    """Where (relative to the checked value) and what, in the user's terms."""
    where: list[str | int] = list(error.absolute_path)
    rule, expected, value = error.validator, error.validator_value, error.instance
    if rule == "required":
        required: list[Any] = expected if isinstance(expected, list) else []
        missing = [key for key in required if not isinstance(value, dict) or key not in value]
        name = str(missing[0]) if missing else ""
        return [*where, name], f"missing required field {name!r}"
    if rule == "additionalProperties":
        return _unexpected(error, where)
    if rule in ("anyOf", "oneOf"):
        return where, _no_alternative(error)
    return where, _MESSAGES.get(str(rule), _fallback)(expected, value, error)


def _unexpected(error: ValidationError, where: list[str | int]) -> tuple[list[str | int], str]:
    schema = error.schema if isinstance(error.schema, dict) else {}
    value = error.instance
    known = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    extra = [k for k in value if k not in known] if isinstance(value, dict) else []
    key = str(extra[0]) if extra else ""
    if patterns and not known:
        return [*where, key], _pattern(patterns[0], key)
    return [*where, key], unknown_field(key, known)


def _no_alternative(error: ValidationError) -> str:
    if not error.context:  # oneOf matched several alternatives
        return f"{_short(error.instance)} fits more than one allowed form; set its type"
    types = [str(e.validator_value) for e in error.context or () if e.validator == "type"]
    if types and len(types) == len(error.context or ()):
        return f"expected {_types(types)}, got {_kind(error.instance)}"
    return f"{_short(error.instance)} matches none of the allowed forms"


def _types(names: Iterable[str]) -> str:
    words = [_TYPE_WORDS.get(name, name) for name in names]
    return " or ".join(dict.fromkeys(words))


def _kind(value: Any) -> str:
    names = openapi.json_type(value)
    return _TYPE_WORDS.get(names[0], "a value") if names else "a value"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _pattern(pattern: str, value: Any) -> str:
    return f"{_short(value)} {PATTERN_HINTS.get(pattern, f'does not match {pattern}')}"


def _enum(expected: Any, value: Any, _: ValidationError | None) -> str:
    choices = [str(choice) for choice in expected]
    hint = did_you_mean(str(value), choices)
    if not hint and len(choices) <= 12:
        hint = f" (expected one of: {', '.join(choices)})"
    return f"{_short(value)} is not an allowed value{hint}"


def _fallback(expected: Any, value: Any, error: ValidationError) -> str:
    return _short(error.message) if len(error.message) > 100 else error.message


def _type(expected: Any, value: Any, _: ValidationError) -> str:
    names = expected if isinstance(expected, list) else [expected]
    return f"expected {_types(names)}, got {_kind(value)}"


_MESSAGES: dict[str, Callable[[Any, Any, ValidationError], str]] = {
    "type": _type,
    "enum": _enum,
    "const": lambda expected, value, _: f"must be {expected!r}, got {_short(value)}",
    "minimum": lambda expected, value, _: f"must be at least {expected}, got {value}",
    "maximum": lambda expected, value, _: f"must be at most {expected}, got {value}",
    "exclusiveMinimum": lambda expected, value, _: f"must be more than {expected}, got {value}",
    "exclusiveMaximum": lambda expected, value, _: f"must be less than {expected}, got {value}",
    "minLength": lambda expected, value, _: (
        "must not be empty" if expected == 1 else f"must have at least {expected} characters"
    ),
    "maxLength": lambda expected, value, _: f"must have at most {expected} characters",
    "minItems": lambda expected, value, _: f"must have at least {expected} items",
    "maxItems": lambda expected, value, _: f"must have at most {expected} items",
    "pattern": lambda expected, value, _: _pattern(str(expected), value),
}


def parse_model(doc: Document, model: type[_M], data: Any) -> _M:
    """``model.model_validate(data)`` for data already checked; a failure names its key."""
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        raise doc.error(first["loc"], first["msg"]) from None
