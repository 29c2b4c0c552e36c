"""Authentication, error shapes, injected faults, latency and the state file."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from convai_ops.emulator import EmulatorConfig, EmulatorServer, create_app, run_in_thread

from .conftest import API_KEY
from .helpers import create_agent, create_branch, get_agent, refund_test

AGENTS = "/v1/convai/agents"


def test_missing_key_is_401(server: EmulatorServer, client: httpx.Client) -> None:
    response = httpx.get(f"{client.base_url}{AGENTS}")
    assert response.status_code == 401
    assert response.json() == {
        "detail": {"status": "needs_authorization", "message": "Missing the xi-api-key header."}
    }


class TestConfiguredKey:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return EmulatorConfig(api_key=API_KEY)

    def test_only_the_configured_key_is_accepted(self, client: httpx.Client) -> None:
        assert client.get(AGENTS).status_code == 200
        wrong = client.get(AGENTS, headers={"xi-api-key": "other-key-0123456789"})
        assert wrong.status_code == 401
        assert wrong.json()["detail"]["status"] == "invalid_api_key"


def test_error_shapes(client: httpx.Client) -> None:
    missing = client.get(f"{AGENTS}/agent_missing")
    assert missing.status_code == 404
    assert missing.json() == {
        "detail": {
            "status": "agent_not_found",
            "message": "The agent 'agent_missing' does not exist.",
        }
    }
    bad_body = client.post(f"{AGENTS}/create", json={"name": 5})
    assert bad_body.status_code == 422
    locs = sorted(error["loc"] for error in bad_body.json()["detail"])
    assert locs == [["body", "conversation_config"], ["body", "name"]]
    typed = client.post(
        f"{AGENTS}/create",
        json={"conversation_config": {"agent": {"prompt": {"temperature": "hot"}}}},
    )
    assert typed.json()["detail"] == [
        {
            "loc": ["body", "conversation_config", "agent", "prompt", "temperature"],
            "msg": "'hot' is not of type 'number'",
            "type": "number_type",
        }
    ]
    malformed = client.post(
        f"{AGENTS}/create", content=b"{", headers={"content-type": "application/json"}
    )
    assert malformed.json()["detail"][0]["type"] == "json_invalid"
    query = client.get(AGENTS, params={"page_size": 500})
    assert query.status_code == 422
    assert query.json()["detail"][0]["loc"] == ["query", "page_size"]
    cursor = client.get(AGENTS, params={"cursor": "garbage"})
    assert cursor.json()["detail"][0]["loc"] == ["query", "cursor"]


class TestFailRate:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return EmulatorConfig(fail_rate=0.5, seed=3)

    def test_some_requests_fail_with_500(
        self, client: httpx.Client, server: EmulatorServer
    ) -> None:
        statuses = [client.get(AGENTS).status_code for _ in range(40)]
        assert set(statuses) == {200, 500}
        assert 8 <= statuses.count(500) <= 32
        log = server.emulator.request_log
        assert [entry.status for entry in log] == statuses
        failed = next(entry for entry in log if entry.status == 500)
        assert failed.response_body["detail"]["status"] == "internal_error"


class TestRateLimit:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return EmulatorConfig(rate_limit=5)

    def test_burst_over_the_limit_gets_429(
        self, client: httpx.Client, server: EmulatorServer
    ) -> None:
        responses = [client.get(AGENTS) for _ in range(12)]
        limited = [r for r in responses if r.status_code == 429]
        assert 1 <= len(limited) <= 8
        assert [r.status_code for r in responses[:5]] == [200] * 5
        assert limited[0].headers["retry-after"] == "1"
        assert 0 < int(limited[0].headers["retry-after-ms"]) <= 200
        log = server.emulator.request_log
        assert sum(entry.status == 429 for entry in log) == len(limited)


class TestLatency:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return EmulatorConfig(latency_ms=60)

    def test_latency_is_added(self, client: httpx.Client, server: EmulatorServer) -> None:
        client.get(AGENTS)
        [entry] = server.emulator.request_log
        assert entry.duration_ms >= 60


def test_request_log_records_bodies(client: httpx.Client, server: EmulatorServer) -> None:
    agent = create_agent(client)
    create = server.emulator.request_log[0]
    assert (create.method, create.path, create.status) == ("POST", f"{AGENTS}/create", 200)
    assert create.body["name"] == "Support"
    assert create.response_body == {"agent_id": agent["agent_id"]}
    client.get(AGENTS, params={"page_size": 3})
    listed = server.emulator.request_log[-1]
    assert (listed.query, listed.body) == ("page_size=3", None)


def test_state_file_survives_restart(tmp_path: Path) -> None:
    config = EmulatorConfig(state_file=tmp_path / "state.json", test_delay_s=0)
    with (
        run_in_thread(config) as first,
        httpx.Client(
            base_url=first.url, headers={"xi-api-key": "sk_test_0123456789abcdef"}
        ) as client,
    ):
        agent = create_agent(client)
        branch = create_branch(client, agent, "kept")
        test_id = refund_test(client)
    with (
        run_in_thread(config) as second,
        httpx.Client(
            base_url=second.url, headers={"xi-api-key": "sk_test_0123456789abcdef"}
        ) as client,
    ):
        again = get_agent(client, agent["agent_id"], branch_id=branch["created_branch_id"])
        assert again["version_id"] == branch["created_version_id"]
        assert client.get(f"/v1/convai/agent-testing/{test_id}").status_code == 200
        newer = create_agent(client)
        assert newer["agent_id"] != agent["agent_id"]
        assert len(client.get(AGENTS).json()["agents"]) == 2


def test_unreadable_state_file_is_named(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text('{"agents": 3}')
    with pytest.raises(ValueError, match=r"state\.json is not an emulator state file"):
        create_app(EmulatorConfig(state_file=state))


def test_reset_forgets_everything(client: httpx.Client, server: EmulatorServer) -> None:
    create_agent(client)
    server.emulator.reset()
    assert server.emulator.request_log == []
    assert client.get(AGENTS).json()["agents"] == []


def test_server_stops_on_exit() -> None:
    with run_in_thread() as running:
        assert running.url.startswith("http://127.0.0.1:")
        assert (
            httpx.get(
                running.url + AGENTS, headers={"xi-api-key": "sk_test_0123456789abcdef"}
            ).status_code
            == 200
        )
    with pytest.raises(httpx.ConnectError):
        httpx.get(running.url + AGENTS, headers={"xi-api-key": "sk_test_0123456789abcdef"})
