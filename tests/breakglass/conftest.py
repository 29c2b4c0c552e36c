"""Fixtures of the break-glass tests: the e2e emulator, a copy of agents/ in a git repository
(so apply records a commit and an operator), and ``cli(*args)``."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from convai_ops.emulator import EmulatorConfig, run_in_thread
from tests.e2e.conftest import KEY
from tests.helpers import Runner, cli_runner, copy_example


@pytest.fixture
def server() -> Iterator[Any]:
    with run_in_thread(EmulatorConfig(rag_index_delay_s=0.05, test_delay_s=0.05)) as handle:
        yield handle


def git(root: Path, *args: str) -> str:
    """Run git in ``root``; its stdout."""
    done = subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def commit_all(root: Path, message: str) -> str:
    """Commit everything in ``root``; the new commit's sha."""
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = copy_example(tmp_path / "repo")
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Ann Operator")
    git(root, "config", "user.email", "ann@example.com")
    commit_all(root, "Agents as of today")
    return root


@pytest.fixture
def cli(
    server: Any, project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Runner:
    return cli_runner(project, server.url, KEY, monkeypatch, capsys)


def edit_support_prompt(project: Path, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` in the support agent's prompt (``old`` must be there)."""
    prompt = project / "agents" / "support" / "prompt.md"
    text = prompt.read_text()
    assert old in text
    prompt.write_text(text.replace(old, new))
