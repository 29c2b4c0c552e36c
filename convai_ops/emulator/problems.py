"""Error answers of the emulator and the JSON bodies they produce.

- :class:`ApiProblem` -> ``{"detail": {"status": "<code>", "message": "..."}}`` with any status
  (the shape the API uses outside ``/v1/convai``; the document lists no body for these).
- :class:`InvalidRequest` -> ``422 {"detail": [{"loc": [...], "msg": "...", "type": "..."}]}``,
  the document's ``HTTPValidationError``.
"""

from __future__ import annotations

from typing import Any

from jsonschema import ValidationError
from jsonschema.exceptions import best_match

__all__ = [
    "ApiProblem",
    "InvalidRequest",
    "bad_request",
    "conflict",
    "error_body",
    "forbidden",
    "not_found",
    "schema_errors",
]


class ApiProblem(Exception):
    """An error answer: ``status`` is the HTTP status, ``code`` the machine-readable reason."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        """Return ``{"detail": {"status": code, "message": message}}``."""
        return error_body(self.code, self.message)


class InvalidRequest(Exception):
    """A 422 answer; ``errors`` are ``{"loc", "msg", "type"}`` items (``HTTPValidationError``)."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(str(error["msg"]) for error in errors))
        self.errors = errors

    @classmethod
    def one(cls, loc: list[str | int], msg: str, kind: str) -> InvalidRequest:
        """Return a 422 with a single error at ``loc``."""
        return cls([{"loc": loc, "msg": msg, "type": kind}])


def error_body(code: str, message: str) -> dict[str, Any]:
    """Return the error envelope ``{"detail": {"status": code, "message": message}}``."""
    return {"detail": {"status": code, "message": message}}


def not_found(kind: str, ident: str) -> ApiProblem:
    """Return a 404 for an unknown id, e.g. ``not_found("agent", "agent_x")``."""
    code = kind.replace(" ", "_").replace("-", "_") + "_not_found"
    return ApiProblem(404, code, f"The {kind} {ident!r} does not exist.")


def bad_request(code: str, message: str) -> ApiProblem:
    """Return a 400 answer."""
    return ApiProblem(400, code, message)


def forbidden(code: str, message: str) -> ApiProblem:
    """Return a 403 answer (the key lacks a permission the call needs)."""
    return ApiProblem(403, code, message)


def conflict(code: str, message: str) -> ApiProblem:
    """Return a 409 answer."""
    return ApiProblem(409, code, message)


def schema_errors(errors: list[ValidationError], root: list[str | int]) -> list[dict[str, Any]]:
    """Turn jsonschema errors into ``HTTPValidationError`` items located under ``root``."""
    return [_item(_deepest(error), root) for error in errors]


def _deepest(error: ValidationError) -> ValidationError:
    while error.context:
        chosen = best_match(error.context)
        if chosen is None:
            break
        error = chosen
    return error


def _item(error: ValidationError, root: list[str | int]) -> dict[str, Any]:
    loc: list[str | int] = [*root, *error.absolute_path]
    kind = str(error.validator)
    if kind == "required" and isinstance(error.instance, dict):
        names: list[str] = (
            list(error.validator_value) if isinstance(error.validator_value, list) else []
        )
        missing = [name for name in names if name not in error.instance]
        loc.append(missing[0] if missing else "")
        kind = "missing"
    elif kind == "type":
        kind = f"{error.validator_value}_type"
    return {"loc": loc, "msg": error.message, "type": kind}
