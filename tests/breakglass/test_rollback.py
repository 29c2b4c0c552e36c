"""``convai-ops rollback SLUG``: main holds an earlier version's config again, through a
tested branch from the current main; ``git revert`` advice; exit 3 with nothing merged when
the tests fail; ``--skip-tests`` only with a reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx

from tests.breakglass.conftest import commit_all, edit_support_prompt
from tests.e2e.conftest import KEY, agent_ids, main_config

THANKS = "Always thank the caller.\n"


def _prompt(server: Any, agent_id: str) -> str:
    config = main_config(server, agent_id)["conversation_config"]
    return str(config["agent"]["prompt"]["prompt"])


def _add_thanks(project: Path) -> str:
    prompt = project / "agents" / "support" / "prompt.md"
    prompt.write_text(prompt.read_text() + THANKS)
    return commit_all(project, "Support thanks every caller")


def _since(server: Any, start: int) -> list[Any]:
    return list(server.emulator.request_log[start:])


def test_rollback_steps_1_restores_the_previous_prompt_through_a_tested_branch(
    cli: Any, server: Any, project: Path
) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    sha = _add_thanks(project)
    code, out, err = cli("apply", "--auto-approve")
    assert code == 0, out + err
    agent_id = agent_ids(server)["support"]
    assert THANKS.strip() in _prompt(server, agent_id)
    start = len(server.emulator.request_log)

    code, out, err = cli("rollback", "support", "--steps", "1", "--auto-approve")

    assert code == 0, out + err
    assert THANKS.strip() not in _prompt(server, agent_id)
    assert "within 30 days" in _prompt(server, agent_id)
    assert "- Always thank the caller." in out  # the diff main -> target, as plan draws it
    assert f"git revert --no-edit {sha[:12]}" in out
    assert "Rollback: 1 merged." in out and "Apply:" not in out
    log = _since(server, start)
    steps = [(e.method, e.path.rsplit("/", 1)[-1]) for e in log if e.method == "POST"]
    branch_at = steps.index(("POST", "branches"))
    tests_at = steps.index(("POST", "run-tests"))
    merge_at = steps.index(("POST", "merge"))
    assert branch_at < tests_at < merge_at  # branch created, tests run, then merged
    branch_id = next(
        e.response_body["created_branch_id"] for e in log if e.path.endswith("/branches")
    )
    run = next(e for e in log if e.path.endswith("/run-tests"))
    assert run.body["branch_id"] == branch_id
    merge = next(e for e in log if e.path.endswith("/merge"))
    assert branch_id in merge.path and parse_qs(merge.query)["target_branch_id"]
    assert all(e.status < 400 for e in log), [(e.path, e.status) for e in log if e.status >= 400]
    code, out, _ = cli("plan", "--detailed-exitcode")
    assert code == 2 and "+ Always thank the caller." in out  # the repository still has it


def test_rollback_whose_tests_fail_merges_nothing_and_exits_3(
    cli: Any, server: Any, project: Path
) -> None:
    assert cli("apply", "--auto-approve", "--target", "support")[0] == 0
    edit_support_prompt(project, "within 30 days", "within 14 days")
    test_file = project / "agents" / "support" / "tests" / "refund-window.yaml"
    test_file.write_text(test_file.read_text().replace("30 days", "14 days"))
    commit_all(project, "Refund window is 14 days, and the test says so")
    assert cli("apply", "--auto-approve", "--target", "support")[0] == 0
    agent_id = agent_ids(server)["support"]
    before = main_config(server, agent_id)["version_id"]
    # back to 30 days: the repository's tests (HEAD) expect 14 days
    code, out, err = cli("rollback", "support", "--steps", "1", "--auto-approve")
    assert code == 3, out + err
    assert "NOT merged" in out and "FAIL refund-window" in out
    assert main_config(server, agent_id)["version_id"] == before
    assert "within 14 days" in _prompt(server, agent_id)
    assert "git revert" not in out


def test_rollback_to_a_version_lacking_fields_main_holds_is_refused_before_any_write(
    cli: Any, server: Any
) -> None:
    assert cli("apply", "--auto-approve", "--target", "support")[0] == 0
    start = len(server.emulator.request_log)
    # --steps 1 from the first apply is the empty shell the agent was created as
    code, out, err = cli("rollback", "support", "--steps", "1", "--auto-approve")
    assert code == 1, out + err
    assert "cannot roll back to version" in err and "platform_settings.evaluation" in err
    assert all(e.method == "GET" for e in _since(server, start))


def test_rollback_of_a_break_glass_change_is_tested_and_clears_the_flag(
    cli: Any, server: Any, project: Path
) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    edit_support_prompt(project, "within 30 days", "within 14 days")
    sha = commit_all(project, "Refund window is 14 days")
    reason = "test service down"
    assert cli("apply", "--auto-approve", "--skip-tests", "--reason", reason)[0] == 0
    assert "main holds an untested change" in cli("plan")[1]
    code, out, err = cli("rollback", "support", "--auto-approve")
    assert code == 0, out + err
    assert "within 30 days" in _prompt(server, agent_ids(server)["support"])
    assert "pass" in out and "UNTESTED" not in out  # the rollback's own tests ran
    assert f"git revert --no-edit {sha[:12]}" in out
    assert "untested" not in cli("plan", "--target", "support")[1]


def test_rollback_of_a_dashboard_edit_says_its_commit_is_unknown(cli: Any, server: Any) -> None:
    assert cli("apply", "--auto-approve", "--target", "support")[0] == 0
    agent_id = agent_ids(server)["support"]
    edit = {"conversation_config": {"agent": {"first_message": "Edited in the dashboard."}}}
    httpx.patch(
        f"{server.url}/v1/convai/agents/{agent_id}", json=edit, headers={"xi-api-key": KEY}
    ).raise_for_status()
    code, out, err = cli("rollback", "support", "--auto-approve")
    assert code == 0, out + err
    first = main_config(server, agent_id)["conversation_config"]["agent"]["first_message"]
    assert first != "Edited in the dashboard."
    assert "is unknown" in out and "git revert" not in out


def test_rollback_to_a_version_id(cli: Any, server: Any, project: Path) -> None:
    assert cli("apply", "--auto-approve", "--target", "support")[0] == 0
    agent_id = agent_ids(server)["support"]
    target = main_config(server, agent_id)["version_id"]
    _add_thanks(project)
    assert cli("apply", "--auto-approve", "--target", "support")[0] == 0
    edit_support_prompt(project, "2 business days", "1 business day")
    assert cli("apply", "--auto-approve", "--target", "support")[0] == 0
    code, out, err = cli("rollback", "support", "--to", target, "--auto-approve")
    assert code == 0, out + err
    prompt = _prompt(server, agent_id)
    assert "2 business days" in prompt and THANKS.strip() not in prompt
    assert out.count("git revert --no-edit") == 1
    assert len(out.split("git revert --no-edit ", 1)[1].split("\n")[0].split()) == 2


def test_rollback_to_an_unknown_version_is_one_line(cli: Any, server: Any) -> None:
    assert cli("apply", "--auto-approve", "--target", "support")[0] == 0
    code, _, err = cli("rollback", "support", "--to", "nope", "--auto-approve")
    assert code == 1
    assert "has no version 'nope'" in err and len(err.strip().splitlines()) == 1


def test_rollback_flags_are_checked_before_anything_is_sent(cli: Any, server: Any) -> None:
    code, _, err = cli("rollback", "support", "--skip-tests", "--auto-approve")
    assert code == 2 and "--reason" in err
    code, _, err = cli("rollback", "support", "--to", "v", "--steps", "2")
    assert code == 1 and "not both" in err
    assert server.emulator.request_log == []


def test_rollback_skip_tests_merges_without_running_tests(
    cli: Any, server: Any, project: Path
) -> None:
    assert cli("apply", "--auto-approve", "--target", "support")[0] == 0
    _add_thanks(project)
    assert cli("apply", "--auto-approve", "--target", "support")[0] == 0
    runs = sum(1 for e in server.emulator.request_log if e.path.endswith("/run-tests"))
    code, out, err = cli(
        "rollback", "support", "--auto-approve", "--skip-tests", "--reason", "outage"
    )
    assert code == 0, out + err
    assert "WARNING: --skip-tests" in err and "UNTESTED" in out
    assert runs == sum(1 for e in server.emulator.request_log if e.path.endswith("/run-tests"))
    plan = json.loads(cli("plan", "--format", "json", "--target", "support")[1])
    assert "outage" in plan["agents"][0]["untested"]
