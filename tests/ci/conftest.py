"""Fixtures of the CI tests: a small project in a real git repository, the emulator on a
loopback port, and the CLI run in-process. GitHub's own variables are cleared so that running
this suite inside GitHub Actions changes nothing."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import git
import pytest

from convai_ops.emulator import EmulatorConfig, EmulatorServer, run_in_thread
from tests.helpers import Runner, cli_runner, make_runner

KEY = "test-key-ci-0123456789"
STAGING_KEY = "staging-key-0123456789"
PRODUCTION_KEY = "production-key-0123456789"

CONFIG = """\
version: 1
default_environment: staging
environments:
  staging:
    api_key_env: ELEVENLABS_API_KEY
  production:
    api_key_env: ELEVENLABS_API_KEY_PRODUCTION
"""

PROJECT_FILES = {
    "convai-ops.yaml": CONFIG,
    "agents/support/agent.yaml": "name: Support\nprompt_file: prompt.md\n",
    "agents/support/prompt.md": (
        "You are Ava, the support agent of Acme Outdoor Gear.\n"
        "Refunds are available within 30 days of delivery for unused or faulty items.\n"
        "Delivery takes 3 to 5 business days.\n"
    ),
    "agents/support/tests/refund-window.yaml": (
        "type: llm\n"
        "chat_history:\n"
        "  - {role: user, message: Can I get a refund for my tent?, time_in_call_secs: 0}\n"
        'success_condition: The agent confirms the refund window of "30 days".\n'
    ),
    "agents/helpdesk/agent.yaml": "name: Helpdesk\nprompt_file: prompt.md\n",
    "agents/helpdesk/prompt.md": "You are Nova, the internal helpdesk assistant.\n",
    "agents/helpdesk/knowledge/expenses.md": "Expense reports are due by the 5th of each month.\n",
    "agents/helpdesk/tests/expense-deadline.yaml": (
        "type: llm\n"
        "chat_history:\n"
        "  - {role: user, message: When are expense reports due?, time_in_call_secs: 0}\n"
        'success_condition: The agent says "the 5th of each month".\n'
    ),
    "agents/sales/agent.yaml": "# Sales line.\nname: Sales\nprompt_file: prompt.md\n",
    "agents/sales/prompt.md": "You are Max. The Trail tent costs 199 dollars.\n",
    "agents/sales/tests/tent-price.yaml": (
        "type: llm\n"
        "chat_history:\n"
        "  - {role: user, message: How much is the Trail tent?, time_in_call_secs: 0}\n"
        'success_condition: The agent quotes "199 dollars".\n'
    ),
}


@pytest.fixture(autouse=True)
def _no_github_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("GITHUB_"):
            monkeypatch.delenv(name)


def write_files(root: Path, files: dict[str, str]) -> None:
    """Write ``files`` (relative path -> text) under ``root``."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def commit(root: Path, files: dict[str, str], message: str) -> str:
    """Write ``files``, stage everything and commit; returns the new commit's sha."""
    write_files(root, files)
    repo = git.Repo(root)
    repo.git.add(A=True)
    return str(repo.index.commit(message).hexsha)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A git repository (branch ``feature``) holding ``PROJECT_FILES`` in one commit."""
    root = tmp_path / "repo"
    repo = git.Repo.init(root, initial_branch="feature")
    with repo.config_writer() as config:
        config.set_value("user", "name", "Test")
        config.set_value("user", "email", "test@example.com")
    commit(root, PROJECT_FILES, "agents")
    return root


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    with run_in_thread(EmulatorConfig(rag_index_delay_s=0.05, test_delay_s=0.05)) as handle:
        yield handle


@pytest.fixture
def cli(
    server: EmulatorServer,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Runner:
    """Run ``convai-ops -C <project> ARGS`` in-process against ``server``: (code, out, err)."""
    return cli_runner(project, server.url, KEY, monkeypatch, capsys)


def requests_to(server: EmulatorServer, method: str, fragment: str) -> list[Any]:
    """The emulator's logged requests with ``method`` whose path contains ``fragment``."""
    return [e for e in server.emulator.request_log if e.method == method and fragment in e.path]


class Environments(NamedTuple):
    """Two emulators, one per environment, each accepting only its own key, and the CLI."""

    staging: EmulatorServer
    production: EmulatorServer
    cli: Runner


@pytest.fixture
def environments(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Environments]:
    """``staging`` and ``production`` of ``project`` on two loopback emulators: each base URL
    is written in ``convai-ops.yaml`` (committed), each key is in its own variable."""
    with (
        run_in_thread(
            EmulatorConfig(rag_index_delay_s=0.05, test_delay_s=0.05, api_key=STAGING_KEY)
        ) as staging,
        run_in_thread(
            EmulatorConfig(rag_index_delay_s=0.05, test_delay_s=0.05, api_key=PRODUCTION_KEY)
        ) as production,
    ):
        config = CONFIG.replace(
            "  staging:\n", f"  staging:\n    base_url: {staging.url}\n"
        ).replace("  production:\n", f"  production:\n    base_url: {production.url}\n")
        commit(project, {"convai-ops.yaml": config}, "environments on loopback")
        monkeypatch.setenv("ELEVENLABS_API_KEY", STAGING_KEY)
        monkeypatch.setenv("ELEVENLABS_API_KEY_PRODUCTION", PRODUCTION_KEY)
        monkeypatch.setenv("CONVAI_OPS_POLL_INTERVAL", "0.05")
        yield Environments(staging, production, make_runner(project, capsys))
