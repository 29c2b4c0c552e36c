"""The API key never shows in an error, a repr or a log line."""

from __future__ import annotations

import logging

import httpx
import pytest

from convai_ops.api import ConvaiClient
from convai_ops.errors import ApiConnectionError, AuthenticationError, redact

from .fakes import API_KEY, FakeApi, MakeClient, Reply


def test_key_echoed_by_the_api_is_scrubbed_from_the_error(make_client: MakeClient) -> None:
    body = {"detail": {"status": "invalid_api_key", "message": f"Invalid API key {API_KEY}"}}
    api = FakeApi(Reply(401, json=body))

    with pytest.raises(AuthenticationError) as caught:
        make_client(api).get_agent("a1")

    exc = caught.value
    assert "Invalid API key ***" in str(exc)
    for text in (str(exc), repr(exc), repr(exc.args), repr(exc.detail)):
        assert API_KEY not in text


def test_key_in_a_transport_error_is_scrubbed(make_client: MakeClient) -> None:
    api = FakeApi(httpx.ConnectError(f"proxy refused header xi-api-key={API_KEY}"))

    with pytest.raises(ApiConnectionError) as caught:
        make_client(api, max_retries=0).get_agent("a1")

    assert API_KEY not in repr(caught.value)
    assert API_KEY not in str(caught.value)


def test_key_not_in_repr_of_client(make_client: MakeClient) -> None:
    client = make_client(FakeApi())

    assert API_KEY not in repr(client)
    assert repr(client) == (
        "ConvaiClient(base_url='https://api.test', max_concurrency=8, max_retries=5)"
    )


def test_key_is_registered_as_a_secret() -> None:
    key = "sk_registered_only_by_the_client_42"
    ConvaiClient("https://api.test", key, transport=httpx.MockTransport(FakeApi())).close()

    assert redact(f"leaked {key}") == "leaked ***"


def test_debug_log_names_call_but_never_the_key(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    api = FakeApi(Reply(429, headers={"Retry-After": "1"}), Reply(json={"agent_id": "a1"}))

    with caplog.at_level(logging.DEBUG, logger="convai_ops"):  # the CLI may have raised it
        make_client(api).get_agent("a1", branch_id="b1")

    lines = [record.getMessage() for record in caplog.records]
    api_lines = [r.getMessage() for r in caplog.records if r.name == "convai_ops.api"]
    assert any(line.startswith("GET /v1/convai/agents/a1 -> 429 in ") for line in api_lines)
    assert any(line.startswith("GET /v1/convai/agents/a1 -> 200 in ") for line in api_lines)
    assert any("retrying GET /v1/convai/agents/a1 after HTTP 429 in 1.00 s" in x for x in api_lines)
    assert all(API_KEY not in line for line in lines)
    assert API_KEY not in caplog.text
