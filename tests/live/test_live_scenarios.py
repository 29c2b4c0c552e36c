"""The end-to-end scenarios against a real workspace (``pytest -m live``; see conftest.py):
plan, a gated apply that merges, a change whose test fails (nothing merged), drift after a
direct edit, pull, conversations, doctor and gc; the run's resources are deleted afterwards.

Each test judged by the workspace's LLM is kept simple: the prompt states one fact (the shop
opens at 9 am) and the test asks for exactly that fact.
"""

from __future__ import annotations

import pytest

from tests.live.conftest import PROMPT_9, PROMPT_11, LiveRun

pytestmark = [pytest.mark.live, pytest.mark.timeout(1800)]


def main_prompt(run: LiveRun, agent_id: str) -> tuple[str, str]:
    agent = run.client.get_agent(agent_id)
    prompt = str(agent["conversation_config"]["agent"]["prompt"]["prompt"])
    return prompt, str(agent["version_id"])


def test_plan_apply_block_drift_pull_conversations_gc(live_run: LiveRun) -> None:
    run = live_run.cli
    code, out, err = run("plan", "--detailed-exitcode")
    assert code == 2, out + err
    assert live_run.tag in out

    code, out, err = run("apply", "--auto-approve")
    assert code == 0, out + err
    agent_id = live_run.agent_id()
    prompt, version = main_prompt(live_run, agent_id)
    assert "9 am" in prompt
    code, out, err = run("plan", "--detailed-exitcode")
    assert code == 0, "plan right after apply must be empty:\n" + out + err

    (live_run.agent_dir / "prompt.md").write_text(PROMPT_11)
    code, out, err = run("apply", "--auto-approve")
    assert code == 3, out + err
    assert main_prompt(live_run, agent_id) == (prompt, version), "main changed"

    (live_run.agent_dir / "prompt.md").write_text(PROMPT_9)
    code, out, err = run("drift")
    assert code == 0, out + err
    first_message = "Hello, Zephyr Books here, changed by hand."
    body = {"conversation_config": {"agent": {"first_message": first_message}}}
    live_run.client.update_agent(agent_id, body)
    code, out, err = run("drift")
    assert code == 2, out + err
    assert "first_message" in out

    code, out, err = run("pull")
    assert code == 0, out + err
    assert first_message in (live_run.agent_dir / "agent.yaml").read_text()
    code, out, err = run("drift")
    assert code == 0, out + err


def test_conversations_doctor_and_gc_succeed(live_run: LiveRun) -> None:
    run = live_run.cli
    code, out, err = run("apply", "--auto-approve")
    assert code == 0, out + err

    code, out, err = run("conversations", "list", "--agent", live_run.tag, "--limit", "5")
    assert code == 0, out + err
    code, out, err = run("conversations", "list", "--search", "shop", "--limit", "1")
    assert code == 0, out + err

    code, out, err = run("doctor")
    assert code == 0, out + err
    assert f"{live_run.tag}: main receives" in out

    code, out, err = run("gc", "--min-age-days", "0")
    assert code == 0, out + err
    assert f"{live_run.tag}/opening-hour" not in out, "gc lists a test main still uses"
    assert f"{live_run.tag}/returns.md" not in out, "gc lists a document main still uses"
