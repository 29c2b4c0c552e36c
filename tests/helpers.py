"""Helpers shared by the test suites: the example project and an in-process CLI runner."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from convai_ops.cli import main

REPO = Path(__file__).resolve().parent.parent
Runner = Callable[..., tuple[int, str, str]]


def copy_example(root: Path) -> Path:
    """Copy the repository's example project (convai-ops.yaml, agents/, tools/) into ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "convai-ops.yaml", root / "convai-ops.yaml")
    shutil.copytree(REPO / "agents", root / "agents")
    shutil.copytree(REPO / "tools", root / "tools")
    return root


def cli_runner(
    project: Path,
    url: str,
    key: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Runner:
    """``run(*args) -> (exit code, stdout, stderr)``: ``convai-ops -C project ARGS`` in-process
    against the emulator at ``url`` with ``key``, polling test runs every 0.05 s."""
    monkeypatch.setenv("ELEVENLABS_BASE_URL", url)
    monkeypatch.setenv("ELEVENLABS_API_KEY", key)
    monkeypatch.setenv("CONVAI_OPS_POLL_INTERVAL", "0.05")
    return make_runner(project, capsys)


def make_runner(project: Path, capsys: pytest.CaptureFixture[str]) -> Runner:
    """``run(*args) -> (exit code, stdout, stderr)`` of ``convai-ops -C project ARGS``."""

    def run(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as exit_info:
            main(["-C", str(project), *args])
        out, err = capsys.readouterr()
        return int(exit_info.value.code or 0), out, err

    return run
