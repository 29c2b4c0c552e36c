"""Fixtures shared by test folders that run the CLI on a copy of the example project against a
fast emulator on loopback (``tests/conftest.py`` loads them; a folder's own ``conftest.py``
may define other fixtures of the same names)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from convai_ops.emulator import EmulatorConfig, run_in_thread
from tests.helpers import Runner, cli_runner, copy_example

KEY = "test-key-0123456789"
FAST = {"test_delay_s": 0.05, "rag_index_delay_s": 0.05}
"""Short test-run and RAG-index delays: the suite stays fast."""
MODES = {
    "default": {},
    "agent-wide-dropped": {"agent_wide_on_branch": "dropped"},
    "identical-merge-commits-nothing": {"identical_merge": "commit-nothing"},
}
"""The emulator's default and each knob's other reading of an inferred behaviour
(``mode_server`` runs a test once per mode)."""


@pytest.fixture
def server() -> Iterator[Any]:
    """The emulator with short test and RAG-index delays."""
    with run_in_thread(EmulatorConfig(**FAST)) as handle:
        yield handle


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the example project in ``tmp_path / "repo"``."""
    return copy_example(tmp_path / "repo")


@pytest.fixture
def cli(
    server: Any, project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Runner:
    """``convai-ops -C <project> ARGS`` in-process against ``server``: (code, out, err)."""
    return cli_runner(project, server.url, KEY, monkeypatch, capsys)


@pytest.fixture(params=sorted(MODES))
def mode_server(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The emulator in each of :data:`MODES`."""
    with run_in_thread(EmulatorConfig(**FAST, **MODES[request.param])) as handle:
        yield handle


@pytest.fixture
def mode_cli(
    mode_server: Any,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Runner:
    """``cli`` against ``mode_server``."""
    return cli_runner(project, mode_server.url, KEY, monkeypatch, capsys)
