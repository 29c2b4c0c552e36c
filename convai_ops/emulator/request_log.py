"""The emulator's request log file (``EmulatorConfig.request_log_file``, ``--request-log FILE``).

Each answered request is appended as one JSON line, flushed at once so that another process can
read the file while the emulator runs::

    {"timestamp": 1760000000.123, "method": "PATCH", "path": "/v1/convai/agents/agent_...",
     "query": "branch_id=agtbrch_...", "status": 200, "duration_ms": 4.2,
     "body": {"conversation_config": {...}}, "response": {"agent_id": "agent_...", ...}}

``timestamp`` is Unix seconds at arrival, ``duration_ms`` milliseconds; ``query`` is the raw
query string (``""`` when none); ``body`` is the parsed JSON request body of POST/PATCH/PUT
(``null`` otherwise); ``response`` the parsed JSON answer (``null`` when empty), so the file
shows what the API answered too (e.g. a RAG index's ``status``). Both are masked as below. A
real webhook call a test run made (emulated, never sent) is a line with ``"outbound": true``,
its method and URL as ``path``.

A key's value is never written: no header is logged; a query parameter or body field whose name
looks secret (:func:`is_secret_name`: ``xi-api-key``, ``api_key``, ``token``, ``*_secret``,
``password``, ...) has its value replaced by ``"***"``; and every occurrence of the configured
``api_key`` or of the key the request itself sent, anywhere in the line, is replaced by ``***``
(keys of at least ``MIN_KEY_LENGTH``, 16, characters: a shorter one would mask fragments of
ordinary words, and is no real key: it is answered ``401``).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from convai_ops.emulator.config import MIN_KEY_LENGTH

if TYPE_CHECKING:
    from convai_ops.emulator.core import RequestLogEntry

__all__ = ["MASK", "RequestLogFile", "is_secret_name", "log_line", "mask_query", "mask_value"]

MASK = "***"
_SECRET_WORDS = frozenset(
    {"key", "token", "secret", "password", "passwd", "authorization", "cookie", "credential"}
)
_SECRET_SUFFIXES = ("_key", "_token", "_secret", "_password", "_credential", "_credentials")
_SEPARATORS = re.compile(r"[-\s.]+")


def is_secret_name(name: str) -> bool:
    """Whether a field or parameter called ``name`` holds a secret: ``xi-api-key``,
    ``api_key``, ``token``, ``access_token``, ``client_secret``, ``password``, ... (case and
    ``-``/``_`` do not matter). ``max_tokens`` or ``secret_id`` are not secrets."""
    normal = _SEPARATORS.sub("_", name.strip().lower())
    return normal in _SECRET_WORDS or normal.endswith(_SECRET_SUFFIXES)


def mask_value(value: Any) -> Any:
    """``value`` (parsed JSON) with the value of every secret-named key replaced by ``***``."""
    if isinstance(value, dict):
        return {
            key: MASK if is_secret_name(str(key)) else mask_value(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [mask_value(item) for item in value]
    return value


def mask_query(query: str) -> str:
    """A raw query string with the value of every secret-named parameter replaced by ``***``."""
    if not query:
        return query
    pairs = parse_qsl(query, keep_blank_values=True)
    masked = [(name, MASK if is_secret_name(name) else value) for name, value in pairs]
    return urlencode(masked, safe="*")


def log_line(entry: RequestLogEntry, secrets: Iterable[str] = ()) -> str:
    """One JSON line (with its newline) for ``entry``, masked as the module docstring says."""
    record = {
        "timestamp": entry.timestamp,
        "method": entry.method,
        "path": entry.path,
        "query": mask_query(entry.query),
        "status": entry.status,
        "duration_ms": round(entry.duration_ms, 3),
        "body": mask_value(entry.body),
        "response": mask_value(entry.response_body),
    }
    if entry.outbound:  # a real tool call a test run made (nothing is sent: see tool_runs)
        record["outbound"] = True
    text = json.dumps(record, ensure_ascii=False)
    for secret in sorted({s for s in secrets if len(s) >= MIN_KEY_LENGTH}, key=len, reverse=True):
        for form in {secret, json.dumps(secret)[1:-1], urlencode({"": secret})[1:]}:
            text = text.replace(form, MASK)
    return text + "\n"


class RequestLogFile:
    """Appends request log lines to ``path`` (created with its folder when missing); safe to
    call from several threads. ``api_key`` (the emulator's configured key) is masked in every
    line, as is each key :meth:`append` is given."""

    def __init__(self, path: Path, api_key: str | None = None) -> None:
        self.path = path
        self._api_key = api_key
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()

    def append(self, entry: RequestLogEntry, *, request_key: str = "") -> None:
        """Append ``entry`` as one line and flush it; ``request_key`` is the ``xi-api-key``
        the request sent (masked too). Raises ``OSError`` when the file cannot be written."""
        line = log_line(entry, (self._api_key or "", request_key))
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
