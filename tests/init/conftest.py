"""Fixtures of the init / import --all tests: an empty project folder, the emulator on a
loopback port, the CLI run in-process, and a seeded workspace."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from convai_ops.emulator import EmulatorConfig, EmulatorServer, run_in_thread
from tests.helpers import Runner, cli_runner

KEY = "test-key-init-0123456789"
CONVERSATION = {"agent": {"first_message": "Hello!", "prompt": {"prompt": "You help."}}}


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    with run_in_thread(EmulatorConfig(rag_index_delay_s=0.05, test_delay_s=0.05)) as handle:
        yield handle


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An empty folder, not inside any project."""
    root = tmp_path / "team-agents"
    root.mkdir()
    return root


@pytest.fixture
def cli(
    server: EmulatorServer,
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Runner:
    """``convai-ops -C <folder> ARGS`` in-process against ``server``: (code, out, err)."""
    return cli_runner(folder, server.url, KEY, monkeypatch, capsys)


@pytest.fixture
def api(server: EmulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers={"xi-api-key": KEY}) as client:
        yield client


def post(api: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST ``body`` as JSON; the answer's JSON (raises on an error status)."""
    response = api.post(path, json=body)
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    return answer


def create_agent(api: httpx.Client, name: str, **extra: Any) -> str:
    """Create an agent named ``name`` (``extra``: more create-body keys); its id."""
    body = {"name": name, "conversation_config": CONVERSATION, **extra}
    return str(post(api, "/v1/convai/agents/create", body)["agent_id"])
