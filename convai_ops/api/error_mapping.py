"""The one place where an API answer (or the lack of one) becomes a :class:`ApiError`.

Status to error::

    401             AuthenticationError
    403             PermissionDeniedError    (an AuthenticationError)
    404             NotFoundError
    409             ConflictError
    422             RequestValidationError   message lists each ``loc: msg`` of ``detail``
    429             RateLimitError
    5xx             ServerError
    other 4xx       ApiError
    no answer       ApiConnectionError

Messages name the method and the path (never the query string) and quote the API's own message
(``{"detail": {"message": ...}}`` or ``{"detail": "..."}``). The API key is scrubbed from the
message and from ``detail``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import httpx

from convai_ops.errors import (
    ApiConnectionError,
    ApiError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestValidationError,
    ServerError,
    redact,
)

__all__ = ["error_for_no_answer", "error_for_response", "message_from_body"]

_MAX_TEXT = 2000
_MAX_BODY_TEXT = 300

_BY_STATUS: dict[int, tuple[type[ApiError], str]] = {
    401: (AuthenticationError, "check the API key (ELEVENLABS_API_KEY)"),
    403: (PermissionDeniedError, "the API key lacks permission for this call"),
    404: (NotFoundError, "check the id; it may have been deleted"),
    409: (ConflictError, "the resource changed concurrently or conflicts; re-read and retry"),
    422: (RequestValidationError, "the API rejected the request"),
    429: (RateLimitError, "rate limited after retries; lower the concurrency or retry later"),
}
_SERVER = (ServerError, "the API failed after retries; try again later")
_OTHER = (ApiError, "the API refused the request")


def error_for_response(
    response: httpx.Response, method: str, path: str, *, secrets: Iterable[str] = ()
) -> ApiError:
    """Return the error for an answer with status >= 400 to ``method path``."""
    secrets = tuple(secrets)
    status = response.status_code
    cls, advice = _classify(status)
    body = _decode(response)
    reason = message_from_body(body) or response.reason_phrase or "error"
    text = redact(_truncate(f"{reason} ({advice})"), secrets)
    return cls(text, status=status, method=method, path=path, detail=_scrub(body, secrets))


def error_for_no_answer(
    exc: httpx.TransportError, method: str, path: str, *, secrets: Iterable[str] = ()
) -> ApiConnectionError:
    """Return the error for ``method path`` when the API could not be reached."""
    kind = type(exc).__name__
    cause = str(exc) or kind
    text = f"could not reach the API ({kind}: {cause}); check the base URL and the network"
    return ApiConnectionError(redact(text, secrets), method=method, path=path)


def message_from_body(body: object) -> str:
    """Return a one-line message from an error body, or ``""`` when it has none.

    Understands ``{"detail": [{"loc", "msg"}, ...]}`` (validation), ``{"detail": {"message"}}``
    and ``{"detail": "..."}``, and plain text. Any other JSON in ``detail`` (a ``message``
    that is an object, fields beside it such as a merge's conflicts) is written out as
    ``key: value`` text, never as a Python ``repr``: ``{"message": "Merge failed",
    "conflicts": [{"path": "a.b"}]}`` -> ``Merge failed (conflicts: (path: a.b))``.
    """
    detail = body.get("detail", body.get("message")) if isinstance(body, dict) else body
    if isinstance(detail, list):
        return "; ".join(_describe_item(item) for item in detail)
    if isinstance(detail, dict):
        return _describe_detail(detail)
    return _truncate(str(detail), _MAX_BODY_TEXT) if detail else ""


# Fields of an error object that classify it rather than say what went wrong.
_META = ("message", "status", "type", "code", "request_id", "param")


def _describe_detail(detail: dict[str, Any]) -> str:
    """``message`` (else ``status``), then the other fields in parentheses."""
    head = _readable(detail.get("message")) or _readable(detail.get("status"))
    extras = _fields({k: v for k, v in detail.items() if k not in _META})
    if head and extras:
        return f"{head} ({extras})"
    return head or extras


def _fields(data: dict[str, Any]) -> str:
    return ", ".join(f"{key}: {_nested(value)}" for key, value in data.items() if value is not None)


def _readable(value: object) -> str:
    """A JSON value as plain text: objects as ``key: value, ...``, lists joined by ``; ``."""
    if isinstance(value, dict):
        return _fields(value)
    if isinstance(value, list):
        return "; ".join(_readable(item) for item in value)
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def _nested(value: object) -> str:
    text = _readable(value)
    return f"({text})" if isinstance(value, dict | list) else text


def _describe_item(item: object) -> str:
    if not isinstance(item, dict):
        return _readable(item)
    loc = item.get("loc") or ()
    where = ".".join(str(part) for part in loc) if isinstance(loc, list | tuple) else str(loc)
    msg = _readable(item.get("msg", "invalid"))
    return f"{where}: {msg}" if where else msg


def _classify(status: int) -> tuple[type[ApiError], str]:
    if status >= 500:
        return _SERVER
    return _BY_STATUS.get(status, _OTHER)


def _decode(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


def _truncate(text: str, limit: int = _MAX_TEXT) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _scrub(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, list):
        return [_scrub(item, secrets) for item in value]
    if isinstance(value, dict):
        return {key: _scrub(item, secrets) for key, item in value.items()}
    return value
