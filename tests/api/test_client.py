"""Construction, lifecycle, stats and per-call options of ``ConvaiClient``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from convai_ops.api import ConvaiClient
from convai_ops.errors import ApiError, UsageError

from .fakes import API_KEY, FakeApi, MakeClient, Reply

AGENT = {"agent_id": "a1", "name": "Support"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"base_url": "ftp://api.test"}, "base URL 'ftp://api.test' must look like https://host"),
        ({"base_url": "not a url"}, "must look like https://host"),
        ({"base_url": "https://"}, "must look like https://host"),
        ({"timeout": 0}, "timeout must be positive"),
        ({"max_retries": -1}, "max_retries must be 0 or more"),
        ({"backoff_base": -0.1}, "backoff times must be 0 or more"),
        ({"max_concurrency": 0}, "concurrency must be at least 1"),
    ],
)
def test_invalid_settings_raise_usage_error(options: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"base_url": "https://api.test", "api_key": "sk_x_1234_abcdef_5678"}
    with pytest.raises(UsageError, match=message):
        ConvaiClient(**{**arguments, **options})


def test_context_manager_closes_the_client() -> None:
    transport = httpx.MockTransport(FakeApi())
    with ConvaiClient("https://api.test", "sk_x_1234_abcdef_5678", transport=transport) as c:
        c.delete_agent("a1")

    with pytest.raises(RuntimeError, match="closed"):
        c.delete_agent("a1")


def test_empty_key_sends_no_key_header(make_client: MakeClient) -> None:
    api = FakeApi()
    ConvaiClient("https://api.test", "", transport=httpx.MockTransport(api)).delete_agent("a1")

    assert "xi-api-key" not in api.last.headers


def test_stats_count_by_route_and_reset(make_client: MakeClient) -> None:
    api = FakeApi(Reply(json={"agent_id": "a1"}))
    client = make_client(api)
    client.get_agent("a1")
    client.get_agent("a2")
    client.delete_agent("a1")

    stats = client.stats
    assert stats.requests == 3
    assert stats.by_route == {
        "GET /v1/convai/agents/{agent_id}": 2,
        "DELETE /v1/convai/agents/{agent_id}": 1,
    }
    assert stats.status_counts == {200: 3}

    client.reset_stats()
    assert client.stats.requests == 0
    assert client.stats.by_route == {}


def test_simulate_timeout_replaces_the_client_timeout(make_client: MakeClient) -> None:
    api = FakeApi(Reply(json={"simulated_conversation": [], "analysis": {}}))
    client = make_client(api, timeout=5.0)

    client.simulate_conversation("a1", {"simulation_specification": {}}, timeout=300.0)
    assert api.last.extensions["timeout"]["read"] == 300.0

    client.get_agent("a1")
    assert api.last.extensions["timeout"]["read"] == 5.0


def test_request_core_returns_decoded_json(make_client: MakeClient) -> None:
    api = FakeApi(Reply(json={"ok": True}))
    result = make_client(api).request(
        "get", "/v1/convai/settings", params={"flag": False, "skip": None}
    )

    assert result == {"ok": True}
    assert api.last.method == "GET"
    assert api.last.url.params.multi_items() == [("flag", "false")]


def test_every_request_carries_the_key_and_user_agent(make_client: MakeClient) -> None:
    api = FakeApi(Reply(json=AGENT))
    make_client(api, user_agent="convai-ops/test").get_agent("a1")

    assert api.last.headers["xi-api-key"] == API_KEY
    assert api.last.headers["user-agent"] == "convai-ops/test"
    assert str(api.last.url).startswith("https://api.test/v1/convai/agents/a1")


def test_ids_are_quoted_into_the_path(make_client: MakeClient) -> None:
    api = FakeApi(Reply(json=AGENT))
    make_client(api).get_agent("a/../b?x=1")

    assert api.last.url.raw_path == b"/v1/convai/agents/a%2F..%2Fb%3Fx%3D1"


def test_create_agent_without_id_in_answer_is_an_api_error(make_client: MakeClient) -> None:
    with pytest.raises(ApiError, match="lacks 'agent_id'"):
        make_client(FakeApi(Reply(json={}))).create_agent({})


def test_object_method_rejects_a_list_answer(make_client: MakeClient) -> None:
    with pytest.raises(ApiError, match="expected a JSON object, got list"):
        make_client(FakeApi(Reply(json=[1, 2]))).get_agent("a1")


def test_malformed_json_is_an_api_error(make_client: MakeClient) -> None:
    reply = Reply(text="{not json", headers={"content-type": "application/json"})
    with pytest.raises(ApiError, match="malformed JSON"):
        make_client(FakeApi(reply)).get_agent("a1")
