"""RAG indexes end to end over loopback: apply and ``convai-ops test`` never start a test run
before each document the agent retrieves through RAG is indexed, and say so when it cannot be
in time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from convai_ops.emulator import EmulatorConfig, run_in_thread
from tests.e2e.conftest import KEY, agent_ids
from tests.helpers import Runner, cli_runner

RAG_DELAY = 0.5


@pytest.fixture
def slow_index(tmp_path: Path) -> Iterator[Any]:
    config = EmulatorConfig(
        test_delay_s=0.05, rag_index_delay_s=RAG_DELAY, request_log_file=tmp_path / "log.jsonl"
    )
    with run_in_thread(config) as server:
        yield server


@pytest.fixture
def run(
    slow_index: Any,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Runner:
    return cli_runner(project, slow_index.url, KEY, monkeypatch, capsys)


def _assistant_documents(server: Any) -> set[str]:
    agent = server.emulator.store.agents[agent_ids(server)["assistant"]]
    tip = server.emulator.store.branches[agent.main_branch_id].tip_version_id
    prompt = server.emulator.store.versions[tip].config["conversation_config"]["agent"]["prompt"]
    return {str(locator["id"]) for locator in prompt["knowledge_base"]}


def _first_run_tests(log: list[Any], agent_id: str) -> int:
    return next(
        i
        for i, e in enumerate(log)
        if e.method == "POST" and e.path == f"/v1/convai/agents/{agent_id}/run-tests"
    )


def _indexed_before(log: list[Any], documents: set[str], end: int) -> set[str]:
    """Documents for which a GET rag-index answered ``succeeded`` before ``end``."""
    found = set()
    for entry in log[:end]:
        parts = entry.path.split("/")
        if entry.method == "GET" and entry.path.endswith("/rag-index") and entry.status == 200:
            statuses = {index["status"] for index in entry.response_body["indexes"]}
            if "succeeded" in statuses and parts[-2] in documents:
                found.add(parts[-2])
    return found


def test_apply_runs_tests_only_after_every_rag_index_succeeded(
    run: Runner, slow_index: Any
) -> None:
    code, out, err = run("apply", "--auto-approve")
    assert code == 0, out + err
    documents = _assistant_documents(slow_index)
    assert documents  # the example agent retrieves knowledge/parking.md through RAG
    log = list(slow_index.emulator.request_log)
    first_run = _first_run_tests(log, agent_ids(slow_index)["assistant"])
    assert _indexed_before(log, documents, first_run) == documents
    waited = [e for e in log[:first_run] if e.path.endswith("/rag-index") and e.method == "GET"]
    assert any(i["status"] == "processing" for e in waited for i in e.response_body["indexes"])
    assert "waiting for the RAG index of 'assistant/parking.md" in err + out


def test_the_request_log_file_shows_every_index_succeeded_before_run_tests(
    run: Runner, slow_index: Any
) -> None:
    """What an outside auditor sees: ``--request-log FILE`` alone proves the order."""
    assert run("apply", "--auto-approve")[0] == 0
    path = slow_index.emulator.config.request_log_file
    lines = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    log = [SimpleNamespace(**line, response_body=line["response"]) for line in lines]
    first_run = _first_run_tests(log, agent_ids(slow_index)["assistant"])
    documents = _assistant_documents(slow_index)
    assert documents and _indexed_before(log, documents, first_run) == documents


def test_convai_ops_test_on_main_waits_for_indexes_too(run: Runner, slow_index: Any) -> None:
    assert run("apply", "--auto-approve")[0] == 0
    for document in slow_index.emulator.store.documents.values():
        document.rag_indexes.clear()  # as if main's documents were never indexed
    slow_index.emulator.request_log.clear()
    code, out, err = run("test", "assistant")
    assert code == 0, out + err
    log = list(slow_index.emulator.request_log)
    documents = _assistant_documents(slow_index)
    first_run = _first_run_tests(log, agent_ids(slow_index)["assistant"])
    assert _indexed_before(log, documents, first_run) == documents


def test_an_index_that_takes_too_long_stops_before_any_test_run(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with run_in_thread(EmulatorConfig(test_delay_s=0.05, rag_index_delay_s=60)) as server:
        run = cli_runner(project, server.url, KEY, monkeypatch, capsys)
        monkeypatch.setenv("CONVAI_OPS_TEST_TIMEOUT", "0.3")
        code, out, err = run("apply", "--auto-approve")
        assistant = agent_ids(server)["assistant"]
        ran = [e for e in server.emulator.request_log if e.path.endswith(f"{assistant}/run-tests")]
    assert code == 1 and ran == []  # the assistant's tests never started
    assert "RAG index not ready after 0.3s" in out + err
    assert "'assistant/parking.md #" in out + err and "processing" in out + err
