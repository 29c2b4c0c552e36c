"""The client's early answers: a GET read ahead is taken once, errors included, then dropped."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from convai_ops.api import ConvaiClient
from convai_ops.api.early import EarlyAnswers, answer_key
from convai_ops.errors import NotFoundError

BASE_URL = "https://api.test"
KEY = "sk_test_5f1b2c3d4e5f60718293a4b5"


class Counting:
    """A fake API answering every agent GET (404 for ``agent_gone``) and counting requests."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.paths.append(f"{request.method} {request.url.path}")
        agent_id = request.url.path.rsplit("/", 1)[-1]
        if agent_id == "agent_gone":
            return httpx.Response(404, json={"detail": "not found"})
        return httpx.Response(200, json={"agent_id": agent_id, "n": len(self.paths)})


@pytest.fixture
def api() -> Counting:
    return Counting()


@pytest.fixture
def client(api: Counting) -> ConvaiClient:
    return ConvaiClient(BASE_URL, KEY, transport=httpx.MockTransport(api), sleep=lambda _: None)


def test_a_get_read_ahead_is_sent_once_and_taken_once(api: Counting, client: ConvaiClient) -> None:
    view = client.early_reader()
    early = view.get_agent("agent_a")
    client.end_early_reads(drop=False)
    assert client.get_agent("agent_a") == early  # the answer read ahead, not a new request
    assert api.paths == ["GET /v1/convai/agents/agent_a"]
    assert client.get_agent("agent_a")["n"] == 2  # taken once: the next read is sent
    assert len(api.paths) == 2


def test_an_error_read_ahead_is_raised_to_the_caller(api: Counting, client: ConvaiClient) -> None:
    view = client.early_reader()
    with pytest.raises(NotFoundError):
        view.get_agent("agent_gone")
    client.end_early_reads(drop=False)
    with pytest.raises(NotFoundError):
        client.get_agent("agent_gone")
    assert api.paths == ["GET /v1/convai/agents/agent_gone"]


def test_dropped_answers_are_never_served(api: Counting, client: ConvaiClient) -> None:
    view = client.early_reader()
    view.get_agent("agent_a")
    client.end_early_reads(drop=True)  # e.g. the snapshot was read: later reads must be fresh
    assert client.get_agent("agent_a")["n"] == 2
    view.get_agent("agent_b")  # a late early read is sent but not kept
    assert client.get_agent("agent_b")["n"] == 4


def test_writes_are_never_answered_early(api: Counting, client: ConvaiClient) -> None:
    view = client.early_reader()
    view.get_agent("agent_a")
    client.end_early_reads(drop=False)
    client.request("PATCH", "/v1/convai/agents/agent_a", json={"name": "x"})
    assert api.paths == ["GET /v1/convai/agents/agent_a", "PATCH /v1/convai/agents/agent_a"]


def test_a_get_waits_while_early_reads_may_still_send_it() -> None:
    answers = EarlyAnswers()
    key = answer_key("/v1/convai/agents/a", {})
    taken: list[object] = []
    waiter = threading.Thread(target=lambda: taken.append(answers.take(key)))
    waiter.start()
    time.sleep(0.05)
    assert taken == []  # still waiting: the early reads are running
    future = answers.register(key)
    waiter.join(timeout=5)
    assert taken == [future]


def test_a_get_not_read_ahead_goes_on_once_early_reads_end() -> None:
    answers = EarlyAnswers()
    key = answer_key("/v1/convai/agents/a", {"page_size": 100})
    answers.register(answer_key("/v1/convai/agents/a", {"page_size": 30}))
    answers.finished()
    assert answers.take(key) is None  # not read ahead: the caller sends it itself
