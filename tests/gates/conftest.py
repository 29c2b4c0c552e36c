"""Fixtures of the gate tests: an emulator on a loopback port (fast test runs), a copy of the
example project, and ``cli(*args)`` running ``convai-ops`` in-process against them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from convai_ops.emulator import EmulatorConfig, run_in_thread
from tests.example_fixtures import KEY  # server, project, cli: tests/conftest.py
from tests.helpers import Runner, cli_runner


@pytest.fixture
def flaky_server() -> Iterator[Any]:
    """A judge that gives the second-best reply half the time (agents with temperature > 0)."""
    config = EmulatorConfig(rag_index_delay_s=0.05, test_delay_s=0.05, nondeterminism=0.5, seed=7)
    with run_in_thread(config) as handle:
        yield handle


@pytest.fixture
def flaky_cli(
    flaky_server: Any,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Runner:
    return cli_runner(project, flaky_server.url, KEY, monkeypatch, capsys)
