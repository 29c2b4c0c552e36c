"""Fixtures for import, pull, drift and schema: the CLI against the emulator over loopback HTTP.

``project`` is an empty repository (a convai-ops.yaml with a ``staging`` environment);
``cli(*args)`` runs ``convai-ops -C <project> ...`` and returns ``(exit code, stdout, stderr)``;
``api`` is an httpx client for making "dashboard" edits; ``create_agent(body)`` creates an agent
the way the dashboard would (with versioning) and returns its id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from convai_ops.emulator import EmulatorConfig, EmulatorServer, run_in_thread
from tests.helpers import cli_runner

from .helpers import KEY, Cli


@pytest.fixture(scope="session")
def shared_server() -> Iterator[EmulatorServer]:
    with run_in_thread(EmulatorConfig(rag_index_delay_s=0.05, test_delay_s=0.05)) as running:
        yield running


@pytest.fixture
def server(shared_server: EmulatorServer) -> EmulatorServer:
    shared_server.emulator.reset()
    return shared_server


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "convai-ops.yaml").write_text(
        "version: 1\ndefault_environment: staging\nenvironments:\n  staging: {}\n  production: {}\n"
    )
    return root


@pytest.fixture
def cli(
    server: EmulatorServer,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Cli:
    return cli_runner(project, server.url, KEY, monkeypatch, capsys)


@pytest.fixture
def api(server: EmulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers={"xi-api-key": KEY}) as client:
        yield client


@pytest.fixture
def create_agent(api: httpx.Client) -> Callable[[dict[str, Any]], str]:
    def create(body: dict[str, Any]) -> str:
        response = api.post("/v1/convai/agents/create", json=body)
        response.raise_for_status()
        agent_id: str = response.json()["agent_id"]
        return agent_id

    return create
