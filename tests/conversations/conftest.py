"""Fixtures of the conversation and simulation tests: one emulator on a loopback port (reset
before each test, every answer checked strictly against the OpenAPI document afterwards), an
httpx client for it, a copy of agents/, and ``cli(*args)`` running ``convai-ops`` in-process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from convai_ops.emulator import EmulatorConfig, EmulatorServer, run_in_thread
from convai_ops.emulator.contract import log_violations
from tests.helpers import Runner, cli_runner, copy_example

REPO = Path(__file__).resolve().parents[2]
KEY = "conversations-test-key-0123"
CONFIG = EmulatorConfig(rag_index_delay_s=0.05, test_delay_s=0.05)

CANADA = "conv_34fybh1rgntb0mrjttam5fm4e7fq"  # support, failed: shipping to Canada, 7 turns
ROMANIAN = "conv_3zj6k7ynye8hn8pc8x12bf5rmjsa"  # support, failed, Romanian
TOOL_ERROR = "conv_5vnqe2dkatvkkwem6y23rzs5t30z"  # support, failed, lookup_order at turn 3
OLD_FAILURE = "conv_0zb0gekzd0q1ezhs7adqf44ycvey"  # support, failed, 12 days ago


@pytest.fixture(scope="session")
def shared_server() -> Iterator[EmulatorServer]:
    with run_in_thread(CONFIG) as running:
        yield running


@pytest.fixture
def server(shared_server: EmulatorServer) -> Iterator[EmulatorServer]:
    """The emulator, reset; on teardown every answer it sent must match the document."""
    shared_server.emulator.reset()
    yield shared_server
    violations = log_violations(shared_server.emulator.request_log, strict=True)
    assert not violations, "contract violations:\n" + "\n".join(violations)


@pytest.fixture
def http(server: EmulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers={"xi-api-key": KEY}, timeout=10) as client:
        yield client


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_example(tmp_path)


@pytest.fixture
def cli(
    server: EmulatorServer,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Runner:
    """``cli(*args) -> (exit code, stdout, stderr)`` against the emulator."""
    return cli_runner(project, server.url, KEY, monkeypatch, capsys)


def create_agent(http: httpx.Client, slug: str, prompt: str, **config: Any) -> str:
    """Create an agent tagged ``convai-ops:<slug>`` and return its id."""
    agent = {"first_message": "Hello, this is the agent.", "prompt": {"prompt": prompt}}
    agent.update(config.pop("agent", {}))
    body = {
        "name": slug,
        "tags": [f"convai-ops:{slug}"],
        "conversation_config": {"agent": agent},
        **config,
    }
    response = http.post("/v1/convai/agents/create", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["agent_id"])
