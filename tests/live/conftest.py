"""The live suite (``pytest -m live``): end-to-end scenarios against the workspace whose key is
in ``CONVAI_OPS_LIVE_API_KEY``, at ``CONVAI_OPS_LIVE_BASE_URL`` (default the API document's
production server, https://api.elevenlabs.io). CI points it at the emulator.

Both variables are read when this module is imported: the suite-wide autouse fixture of
``tests/conftest.py`` clears every ``CONVAI_OPS_*`` variable before each test.

Live tests run only when selected with ``-m live`` and the key is set; otherwise they are
skipped, saying why. Everything a run creates carries its run tag (``live-<8 hex>``) in its
slug, and the ``live_run`` fixture deletes it afterwards (agent, tests, documents), even when
the test fails.
"""

from __future__ import annotations

import os
import secrets
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from convai_ops.api import ConvaiClient
from convai_ops.errors import ApiError, NotFoundError
from convai_ops.settings import DEFAULT_BASE_URL
from tests.helpers import Runner, make_runner

LIVE_KEY = os.environ.get("CONVAI_OPS_LIVE_API_KEY", "")
LIVE_BASE_URL = (os.environ.get("CONVAI_OPS_LIVE_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
ENV = "live"

PROMPT_9 = (
    "You are the phone assistant of Zephyr Books, a small bookshop.\n"
    "The shop opens at 9 am every day.\n"
    "Answer in one short sentence.\n"
)
PROMPT_11 = PROMPT_9.replace("9 am", "11 am")
# Long enough that a RAG index has something to index ("document_too_small" is an index state).
RETURNS = "# Returns and exchanges at Zephyr Books\n\n" + "\n\n".join(
    [
        "Books bought at Zephyr Books can be returned within 14 days of purchase with the "
        "receipt. The book must be unread and in the condition it was sold in.",
        "Refunds go back to the card or the account used to pay, within five working days of "
        "the return. Cash purchases are refunded in cash at the counter.",
        "Gift cards, magazines and newspapers cannot be returned. Special orders can be "
        "returned only when the book arrived damaged or was not the edition ordered.",
        "Books may be exchanged for another title of the same price or more within 30 days, "
        "with or without a receipt; without one, the exchange value is the lowest price the "
        "book was sold at in those 30 days.",
        "Damaged books found after purchase are replaced free of charge when reported within "
        "7 days. Please bring the book and, if you have it, the receipt to any of our shops.",
    ]
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip live tests unless selected with ``-m live`` and given a key."""
    selected = "live" in (config.getoption("markexpr", "") or "")
    for item in items:
        if item.get_closest_marker("live") is None:
            continue
        if not selected:
            item.add_marker(pytest.mark.skip(reason="live tests run only with `pytest -m live`"))
        elif not LIVE_KEY:
            reason = (
                "CONVAI_OPS_LIVE_API_KEY is not set: no workspace to run the live suite on "
                "(against `convai-ops emulator`, any value works)"
            )
            item.add_marker(pytest.mark.skip(reason=reason))


@dataclass(frozen=True)
class LiveRun:
    """One run: its ``tag`` (also the agent's slug), the project folder, ``cli(*args)``
    (``convai-ops -C root ARGS`` in-process against the live workspace) and a client."""

    tag: str
    root: Path
    cli: Runner
    client: ConvaiClient

    @property
    def agent_dir(self) -> Path:
        return self.root / "agents" / self.tag

    def agent_id(self) -> str:
        """The id of the agent this run created (found by its managed tag)."""
        for summary in self.client.iter_agents(search=self.tag, page_size=100):
            if f"convai-ops:{self.tag}" in (summary.get("tags") or ()):
                return str(summary["agent_id"])
        raise AssertionError(f"no agent tagged convai-ops:{self.tag}")


def write_project(root: Path, tag: str) -> None:
    """A project with one agent, ``agents/<tag>/``: a prompt stating the opening hour, one
    knowledge document and one next-reply test that passes on that prompt."""
    agent = root / "agents" / tag
    (agent / "tests").mkdir(parents=True)
    (agent / "knowledge").mkdir()
    (root / "convai-ops.yaml").write_text(
        f"version: 1\ndefault_environment: {ENV}\n"
        f"environments:\n  {ENV}:\n    api_key_env: ELEVENLABS_API_KEY\n"
    )
    (agent / "agent.yaml").write_text(
        textwrap.dedent(f"""\
            name: convai-ops live {tag}
            tags: [convai-ops-live]
            prompt_file: prompt.md
            conversation_config:
              agent:
                first_message: Hello, this is Zephyr Books. How can I help?
                language: en
            """)
    )
    (agent / "prompt.md").write_text(PROMPT_9)
    (agent / "knowledge" / "returns.md").write_text(RETURNS)
    (agent / "tests" / "opening-hour.yaml").write_text(
        textwrap.dedent("""\
            type: llm
            chat_history:
              - role: user
                message: When does the shop open?
                time_in_call_secs: 0
            success_condition: The agent says the shop opens at 9 am.
            success_examples:
              - The shop opens at 9 am every day.
            failure_examples:
              - The shop opens at 11 am every day.
            """)
    )


@pytest.fixture
def live_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[LiveRun]:
    """A fresh project under a unique tag; afterwards, whatever happened, every agent, test
    and document the run created is deleted (and the test fails if one could not be)."""
    tag = f"live-{secrets.token_hex(4)}"
    root = tmp_path / "project"
    write_project(root, tag)
    monkeypatch.setenv("ELEVENLABS_BASE_URL", LIVE_BASE_URL)
    monkeypatch.setenv("ELEVENLABS_API_KEY", LIVE_KEY)
    with ConvaiClient(LIVE_BASE_URL, LIVE_KEY) as client:
        try:
            yield LiveRun(tag, root, make_runner(root, capsys), client)
        finally:
            failed = delete_everything(client, tag)
            assert not failed, f"could not delete: {failed}"
            assert owned_by(client, tag) == ([], [], []), "the run left resources behind"


def owned_by(client: ConvaiClient, tag: str) -> tuple[list[str], list[str], list[str]]:
    """Ids of the agents tagged ``convai-ops:<tag>`` and of the tests and documents named
    ``<tag>/...``."""
    owned = f"{tag}/"
    agents = [
        str(a["agent_id"])
        for a in client.iter_agents(search=tag, page_size=100)
        if f"convai-ops:{tag}" in (a.get("tags") or ())
    ]
    tests = [str(t["id"]) for t in client.iter_tests(search=tag) if t["name"].startswith(owned)]
    documents = [
        str(d["id"]) for d in client.iter_documents(search=tag) if d["name"].startswith(owned)
    ]
    return agents, tests, documents


def delete_everything(client: ConvaiClient, tag: str) -> list[str]:
    """Delete the agents tagged ``convai-ops:<tag>``, then tests and documents named
    ``<tag>/...``; return what could not be deleted."""
    failed: list[str] = []
    agents, tests, documents = owned_by(client, tag)
    steps: list[tuple[str, Callable[[], None]]] = [
        *((f"agent {i}", lambda i=i: client.delete_agent(i)) for i in agents),
        *((f"test {i}", lambda i=i: client.delete_test(i)) for i in tests),
        *((f"document {i}", lambda i=i: client.delete_document(i, force=True)) for i in documents),
    ]
    for name, delete in steps:
        try:
            delete()
        except NotFoundError:
            pass
        except ApiError as error:
            failed.append(f"{name}: {error}")
    return failed
