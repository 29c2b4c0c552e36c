"""``apply --skip-tests --reason``: refused without a reason (exit 2, nothing sent); with one,
merged without running tests, recorded on the merged branch, flagged by plan and drift until
a tested apply supersedes it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from convai_ops.api import ConvaiClient
from convai_ops.apply import ApplyOptions, apply_plan
from convai_ops.breakglass import BreakGlass
from convai_ops.plan import build_plan
from convai_ops.settings import Settings
from convai_ops.spec import load_project
from tests.breakglass.conftest import commit_all, edit_support_prompt
from tests.e2e.conftest import KEY, agent_ids, main_config

REASON = "test service down, refund hotfix"
BREAKING = ("within 30 days", "within 14 days")  # the support agent's refund test fails on it


def _prompt(server: Any, agent_id: str) -> str:
    config = main_config(server, agent_id)["conversation_config"]
    return str(config["agent"]["prompt"]["prompt"])


def _runs(server: Any) -> list[Any]:
    return [e for e in server.emulator.request_log if e.path.endswith("/run-tests")]


def _merged_branch_description(server: Any, agent_id: str) -> str:
    """The description of the branch main's latest merge came from, read over HTTP."""
    get = lambda path: httpx.get(  # noqa: E731
        f"{server.url}/v1/convai/agents/{agent_id}{path}", headers={"xi-api-key": KEY}
    ).json()
    version = get(f"/versions/{main_config(server, agent_id)['version_id']}")
    while not version["parents"].get("merged_from_version_id"):
        version = get(f"/versions/{version['parents']['in_branch_parent_id']}")
    source = get(f"/versions/{version['parents']['merged_from_version_id']}")
    return str(get(f"/branches/{source['branch_id']}")["description"])


def test_skip_tests_without_a_reason_exits_2_and_sends_nothing(cli: Any, server: Any) -> None:
    code, out, err = cli("apply", "--auto-approve", "--skip-tests")
    assert code == 2, out + err
    assert "--reason" in err and len(err.strip().splitlines()) == 1
    assert server.emulator.request_log == []
    code, _, err = cli("apply", "--auto-approve", "--skip-tests", "--reason", "   ")
    assert code == 2, err
    assert server.emulator.request_log == []


def test_reason_without_skip_tests_is_refused(cli: Any, server: Any) -> None:
    code, _, err = cli("apply", "--auto-approve", "--reason", "why not")
    assert code == 1
    assert "--reason is only for --skip-tests" in err
    assert server.emulator.request_log == []


def test_skip_tests_merges_a_failing_change_records_it_and_plan_flags_it(
    cli: Any, server: Any, project: Path
) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    agent_id = agent_ids(server)["support"]
    edit_support_prompt(project, *BREAKING)
    sha = commit_all(project, "Refund window is 14 days")
    runs_before = len(_runs(server))
    code, out, err = cli(
        "apply", "--auto-approve", "--target", "support", "--skip-tests", "--reason", REASON
    )
    assert code == 0, out + err
    assert "WARNING: --skip-tests" in err and REASON in err
    assert "UNTESTED" in out and "merged into main" in out
    assert len(_runs(server)) == runs_before  # no test ran
    assert "within 14 days" in _prompt(server, agent_id)
    description = _merged_branch_description(server, agent_id)
    assert description.startswith("UNTESTED (--skip-tests) by Ann Operator <ann@example.com>")
    assert json.dumps(REASON) in description and sha[:12] in description

    code, out, _ = cli("plan", "--detailed-exitcode")
    assert code == 0, out  # nothing to change: the flag is not a change
    operator = "Ann Operator <ann@example.com>"
    flag = f'! main holds an untested change (--skip-tests by {operator}: "{REASON}")'
    assert flag in out
    assert flag in cli("plan", "--format", "markdown")[1]
    plan = json.loads(cli("plan", "--format", "json")[1])
    untested = {a["slug"]: a["untested"] for a in plan["agents"]}
    assert untested["assistant"] is None
    assert REASON in untested["support"]
    code, out, _ = cli("drift")
    assert code == 0 and flag in out
    drift = json.loads(cli("drift", "--format", "json")[1])
    assert {a["slug"]: bool(a["untested"]) for a in drift["agents"]} == {
        "assistant": False,
        "support": True,
    }


def test_a_tested_apply_supersedes_the_untested_change(
    cli: Any, server: Any, project: Path
) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    edit_support_prompt(project, *BREAKING)
    code, out, err = cli("apply", "--auto-approve", "--skip-tests", "--reason", REASON)
    assert code == 0, out + err
    assert "main holds an untested change" in cli("plan")[1]
    edit_support_prompt(project, *reversed(BREAKING))
    code, out, err = cli("apply", "--auto-approve")
    assert code == 0, out + err
    assert "test(s) passed" in out
    code, out, _ = cli("plan")
    assert "untested" not in out


def test_skip_tests_creates_a_new_agent_untested(cli: Any, server: Any) -> None:
    code, out, err = cli(
        "apply", "--auto-approve", "--target", "support", "--skip-tests", "--reason", REASON
    )
    assert code == 0, out + err
    assert _runs(server) == []
    agent_id = agent_ids(server)["support"]
    assert "within 30 days" in _prompt(server, agent_id)
    assert "main holds an untested change" in cli("plan", "--target", "support")[1]


def test_skip_tests_applies_a_saved_plan(cli: Any, server: Any, project: Path) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    edit_support_prompt(project, *BREAKING)
    saved = project.parent / "plan.json"
    assert cli("plan", "--out", str(saved))[0] == 0
    code, out, err = cli("apply", str(saved), "--skip-tests", "--reason", REASON)
    assert code == 0, out + err
    assert "within 14 days" in _prompt(server, agent_ids(server)["support"])
    assert "main holds an untested change" in cli("plan")[1]


def test_check_has_no_skip_tests(cli: Any) -> None:
    code, _, err = cli("check", "--skip-tests", "--reason", REASON)
    assert code == 1
    assert "No such option '--skip-tests'" in err


def test_skip_tests_rebases_onto_a_main_that_moved_since_the_plan(
    cli: Any, server: Any, project: Path
) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    edit_support_prompt(project, *BREAKING)
    loaded = load_project(project)
    settings = Settings.resolve(
        project, loaded.config, base_url=server.url, environ={"ELEVENLABS_API_KEY": KEY}
    )
    messages: list[str] = []
    runs_before = len(_runs(server))
    with ConvaiClient(settings.base_url, KEY) as client:
        planned, snapshot = build_plan(client, loaded, settings)
        agent_id = agent_ids(server)["support"]
        edit = {"conversation_config": {"agent": {"first_message": "Edited in the dashboard."}}}
        client.update_agent(agent_id, edit)  # main moves after the plan
        glass = BreakGlass(REASON, "Ann Operator <ann@example.com>")
        options = ApplyOptions.from_settings(settings, rebase=True, break_glass=glass)
        report = lambda slug, message: messages.append(f"{slug}: {message}")  # noqa: E731
        result = apply_plan(client, loaded, planned, snapshot.index, options, report)
    outcome = next(o for o in result.outcomes if o.slug == "support")
    assert outcome.status == "merged", outcome.message
    assert any("--rebase: planning again" in m for m in messages)
    assert "within 14 days" in _prompt(server, agent_id)
    assert _merged_branch_description(server, agent_id).startswith("UNTESTED (--skip-tests)")
    assert len(_runs(server)) == runs_before  # no test ran, before or after the rebase


def test_skip_tests_writes_a_changed_test_directly_without_running_it(
    cli: Any, server: Any, project: Path
) -> None:
    assert cli("apply", "--auto-approve", "--target", "support")[0] == 0
    test_file = project / "agents" / "support" / "tests" / "refund-window.yaml"
    failing = 'The agent says refunds are never possible, "no refunds".'
    test_file.write_text(
        test_file.read_text().replace('The agent confirms the refund window of "30 days".', failing)
    )
    runs_before = len(_runs(server))
    code, out, err = cli("apply", "--auto-approve", "--skip-tests", "--reason", REASON)
    assert code == 0, out + err
    assert "UNTESTED (--skip-tests): written directly on main" in out
    assert len(_runs(server)) == runs_before
    assert cli("plan", "--detailed-exitcode")[0] == 0  # the changed test is attached
