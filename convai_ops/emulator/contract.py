"""Check response bodies against the bundled OpenAPI document (the emulator's contract tests).

``validate_response("GET", "/v1/convai/agents/agent_x", 200, body)`` maps the concrete path to
its template (``/v1/convai/agents/{agent_id}``), takes the schema the document gives for that
status and content type, and returns one message per violation (empty: conforms).

- A status the document lists: the body must match its schema (Draft 2020-12, references
  resolved through :mod:`referencing`).
- An error status the document does not list (400, 401, 404, 409, 429, 500, ...): the body must
  be the error envelope ``{"detail": {"status": str, "message": str}}``, ``{"detail": str}`` or
  ``{"detail": [...]}``.
- A success status the document does not list, or a path it lacks: a violation.

Use :func:`log_violations` on ``Emulator.request_log`` to check everything an emulator sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from convai_ops.emulator.core import RequestLogEntry
from convai_ops.emulator.schema import match_path, operation, validator

__all__ = ["ERROR_ENVELOPE", "log_violations", "validate_response"]

ERROR_ENVELOPE: dict[str, Any] = {
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {
            "anyOf": [
                {"type": "string"},
                {"type": "array"},
                {
                    "type": "object",
                    "required": ["status", "message"],
                    "properties": {"status": {"type": "string"}, "message": {"type": "string"}},
                },
            ]
        }
    },
}


def validate_response(
    method: str, path: str, status: int, body: Any, *, strict: bool = False
) -> list[str]:
    """Return the contract violations of answering ``method path`` with ``status`` and ``body``.

    ``path`` may carry a query string; ``body`` is the decoded JSON (or text for ``text/*``).
    ``strict`` also reports fields the document does not list for an object (see
    :func:`convai_ops.emulator.schema.validator`).
    """
    template = match_path(method, path)
    where = f"{method.upper()} {path} -> {status}"
    if template is None:
        return [f"{where}: the document has no such operation"]
    responses = (operation(method, template) or {}).get("responses", {})
    spec = responses.get(str(status))
    if spec is None:
        if status >= 400:
            return _violations(ERROR_ENVELOPE, body, f"{where} (error envelope)", strict)
        return [f"{where}: status {status} is not documented for {method.upper()} {template}"]
    content = spec.get("content") or {}
    schema = next((item.get("schema") for item in content.values()), None)
    return [] if schema is None else _violations(schema, body, where, strict)


def _violations(schema: dict[str, Any], body: Any, where: str, strict: bool) -> list[str]:
    checker = validator(schema, strict=strict)
    errors = sorted(checker.iter_errors(body), key=lambda error: list(error.path))
    return [
        f"{where}: at {_pointer(error.absolute_path)}: {error.message[:300]}" for error in errors
    ]


def _pointer(path: Iterable[Any]) -> str:
    return "/" + "/".join(str(part) for part in path)


def log_violations(entries: Iterable[RequestLogEntry], *, strict: bool = False) -> list[str]:
    """Return the violations of every answer in a request log (see :func:`validate_response`);
    ``outbound`` entries (calls the emulated agent made) are not answers and are skipped."""
    found: list[str] = []
    for entry in (entry for entry in entries if not entry.outbound):
        found.extend(
            validate_response(
                entry.method, entry.path, entry.status, entry.response_body, strict=strict
            )
        )
    return found
