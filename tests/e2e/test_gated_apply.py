"""End to end over real loopback HTTP: the CLI against the emulator, on a copy of agents/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.e2e.conftest import KEY, agent_ids, main_config


def test_plan_shows_agents_to_create(cli: Any) -> None:
    code, out, _ = cli("plan", "--detailed-exitcode")
    assert code == 2
    assert "+ assistant will be created" in out
    assert "+ support will be created" in out
    assert "Plan: 2 to create, 0 to update, 0 unchanged; 6 tests will run." in out


def test_apply_creates_then_plan_is_empty(cli: Any, server: Any) -> None:
    code, out, err = cli("apply", "--auto-approve")
    assert code == 0, out + err
    assert "Apply: 2 merged" in out
    ids = agent_ids(server)
    assert set(ids) == {"support", "assistant"}
    prompt = main_config(server, ids["support"])["conversation_config"]["agent"]["prompt"]["prompt"]
    assert "within 30 days" in prompt
    code, out, _ = cli("plan", "--detailed-exitcode")
    assert code == 0, out
    assert "No changes." in out


def test_prompt_edit_shows_the_line_and_exits_2(cli: Any, project: Path) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    prompt = project / "agents" / "assistant" / "prompt.md"
    prompt.write_text(prompt.read_text().replace("8 am to 6 pm", "9 am to 5 pm"))
    code, out, _ = cli("plan", "--detailed-exitcode")
    assert code == 2
    assert "- Opening hours of the office are Monday to Friday, 8 am to 6 pm." in out
    assert "+ Opening hours of the office are Monday to Friday, 9 am to 5 pm." in out
    assert "Plan: 0 to create, 1 to update, 1 unchanged; 3 tests will run." in out


def test_failing_apply_leaves_main_identical(cli: Any, server: Any, project: Path) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    agent_id = agent_ids(server)["support"]
    before = main_config(server, agent_id)
    prompt = project / "agents" / "support" / "prompt.md"
    prompt.write_text(prompt.read_text().replace("within 30 days", "within 14 days"))
    code, out, _ = cli("apply", "--auto-approve")
    assert code == 3, out
    assert "refund-window" in out and "FAIL" in out
    assert "NOT merged" in out
    after = main_config(server, agent_id)
    # metadata.updated_at_unix_secs is the agent's (any branch's commit moves it), not main's
    before.pop("metadata"), after.pop("metadata")
    assert json.dumps(after, sort_keys=True) == json.dumps(before, sort_keys=True)
    assert after["version_id"] == before["version_id"]
    merges = [
        e for e in server.emulator.request_log if e.path.endswith("/merge") and agent_id in e.path
    ]
    assert len(merges) == 1  # only the first, passing apply merged


def test_key_never_printed_even_with_debug(cli: Any) -> None:
    code, out, err = cli("--debug", "apply", "--auto-approve")
    assert code == 0
    assert KEY not in out + err
