"""Fixtures of the end-to-end tests: an emulator on a loopback port, a copy of agents/, and
``cli(*args)`` running ``convai-ops`` in-process against them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from convai_ops.emulator import EmulatorConfig, run_in_thread
from tests.helpers import Runner, cli_runner, copy_example

REPO = Path(__file__).resolve().parents[2]
KEY = "test-key-0123456789"


@pytest.fixture
def server() -> Iterator[Any]:
    with run_in_thread(EmulatorConfig(rag_index_delay_s=0.05, test_delay_s=0.05)) as handle:
        yield handle


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_example(tmp_path)


@pytest.fixture
def cli(
    server: Any, project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Runner:
    return cli_runner(project, server.url, KEY, monkeypatch, capsys)


def main_config(server: Any, agent_id: str) -> dict[str, Any]:
    response = httpx.get(f"{server.url}/v1/convai/agents/{agent_id}", headers={"xi-api-key": KEY})
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def agent_ids(server: Any) -> dict[str, str]:
    response = httpx.get(f"{server.url}/v1/convai/agents", headers={"xi-api-key": KEY})
    agents = response.json()["agents"]
    return {
        tag.split(":", 1)[1]: a["agent_id"]
        for a in agents
        for tag in a["tags"]
        if tag.startswith("convai-ops:")
    }
