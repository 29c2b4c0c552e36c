"""Property: after ``apply`` succeeds, ``plan`` is empty.

Each example writes an agent with a random prompt, first message, language and LLM
temperature (YAML written by convai-ops' own writer), applies it through the gate against the
emulator over loopback (a test on the branch, then the merge), and plans again. The same agent
is reused across examples, so both the create and the update paths are exercised.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convai_ops.api import ConvaiClient
from convai_ops.apply import ApplyOptions, apply_plan
from convai_ops.emulator import EmulatorConfig, EmulatorServer, run_in_thread
from convai_ops.plan import build_plan
from convai_ops.settings import Settings
from convai_ops.spec import dump_yaml, load_project
from convai_ops.testing import PollPolicy

KEY = "property-key-0123456789"
ANY_TEXT = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40)
# YAML values without control characters: see test_yaml_round_trip.py for those.
YAML_TEXT = st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=1, max_size=40)
# The deterministic judge of the emulator passes this test when the prompt states the fact.
FACT = "Refunds are accepted within 30 days."
TEST = {
    "type": "llm",
    "chat_history": [{"role": "user", "message": "Can I get a refund?", "time_in_call_secs": 0}],
    "success_condition": 'The agent says refunds are accepted within "30 days".',
}


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    with run_in_thread(EmulatorConfig(rag_index_delay_s=0.05, test_delay_s=0.01)) as handle:
        yield handle


@pytest.fixture(scope="module")
def root() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="apply-then-plan-") as folder:
        (Path(folder) / "agents" / "gen" / "tests").mkdir(parents=True)
        yield Path(folder)


def _write_agent(root: Path, prompt: str, agent: dict[str, Any]) -> None:
    folder = root / "agents" / "gen"
    (folder / "prompt.md").write_text(f"{prompt}\n{FACT}\n", encoding="utf-8")
    body = {
        "name": "Generated",
        "prompt_file": "prompt.md",
        "conversation_config": {"agent": agent},
    }
    dump_yaml(body, folder / "agent.yaml")
    dump_yaml(TEST, folder / "tests" / "refund.yaml")


def _plan_and_apply(root: Path, url: str) -> tuple[int, str]:
    """``apply --auto-approve`` through the library; returns its exit code and the re-plan's
    actions."""
    project = load_project(root)
    environ = {"ELEVENLABS_API_KEY": KEY}
    settings = Settings.resolve(root, project.config, base_url=url, environ=environ)
    options = ApplyOptions(settings.environment, policy=PollPolicy(0.01, 0.05, 30.0))
    with ConvaiClient(url, KEY) as client:
        planned, snapshot = build_plan(client, project, settings)
        result = apply_plan(client, project, planned, snapshot.index, options)
        replanned, _ = build_plan(client, project, settings)
    messages = "; ".join(f"{o.slug}: {o.status} {o.message}" for o in result.outcomes)
    actions = ", ".join(
        f"{a.slug}: {a.action} {[c.dotted for c in a.changes]}" for a in replanned.agents
    )
    assert not replanned.has_changes, f"apply: {messages}; plan after it: {actions}"
    return result.exit_code, messages


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    prompt=ANY_TEXT,
    first_message=YAML_TEXT,
    language=st.sampled_from(["en", "de", "ro"]),
    temperature=st.floats(0, 1, allow_nan=False) | st.sampled_from([0, 1]),
)
def test_plan_after_apply_is_empty(
    server: EmulatorServer,
    root: Path,
    prompt: str,
    first_message: str,
    language: str,
    temperature: float,
) -> None:
    agent = {
        "first_message": first_message,
        "language": language,
        "prompt": {"llm": "gemini-2.5-flash", "temperature": temperature},
    }
    _write_agent(root, prompt, agent)

    code, messages = _plan_and_apply(root, server.url)

    assert code == 0, messages
