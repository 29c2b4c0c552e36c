"""A scripted fake ElevenLabs API for ``httpx.MockTransport``, and request helpers."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from convai_ops.api import ConvaiClient

BASE_URL = "https://api.test"
API_KEY = "sk_test_5f1b2c3d4e5f60718293a4b5"


@dataclass(frozen=True)
class Reply:
    """One scripted answer: a status, a JSON (or text) body and headers."""

    status: int = 200
    json: Any = None
    text: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def build(self) -> httpx.Response:
        if self.text is not None:
            return httpx.Response(self.status, text=self.text, headers=self.headers)
        if self.json is None:
            return httpx.Response(self.status, headers=self.headers)
        return httpx.Response(self.status, json=self.json, headers=self.headers)


Answer = Reply | Exception


class FakeApi:
    """Answers requests from a script (the last answer repeats) and records every request."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers) or [Reply()]
        self.requests: list[httpx.Request] = []
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append(request)
            answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer.build()

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


def body_of(request: httpx.Request) -> Any:
    """The decoded JSON body of ``request`` (``None`` when it has none)."""
    return json.loads(request.content) if request.content else None


def query_of(request: httpx.Request) -> list[tuple[str, str]]:
    """The query parameters of ``request`` in order, repeats kept."""
    return request.url.params.multi_items()


MakeClient = Callable[..., ConvaiClient]


@dataclass(frozen=True)
class Case:
    """One client call, the request it must send and the value it must return."""

    call: Callable[[ConvaiClient], Any]
    method: str
    path: str
    reply: Reply
    expected: Any
    query: tuple[tuple[str, str], ...] = ()
    body: Any = None


def check_case(make_client: MakeClient, case: Case) -> None:
    """Run ``case`` against a fake API answering ``case.reply``; assert request and result."""
    api = FakeApi(case.reply)

    result = case.call(make_client(api))

    assert len(api.requests) == 1
    request = api.last
    assert (request.method, request.url.path) == (case.method, case.path)
    assert query_of(request) == list(case.query)
    assert body_of(request) == case.body
    assert result == case.expected


def one_page(key: str, *items: dict[str, Any]) -> dict[str, Any]:
    """A last (only) page of a cursor-paged list."""
    return {key: list(items), "has_more": False, "next_cursor": None}
