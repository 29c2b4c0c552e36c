"""``simulate_conversation_stream`` yields each newline-delimited JSON object as it arrives."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from convai_ops.api import decode_stream_line
from convai_ops.errors import ApiConnectionError, ApiError, NotFoundError

from .fakes import MakeClient, body_of

SPEC: dict[str, Any] = {"simulation_specification": {"simulated_user_config": {}}}
STREAM_PATH = "/v1/convai/agents/a1/simulate-conversation/stream"


class StreamingApi:
    """Streams ``chunks`` one by one and remembers how many the client has pulled so far."""

    def __init__(self, *chunks: bytes, fail_after: bool = False) -> None:
        self.chunks = chunks
        self.fail_after = fail_after
        self.sent = 0
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, content=self._body())

    def _body(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.sent += 1
            yield chunk
        if self.fail_after:
            raise httpx.ReadError("connection reset by peer")


def line(value: object) -> bytes:
    return json.dumps(value).encode() + b"\n"


def test_objects_are_yielded_as_they_arrive(make_client: MakeClient) -> None:
    api = StreamingApi(line({"turn": 1}), line({"turn": 2}), line({"analysis": {"ok": True}}))
    stream = make_client(api).simulate_conversation_stream("a1", SPEC)
    assert api.requests == []  # nothing is sent before iteration

    assert next(stream) == {"turn": 1}
    assert api.sent == 1
    assert next(stream) == {"turn": 2}
    assert api.sent == 2
    assert list(stream) == [{"analysis": {"ok": True}}]

    request = api.requests[0]
    assert (request.method, request.url.path) == ("POST", STREAM_PATH)
    assert body_of(request) == SPEC


def test_objects_split_across_chunks_are_joined(make_client: MakeClient) -> None:
    api = StreamingApi(b'{"turn": ', b'1}\n\n{"tu', b'rn": 2}')

    assert list(make_client(api).simulate_conversation_stream("a1", SPEC)) == [
        {"turn": 1},
        {"turn": 2},
    ]


def test_list_lines_yield_each_message(make_client: MakeClient) -> None:
    api = StreamingApi(line([{"role": "user"}, {"role": "agent"}]), b'data: {"analysis": {}}\n')

    assert list(make_client(api).simulate_conversation_stream("a1", SPEC)) == [
        {"role": "user"},
        {"role": "agent"},
        {"analysis": {}},
    ]


def test_error_status_is_mapped_before_streaming(make_client: MakeClient) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        body = iter([b'{"detail": "Agent not found"}'])  # streamed, so not read in advance
        return httpx.Response(404, content=body, headers={"content-type": "application/json"})

    with pytest.raises(NotFoundError, match="Agent not found") as caught:
        list(make_client(answer).simulate_conversation_stream("a1", SPEC))

    assert caught.value.path == STREAM_PATH
    assert caught.value.detail == {"detail": "Agent not found"}


def test_stream_is_retried_on_503(make_client: MakeClient, sleeps: list[float]) -> None:
    calls: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            return httpx.Response(503, headers={"retry-after-ms": "250"})
        return httpx.Response(200, content=line({"turn": 1}))

    assert list(make_client(answer).simulate_conversation_stream("a1", SPEC)) == [{"turn": 1}]
    assert sleeps == [0.25]


def test_connection_lost_mid_stream_is_api_connection_error(make_client: MakeClient) -> None:
    api = StreamingApi(line({"turn": 1}), fail_after=True)
    stream = make_client(api).simulate_conversation_stream("a1", SPEC)

    assert next(stream) == {"turn": 1}
    with pytest.raises(ApiConnectionError, match="ReadError"):
        next(stream)


def test_malformed_line_raises_api_error(make_client: MakeClient) -> None:
    api = StreamingApi(line({"turn": 1}), b"<html>oops</html>\n")
    stream = make_client(api).simulate_conversation_stream("a1", SPEC)

    assert next(stream) == {"turn": 1}
    with pytest.raises(ApiError, match="malformed line in the stream: '<html>oops</html>'"):
        next(stream)


@pytest.mark.parametrize(
    ("text", "objects"),
    [
        ("", []),
        ("   ", []),
        ('{"a": 1}', [{"a": 1}]),
        ('data: {"a": 1}', [{"a": 1}]),
        ('[{"a": 1}, {"b": 2}]', [{"a": 1}, {"b": 2}]),
    ],
)
def test_decode_stream_line(text: str, objects: list[dict[str, int]]) -> None:
    assert decode_stream_line(text) == objects


@pytest.mark.parametrize("text", ["42", '"text"', "[1, 2]", "{broken"])
def test_decode_stream_line_rejects_non_objects(text: str) -> None:
    with pytest.raises(ApiError, match="malformed line"):
        decode_stream_line(text, path=STREAM_PATH)
