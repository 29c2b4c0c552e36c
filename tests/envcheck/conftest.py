"""Fixtures of the every-environment tests: a project in a real git repository (branch
``main``), staging and production on two loopback emulators, each accepting only its own key,
and the CLI run in-process. GitHub's own variables are cleared."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import git
import pytest

from convai_ops.emulator import EmulatorConfig, EmulatorServer, run_in_thread
from tests.ci.conftest import CONFIG, PRODUCTION_KEY, PROJECT_FILES, STAGING_KEY, commit
from tests.helpers import Runner, make_runner

FILES = {k: v for k, v in PROJECT_FILES.items() if not k.startswith("agents/helpdesk/")}


@pytest.fixture(autouse=True)
def _no_github_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("GITHUB_"):
            monkeypatch.delenv(name)


class Envs(NamedTuple):
    """The project's folder, its two environments and the CLI."""

    root: Path
    staging: EmulatorServer
    production: EmulatorServer
    cli: Runner


@pytest.fixture
def envs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Envs]:
    """``support`` and ``sales`` committed on ``main``; staging's and production's base URLs in
    ``convai-ops.yaml``, both keys set (tests unset production's to go offline)."""
    fast = {"rag_index_delay_s": 0.05, "test_delay_s": 0.05}
    with (
        run_in_thread(EmulatorConfig(api_key=STAGING_KEY, **fast)) as staging,
        run_in_thread(EmulatorConfig(api_key=PRODUCTION_KEY, **fast)) as production,
    ):
        root = tmp_path / "repo"
        repo = git.Repo.init(root, initial_branch="main")
        with repo.config_writer() as config:
            config.set_value("user", "name", "Test")
            config.set_value("user", "email", "test@example.com")
        urls = CONFIG.replace("  staging:\n", f"  staging:\n    base_url: {staging.url}\n")
        urls = urls.replace("  production:\n", f"  production:\n    base_url: {production.url}\n")
        commit(root, {**FILES, "convai-ops.yaml": urls}, "agents")
        monkeypatch.setenv("ELEVENLABS_API_KEY", STAGING_KEY)
        monkeypatch.setenv("ELEVENLABS_API_KEY_PRODUCTION", PRODUCTION_KEY)
        monkeypatch.setenv("CONVAI_OPS_POLL_INTERVAL", "0.05")
        yield Envs(root, staging, production, make_runner(root, capsys))


def writes_to(server: EmulatorServer) -> list[Any]:
    """The emulator's logged requests that are not reads."""
    return [e for e in server.emulator.request_log if e.method != "GET"]
