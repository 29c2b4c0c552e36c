"""Retries: which answers are retried, how long the client waits, and what it raises at the end."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest

from convai_ops.errors import (
    ApiConnectionError,
    ApiError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    RateLimitError,
    RequestValidationError,
    ServerError,
)

from .fakes import FakeApi, MakeClient, Reply

OK = Reply(json={"agent_id": "a1"})


def test_429_waits_the_retry_after_seconds(make_client: MakeClient, sleeps: list[float]) -> None:
    api = FakeApi(Reply(429, headers={"Retry-After": "7"}), OK)

    assert make_client(api).get_agent("a1") == {"agent_id": "a1"}
    assert sleeps == [7.0]
    assert len(api.requests) == 2


def test_retry_after_ms_wins_over_retry_after(make_client: MakeClient, sleeps: list[float]) -> None:
    headers = {"retry-after-ms": "1500", "Retry-After": "9"}
    make_client(FakeApi(Reply(429, headers=headers), OK)).get_agent("a1")

    assert sleeps == [1.5]


def test_retry_after_http_date_is_honoured(make_client: MakeClient, sleeps: list[float]) -> None:
    when = email.utils.formatdate(time.time() + 12, usegmt=True)
    make_client(FakeApi(Reply(503, headers={"Retry-After": when}), OK)).get_agent("a1")

    assert len(sleeps) == 1
    assert 10.0 <= sleeps[0] <= 12.0


def test_x_ratelimit_reset_unix_time_is_honoured(
    make_client: MakeClient, sleeps: list[float]
) -> None:
    reset = str(int(time.time()) + 20)
    make_client(FakeApi(Reply(429, headers={"x-ratelimit-reset": reset}), OK)).get_agent("a1")

    assert 18.0 <= sleeps[0] <= 20.0


def test_server_hint_is_capped_at_backoff_max(make_client: MakeClient, sleeps: list[float]) -> None:
    api = FakeApi(Reply(429, headers={"Retry-After": "3600"}), OK)
    make_client(api, backoff_max=4.0).get_agent("a1")

    assert sleeps == [4.0]


def test_without_hint_backoff_doubles_with_jitter_and_cap(
    make_client: MakeClient, sleeps: list[float]
) -> None:
    api = FakeApi(Reply(500), Reply(502), Reply(503), Reply(504), OK)
    make_client(api, backoff_base=1.0, backoff_max=5.0).get_agent("a1")

    expected = [1.0, 2.0, 4.0, 5.0]
    assert len(sleeps) == 4
    for slept, full in zip(sleeps, expected, strict=True):
        assert 0.75 * full <= slept <= full


def test_5xx_then_success_returns_the_answer(make_client: MakeClient) -> None:
    api = FakeApi(Reply(500), Reply(502), OK)
    client = make_client(api)

    assert client.get_agent("a1") == {"agent_id": "a1"}
    stats = client.stats
    assert (stats.requests, stats.retries, stats.server_errors) == (3, 2, 2)
    assert stats.status_counts == {500: 1, 502: 1, 200: 1}
    assert stats.by_route == {"GET /v1/convai/agents/{agent_id}": 3}


@pytest.mark.parametrize("status", [408, 429, 500, 503])
def test_retryable_statuses_are_retried(make_client: MakeClient, status: int) -> None:
    api = FakeApi(Reply(status), OK)
    make_client(api).get_agent("a1")

    assert len(api.requests) == 2


def test_exhausted_5xx_raises_server_error(make_client: MakeClient, sleeps: list[float]) -> None:
    api = FakeApi(Reply(503, json={"detail": {"message": "overloaded"}}))

    with pytest.raises(ServerError, match="overloaded") as caught:
        make_client(api, max_retries=3).get_agent("a1")

    assert caught.value.status == 503
    assert len(api.requests) == 4
    assert len(sleeps) == 3


def test_exhausted_429_raises_rate_limit_error(make_client: MakeClient) -> None:
    api = FakeApi(Reply(429, json={"detail": {"status": "too_many_concurrent_requests"}}))
    client = make_client(api, max_retries=2)

    with pytest.raises(RateLimitError, match="too_many_concurrent_requests"):
        client.get_agent("a1")

    assert len(api.requests) == 3
    assert client.stats.rate_limited == 3


def test_409_conflict_is_not_retried(make_client: MakeClient, sleeps: list[float]) -> None:
    api = FakeApi(Reply(409, json={"detail": "merge conflict"}), OK)

    with pytest.raises(ConflictError, match="merge conflict"):
        make_client(api, max_retries=3).merge_branch("a1", "b2", "b1")

    assert len(api.requests) == 1
    assert sleeps == []


def test_max_retries_zero_tries_once(make_client: MakeClient, sleeps: list[float]) -> None:
    api = FakeApi(Reply(500))

    with pytest.raises(ServerError):
        make_client(api, max_retries=0).get_agent("a1")

    assert (len(api.requests), sleeps) == (1, [])


@pytest.mark.parametrize(
    "error",
    [
        httpx.ConnectError("connection refused"),
        httpx.ReadTimeout("timed out"),
        httpx.RemoteProtocolError("server disconnected"),
    ],
    ids=["connect", "timeout", "protocol"],
)
def test_lost_connection_is_retried(make_client: MakeClient, error: Exception) -> None:
    api = FakeApi(error, OK)

    assert make_client(api).get_agent("a1") == {"agent_id": "a1"}
    assert len(api.requests) == 2


def test_connection_error_after_retries_raises_api_connection_error(
    make_client: MakeClient,
) -> None:
    api = FakeApi(httpx.ConnectError("[Errno 111] Connection refused"))
    client = make_client(api, max_retries=2)

    with pytest.raises(ApiConnectionError, match="Connection refused") as caught:
        client.get_agent("a1")

    assert caught.value.status == 0
    assert str(caught.value).startswith("GET /v1/convai/agents/a1: could not reach the API")
    assert len(api.requests) == 3
    assert client.stats.connection_errors == 3


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, ApiError),
        (401, AuthenticationError),
        (404, NotFoundError),
        (422, RequestValidationError),
    ],
)
def test_other_4xx_are_not_retried(
    make_client: MakeClient, sleeps: list[float], status: int, error: type[ApiError]
) -> None:
    api = FakeApi(Reply(status), OK)

    with pytest.raises(error):
        make_client(api).get_agent("a1")

    assert (len(api.requests), sleeps) == (1, [])


def test_retried_upload_resends_the_same_multipart_body(make_client: MakeClient) -> None:
    api = FakeApi(Reply(502), Reply(json={"id": "d1", "name": "f"}))
    make_client(api).create_file_document("f.txt", b"payload", name="f")

    first, second = api.requests
    assert b"payload" in first.content
    assert first.content == second.content
    assert first.headers["content-type"] == second.headers["content-type"]


def test_hinted_429s_get_their_own_budget_beyond_max_retries(make_client: MakeClient) -> None:
    limited = Reply(429, headers={"Retry-After": "1"})
    api = FakeApi(*([limited] * 7), OK)

    make_client(api, max_retries=2).get_agent("a1")

    assert len(api.requests) == 8  # seven refusals with a hint, then the answer


def test_hinted_429s_stop_at_the_attempt_cap(make_client: MakeClient) -> None:
    from convai_ops.api.retry import RATE_LIMIT_ATTEMPTS

    api = FakeApi(Reply(429, headers={"Retry-After": "1"}))

    with pytest.raises(RateLimitError):
        make_client(api, max_retries=2).get_agent("a1")

    assert len(api.requests) == RATE_LIMIT_ATTEMPTS


def test_hinted_429s_leave_the_5xx_budget_untouched(
    make_client: MakeClient, sleeps: list[float]
) -> None:
    limited = Reply(429, headers={"Retry-After": "1"})
    api = FakeApi(*([limited] * 5), Reply(500), OK)

    assert make_client(api, max_retries=1, backoff_base=2.0).get_agent("a1") == {"agent_id": "a1"}

    assert len(api.requests) == 7
    assert sleeps[:5] == [1.0] * 5
    assert 1.5 <= sleeps[5] <= 2.0  # the backoff after the 500 starts at its first step


def test_after_hinted_429s_the_5xx_budget_still_ends(make_client: MakeClient) -> None:
    limited = Reply(429, headers={"Retry-After": "1"})
    api = FakeApi(*([limited] * 5), Reply(500), Reply(503), OK)

    with pytest.raises(ServerError):
        make_client(api, max_retries=1).get_agent("a1")

    assert len(api.requests) == 7  # five hinted refusals, then one 5xx and its one retry
