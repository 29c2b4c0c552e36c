"""The emulator's request log file: one JSON line per request, flushed at once, no key value."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from convai_ops.emulator import EmulatorConfig, run_in_thread
from convai_ops.emulator.core import RequestLogEntry
from convai_ops.emulator.request_log import is_secret_name, log_line, mask_query
from tests.helpers import cli_runner, copy_example

KEY = "log-test-key-5f3a9c"


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "logs" / "requests.jsonl"


def test_plan_against_the_emulator_is_written_to_the_log_without_the_key(
    tmp_path: Path,
    log_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = EmulatorConfig(
        api_key=KEY, request_log_file=log_path, test_delay_s=0.05, rag_index_delay_s=0.05
    )
    with run_in_thread(config) as server:
        run = cli_runner(copy_example(tmp_path / "project"), server.url, KEY, monkeypatch, capsys)
        code, _, _ = run("plan", "--detailed-exitcode")
        assert code == 2
        written = _lines(log_path)  # read while the emulator still runs: flushed per line
        assert len(written) == len(server.emulator.request_log)
        wrong = httpx.get(
            f"{server.url}/v1/convai/agents", headers={"xi-api-key": "nope-1234-abcdef-5678"}
        )
        assert wrong.status_code == 401
    entries = _lines(log_path)
    paths = {(e["method"], e["path"]) for e in entries}
    assert {("GET", "/v1/convai/agents"), ("GET", "/v1/convai/knowledge-base")} <= paths
    assert all(
        set(e) >= {"method", "path", "query", "status", "duration_ms", "timestamp"} for e in entries
    )
    assert {e["status"] for e in entries[:-1]} == {200}
    assert entries[-1]["status"] == 401
    assert KEY not in log_path.read_text("utf-8")
    assert "nope-1234-abcdef-5678" not in log_path.read_text("utf-8")


def test_a_key_sent_by_mistake_in_the_query_or_body_is_masked(log_path: Path) -> None:
    config = EmulatorConfig(request_log_file=log_path, test_delay_s=0.05)
    with run_in_thread(config) as server:
        headers = {"xi-api-key": KEY}
        http = httpx.Client(base_url=server.url, headers=headers)
        http.get("/v1/convai/agents", params={"search": KEY, "api_key": "other-secret-77"})
        body = {"conversation_config": {}, "name": f"agent {KEY}", "xi-api-key": "body-secret-99"}
        created = http.post("/v1/convai/agents/create", json=body)
        http.close()
    assert created.status_code == 200
    text = log_path.read_text("utf-8")
    for secret in (KEY, "other-secret-77", "body-secret-99"):
        assert secret not in text
    get, post = _lines(log_path)
    assert get["query"] == "search=***&api_key=***"
    assert post["body"]["xi-api-key"] == "***"
    assert post["body"]["name"] == "agent ***"
    assert post["status"] == 200


def test_secret_names_are_recognised_and_ordinary_fields_are_not() -> None:
    for name in (
        "xi-api-key",
        "api_key",
        "Authorization",
        "access_token",
        "client_secret",
        "password",
        "token",
        "key",
    ):
        assert is_secret_name(name), name
    for name in ("max_tokens", "secret_id", "agent_id", "tool_ids", "keywords", "name"):
        assert not is_secret_name(name), name
    assert mask_query("page_size=1&token=abc") == "page_size=1&token=***"


def test_a_log_line_masks_the_key_in_every_form_it_can_take() -> None:
    secret = "sk_abc/def+1_0123456"
    entry = RequestLogEntry(
        method="POST",
        path=f"/v1/convai/x/{secret}",
        query="q=sk_abc%2Fdef%2B1_0123456&page_size=1",
        status=422,
        duration_ms=1.23456,
        timestamp=1.0,
        body={"nested": [{"note": f"my key is {secret}"}]},
    )
    line = log_line(entry, [secret])
    assert line.endswith("\n") and line.count("\n") == 1
    assert "sk_abc" not in line
    record = json.loads(line)
    assert record["status"] == 422 and record["duration_ms"] == 1.235


def test_a_log_line_never_masks_fragments_of_words_for_a_short_key() -> None:
    entry = RequestLogEntry(
        method="GET",
        path="/v1/convai/agents",
        query="search=keep",
        status=401,
        duration_ms=1.0,
        timestamp=1.0,
        response_body={"detail": {"status": "invalid_api_key"}},
    )
    record = json.loads(log_line(entry, ["k", "test", "key"]))

    assert record["query"] == "search=keep"
    assert record["response"] == {"detail": {"status": "invalid_api_key"}}
