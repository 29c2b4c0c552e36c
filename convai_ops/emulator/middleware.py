"""The ASGI layer in front of every route, in this order:

1. wait ``latency_ms``;
2. rate limit (token bucket) -> ``429 too_many_concurrent_requests`` with ``Retry-After``
   (whole seconds, at least 1) and ``retry-after-ms``;
3. injected failure with probability ``fail_rate`` -> ``500 internal_error``;
4. API key check on ``xi-api-key`` -> ``401 needs_authorization`` (missing) or
   ``401 invalid_api_key`` (not the configured key, or shorter than ``MIN_KEY_LENGTH``);
5. with ``traffic_rate`` > 0, the synthetic live conversations that came due are generated
   (:func:`convai_ops.emulator.traffic.catch_up`), so the request sees them and they ran on
   the state that was live before it;
6. the route; after a successful POST/PATCH/PUT/DELETE the state file is written before the
   answer leaves.

Every request, whatever its fate, is appended to ``Emulator.request_log`` (and to the request
log file, when configured: :mod:`convai_ops.emulator.request_log`) before the last byte of its
answer is sent.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from convai_ops.emulator.config import MIN_KEY_LENGTH
from convai_ops.emulator.core import Emulator, RequestLogEntry
from convai_ops.emulator.problems import error_body
from convai_ops.emulator.traffic import catch_up

__all__ = ["EmulatorMiddleware", "TokenBucket"]

_MUTATING = frozenset({"POST", "PATCH", "PUT", "DELETE"})
_WITH_BODY = frozenset({"POST", "PATCH", "PUT"})
Refusal = tuple[int, dict[str, Any], dict[str, str]]


class TokenBucket:
    """``rate`` tokens per second, holding at most ``max(1, rate)``; thread-safe."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self.stamp = time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> float:
        """Take a token: return 0.0, or the seconds until one is available (nothing taken)."""
        with self._lock:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1:
                self.tokens -= 1
                return 0.0
            return (1 - self.tokens) / self.rate


class EmulatorMiddleware:
    """Latency, rate limit, failures, authentication, persistence and the request log."""

    def __init__(self, app: ASGIApp, emulator: Emulator) -> None:
        self.app = app
        self.emulator = emulator
        config = emulator.config
        self.bucket = TokenBucket(config.rate_limit) if config.rate_limit else None
        self.random = random.Random(config.seed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, arrived = time.perf_counter(), time.time()
        raw = await _read_body(receive)
        capture = _Capture(send, self._persist_hook(scope["method"]))
        capture.on_finish = lambda: self._log(scope, raw, capture, arrived, started)
        if self.emulator.config.latency_ms:
            await asyncio.sleep(self.emulator.config.latency_ms / 1000)
        refusal = self._refusal(scope)
        if refusal is not None:
            await _send_json(capture, *refusal)
            return
        if self.emulator.config.traffic_rate > 0:
            catch_up(self.emulator)
        try:
            await self.app(scope, _replay(raw, receive), capture)
        except Exception:
            capture.status = capture.status or 500  # an emulator bug: logged, then re-raised
            capture.on_finish()
            raise

    def _refusal(self, scope: Scope) -> Refusal | None:
        if self.bucket is not None and (wait := self.bucket.take()) > 0:
            headers = {
                "retry-after": str(max(1, math.ceil(wait))),
                "retry-after-ms": str(max(1, math.ceil(wait * 1000))),
            }
            body = error_body("too_many_concurrent_requests", "Rate limit exceeded; retry later.")
            return 429, body, headers
        if self.emulator.config.fail_rate and self._roll() < self.emulator.config.fail_rate:
            return 500, error_body("internal_error", "Injected failure (fail_rate)."), {}
        return self._auth_refusal(scope)

    def _roll(self) -> float:
        with self.emulator.lock:
            return self.random.random()

    def _auth_refusal(self, scope: Scope) -> Refusal | None:
        key = _api_key(scope)
        expected = self.emulator.config.api_key
        if not key:
            body = error_body("needs_authorization", "Missing the xi-api-key header.")
            return 401, body, {}
        if len(key) < MIN_KEY_LENGTH or (expected is not None and key != expected):
            return 401, error_body("invalid_api_key", "Invalid API key."), {}
        return None

    def _persist_hook(self, method: str) -> Callable[[int], None]:
        def persist(status: int) -> None:
            if method in _MUTATING and status < 400:
                self.emulator.save()

        return persist

    def _log(
        self, scope: Scope, raw: bytes, capture: _Capture, arrived: float, started: float
    ) -> None:
        method = scope["method"]
        entry = RequestLogEntry(
            method=method,
            path=scope["path"],
            query=scope.get("query_string", b"").decode("latin-1"),
            status=capture.status,
            duration_ms=(time.perf_counter() - started) * 1000,
            timestamp=arrived,
            body=_json_or_none(raw) if method in _WITH_BODY else None,
            response_body=capture.decoded(),
        )
        self.emulator.record(entry, request_key=_api_key(scope))


class _Capture:
    """Wraps ``send``: records status, content type and body; runs ``on_start`` before the
    answer's first message and ``on_finish`` before its last, so that a client holding the
    whole answer finds it persisted and logged."""

    def __init__(self, send: Send, on_start: Callable[[int], None]) -> None:
        self.send = send
        self.on_start = on_start
        self.on_finish: Callable[[], None] = lambda: None
        self.status = 0
        self.content_type = ""
        self.chunks: list[bytes] = []

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            headers = dict(message.get("headers", []))
            self.content_type = headers.get(b"content-type", b"").decode("latin-1")
            self.on_start(self.status)
        elif message["type"] == "http.response.body":
            self.chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                self.on_finish()
        await self.send(message)

    def decoded(self) -> Any:
        raw = b"".join(self.chunks)
        if self.content_type.startswith("application/json"):
            return _json_or_none(raw)
        if self.content_type.startswith("text/"):
            return raw.decode("utf-8", "replace")
        return None


def _api_key(scope: Scope) -> str:
    """The request's ``xi-api-key`` header (``""`` when absent)."""
    return str(dict(scope["headers"]).get(b"xi-api-key", b"").decode("latin-1"))


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(raw: bytes, receive: Receive) -> Receive:
    """Deliver the buffered body once, then hand over to the server's ``receive``."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    return replay


async def _send_json(send: Send, status: int, body: Any, headers: dict[str, str]) -> None:
    payload = json.dumps(body).encode()
    pairs = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    pairs += [(name.encode(), value.encode()) for name, value in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": pairs})
    await send({"type": "http.response.body", "body": payload})


def _json_or_none(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
