"""``convai-ops check`` end to end: the CLI against the emulator over loopback HTTP, in a real
git repository, plus the branch-name rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import git
import httpx
import pytest
from junitparser import JUnitXml

from convai_ops.check import check_branch, sanitise_branch_name
from convai_ops.emulator import EmulatorServer
from convai_ops.errors import UsageError
from convai_ops.report import MARKER
from tests.ci.conftest import KEY, PROJECT_FILES, Runner, commit, requests_to, write_files

PROMPT = PROJECT_FILES["agents/support/prompt.md"]


def _get(server: EmulatorServer, path: str) -> Any:
    response = httpx.get(f"{server.url}{path}", headers={"xi-api-key": KEY})
    response.raise_for_status()
    return response.json()


def _agent_ids(server: EmulatorServer) -> dict[str, str]:
    agents = _get(server, "/v1/convai/agents")["agents"]
    tags = {t: a["agent_id"] for a in agents for t in a["tags"]}
    return {t.split(":", 1)[1]: i for t, i in tags.items() if t.startswith("convai-ops:")}


def _main_config(server: EmulatorServer, agent_id: str) -> str:
    """Main's config and version as JSON; ``metadata`` (agent-wide timestamps that any branch
    commit moves) is left out."""
    body = _get(server, f"/v1/convai/agents/{agent_id}")
    body.pop("metadata")
    return json.dumps(body, sort_keys=True)


def _branches_named(server: EmulatorServer, agent_id: str, name: str) -> list[dict[str, Any]]:
    listed = _get(server, f"/v1/convai/agents/{agent_id}/branches?include_archived=true")
    items = listed["results"] if isinstance(listed, dict) else listed
    return [b for b in items if b["name"] == name]


def _tested_agents(server: EmulatorServer, since: int) -> set[str]:
    log = server.emulator.request_log[since:]
    return {e.path.split("/")[4] for e in log if e.path.endswith("/run-tests")}


def _push(
    cli: Runner,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    pull: int,
    files: dict[str, str],
    since: str = "HEAD~1",
) -> int:
    """Commit ``files`` as a push to pull request ``pull`` and run its check; the exit code."""
    monkeypatch.setenv("GITHUB_REF", f"refs/pull/{pull}/merge")
    commit(project, files, f"a push to #{pull}")
    return cli("check", "--changed-since", since)[0]


@pytest.fixture
def applied(cli: Runner, server: EmulatorServer) -> dict[str, str]:
    code, out, err = cli("apply", "--auto-approve")
    assert code == 0, out + err
    return _agent_ids(server)


@pytest.mark.parametrize(
    ("change", "touched"),
    [
        pytest.param({"agents/support/prompt.md": PROMPT + "Be kind.\n"}, "support", id="prompt"),
        pytest.param(
            {
                "agents/sales/tests/tent-price.yaml": PROJECT_FILES[
                    "agents/sales/tests/tent-price.yaml"
                ].replace("quotes", "quotes the price")
            },
            "sales",
            id="test",
        ),
        pytest.param(
            {"agents/helpdesk/knowledge/expenses.md": "Expenses are due by the 5th of each month."},
            "helpdesk",
            id="knowledge",
        ),
    ],
)
def test_changed_since_checks_exactly_the_touched_agent(
    cli: Runner,
    server: EmulatorServer,
    project: Path,
    applied: dict[str, str],
    change: dict[str, str],
    touched: str,
) -> None:
    commit(project, change, "change one agent")
    start = len(server.emulator.request_log)
    junit = project / "check.xml"
    code, out, err = cli("check", "--changed-since", "HEAD~1", "--junit", str(junit))
    assert code == 0, out + err
    assert {suite.name for suite in JUnitXml.fromfile(str(junit))} == {touched}
    assert _tested_agents(server, start) == {applied[touched]}
    others = set(applied) - {touched}
    assert not any(f"{slug}:" in out.split("Check on agent branch")[1] for slug in others)
    assert requests_to(server, "POST", "/merge")[len(applied) :] == []


def test_comment_only_change_has_nothing_to_test(
    cli: Runner, server: EmulatorServer, project: Path, applied: dict[str, str]
) -> None:
    sales = PROJECT_FILES["agents/sales/agent.yaml"].replace("Sales line.", "The sales line.")
    commit(project, {"agents/sales/agent.yaml": sales}, "reword a comment")
    start = len(server.emulator.request_log)
    code, out, _ = cli("check", "--changed-since", "HEAD~1", "--branch-name", "convai-ops-x")
    assert code == 0
    assert "= sales: no changes to test" in out
    assert _tested_agents(server, start) == set()


def test_without_changed_since_every_changed_agent_is_checked(
    cli: Runner, server: EmulatorServer, project: Path, applied: dict[str, str]
) -> None:
    (project / "agents/support/prompt.md").write_text(PROMPT + "Be kind.\n")  # uncommitted
    start = len(server.emulator.request_log)
    code, out, _ = cli("check")
    assert code == 0, out
    assert "Agent branch: convai-ops-feature (from git branch 'feature')" in out
    assert "= sales: no changes to test" in out and "= helpdesk: no changes to test" in out
    assert _tested_agents(server, start) == {applied["support"]}


def test_failing_check_reports_every_failed_test_and_never_merges(
    cli: Runner,
    server: EmulatorServer,
    project: Path,
    applied: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    support = applied["support"]
    before = _main_config(server, support)
    merges = len(requests_to(server, "POST", "/merge"))
    commit(project, {"agents/support/prompt.md": PROMPT.replace("30 days", "14 days")}, "shorter")
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_REF", "refs/pull/7/merge")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    markdown, junit = tmp_path / "check.md", tmp_path / "check.xml"
    args = ("--changed-since", "HEAD~1", "--markdown", str(markdown), "--junit", str(junit))
    code, out, err = cli("check", *args)
    assert code == 3, out + err
    assert "Agent branch: convai-ops-pr-7 (from pull request #7 (GITHUB_REF))" in out
    [case] = [c for suite in JUnitXml.fromfile(str(junit)) for c in suite if not c.is_passed]
    rationale = case.result[0].message
    assert case.name == "refund-window" and "30 days" in rationale
    report = markdown.read_text()
    assert report.startswith(MARKER) and "`refund-window`" in report and rationale in report
    assert summary.read_text() == "earlier step\n" + report + "\n"
    assert rationale in out
    assert _main_config(server, support) == before
    assert len(requests_to(server, "POST", "/merge")) == merges
    assert len(_branches_named(server, support, "convai-ops-pr-7")) == 1
    assert KEY not in out + err + report + junit.read_text()


def test_later_push_updates_the_same_branch(
    cli: Runner,
    server: EmulatorServer,
    project: Path,
    applied: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    support = applied["support"]
    shorter = {"agents/support/prompt.md": PROMPT.replace("30 days", "14 days")}
    assert _push(cli, project, monkeypatch, 7, shorter) == 3
    commit(project, {"agents/support/prompt.md": PROMPT + "Be kind.\n"}, "two")
    start = len(server.emulator.request_log)
    code, out, _ = cli("check", "--changed-since", "HEAD~2")
    assert code == 0, out
    [branch] = _branches_named(server, support, "convai-ops-pr-7")
    log = server.emulator.request_log[start:]
    assert not [e for e in log if e.method == "POST" and e.path.endswith("/branches")]
    patches = [e for e in log if e.method == "PATCH" and e.path.endswith(support)]
    assert [e.query for e in patches] == [f"branch_id={branch['id']}"]


def test_a_push_after_the_branch_was_archived_reuses_it(
    cli: Runner,
    server: EmulatorServer,
    project: Path,
    applied: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Someone archived the pull request's branch in the dashboard; its name stays taken, so
    # the next push must bring that branch back rather than fail creating a new one (409).
    support = applied["support"]
    shorter = {"agents/support/prompt.md": PROMPT.replace("30 days", "14 days")}
    assert _push(cli, project, monkeypatch, 8, shorter) == 3
    [branch] = _branches_named(server, support, "convai-ops-pr-8")
    archived = httpx.patch(
        f"{server.url}/v1/convai/agents/{support}/branches/{branch['id']}",
        json={"is_archived": True},
        headers={"xi-api-key": KEY},
    )
    assert archived.status_code == 200
    commit(project, {"agents/support/prompt.md": PROMPT + "Be kind.\n"}, "two")
    code, out, err = cli("check", "--changed-since", "HEAD~2")
    assert code == 0, out + err
    assert f"unarchived branch convai-ops-pr-8 ({branch['id']})" in out
    [again] = _branches_named(server, support, "convai-ops-pr-8")
    assert again["id"] == branch["id"] and again["is_archived"] is False


def test_close_archives_the_pull_requests_branch_on_every_agent(
    cli: Runner,
    server: EmulatorServer,
    project: Path,
    applied: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    both = {
        "agents/support/prompt.md": PROMPT + "Be kind.\n",
        "agents/helpdesk/prompt.md": PROJECT_FILES["agents/helpdesk/prompt.md"] + "Be brief.\n",
    }
    assert _push(cli, project, monkeypatch, 9, both) == 0
    other = {"agents/support/prompt.md": PROMPT + "Be quick.\n"}  # another pull request
    assert _push(cli, project, monkeypatch, 10, other) == 0
    monkeypatch.setenv("GITHUB_REF", "refs/pull/9/merge")
    start = len(server.emulator.request_log)
    code, out, err = cli("check", "--close")
    assert code == 0, out + err
    assert "Close: 2 branch(es) archived, 0 kept." in out
    for slug in ("support", "helpdesk"):
        [branch] = _branches_named(server, applied[slug], "convai-ops-pr-9")
        assert branch["is_archived"] is True
        assert f"  {slug}: archived branch convai-ops-pr-9 ({branch['id']})" in out
    [kept] = _branches_named(server, applied["support"], "convai-ops-pr-10")
    assert kept["is_archived"] is False
    log = server.emulator.request_log[start:]
    assert not [e for e in log if e.method == "POST"]  # nothing staged, run or merged
    code, out, _ = cli("check", "--close")
    assert code == 0
    assert "Close: no agent has an unarchived branch convai-ops-pr-9." in out


def test_close_keeps_a_branch_serving_live_traffic(
    cli: Runner, server: EmulatorServer, applied: dict[str, str]
) -> None:
    main_name = _get(server, f"/v1/convai/agents/{applied['support']}/branches")["results"][0]
    code, out, err = cli("check", "--close", "--branch-name", main_name["name"])
    assert code == 0, out + err
    assert "serves 100% of live traffic" in out
    assert "0 branch(es) archived, 3 kept." in out  # the main branch of each of the 3 agents


def test_close_refuses_the_options_of_a_check(cli: Runner, applied: dict[str, str]) -> None:
    code, _, err = cli("check", "--close", "--branch-name", "x", "--junit", "c.xml")
    assert code == 1
    assert "--close stages and tests nothing: drop --junit" in err


def test_refuses_to_stage_on_the_main_branch(
    cli: Runner, server: EmulatorServer, project: Path, applied: dict[str, str]
) -> None:
    support = applied["support"]
    before = _main_config(server, support)
    commit(project, {"agents/support/prompt.md": PROMPT + "Be kind.\n"}, "kind")
    code, out, _ = cli("check", "--changed-since", "HEAD~1", "--branch-name", "Main")
    assert code == 1
    assert "is the agent's main branch" in out
    assert _main_config(server, support) == before


def test_refuses_the_main_branch_of_a_new_agent_before_writing_to_it(
    cli: Runner, server: EmulatorServer
) -> None:
    code, out, _ = cli("check", "--branch-name", "Main")
    assert code == 1
    assert "support: 'Main' is the agent's main branch" in out
    writes = [e for e in server.emulator.request_log if e.method == "PATCH"]
    assert writes == []  # the empty shells were created; nothing was written to their main
    assert not requests_to(server, "POST", "/run-tests")


def test_new_agents_are_staged_on_empty_shells_and_not_merged(
    cli: Runner, server: EmulatorServer
) -> None:
    code, out, err = cli("check", "--branch-name", "convai-ops-first")
    assert code == 0, out + err
    assert "Check: 3 passed." in out
    assert requests_to(server, "POST", "/merge") == []
    for agent_id in _agent_ids(server).values():
        main = json.loads(_main_config(server, agent_id))
        assert "Acme" not in json.dumps(main["conversation_config"])
        assert len(_branches_named(server, agent_id, "convai-ops-first")) == 1


def test_agent_without_tests_is_staged_with_nothing_to_run(
    cli: Runner, server: EmulatorServer, project: Path
) -> None:
    # opted out of require_tests (the default refusal: tests/gates/test_require_tests.py)
    write_files(project, {"agents/greeter/agent.yaml": "name: Greeter\nrequire_tests: false\n"})
    code, out, _ = cli("check", "--changed-since", "HEAD", "--branch-name", "convai-ops-x")
    assert code == 0, out
    assert "  greeter: no tests declared: nothing to run on branch" in out
    assert "~ greeter: no tests declared" in out
    assert "merged" not in out.replace("not merged", "").replace("be merged", "")
    assert requests_to(server, "POST", "/merge") == []


def test_no_agent_changed_is_a_quick_success(cli: Runner, server: EmulatorServer) -> None:
    code, out, _ = cli("check", "--changed-since", "HEAD", "--branch-name", "convai-ops-x")
    assert code == 0
    assert "nothing to check" in out
    assert server.emulator.request_log == []


def test_missing_api_key_is_an_error_naming_the_variable(
    cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ELEVENLABS_API_KEY")
    code, _, err = cli("check", "--branch-name", "convai-ops-x")
    assert code == 1
    assert "ELEVENLABS_API_KEY" in err


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"GITHUB_REF": "refs/pull/42/merge"}, "convai-ops-pr-42"),
        (
            {"GITHUB_REF": "refs/heads/main", "GITHUB_HEAD_REF": "fix/refund window"},
            "convai-ops-fix-refund-window",
        ),
        ({}, "convai-ops-feature"),
    ],
)
def test_branch_name_follows_the_pull_request(
    project: Path, environ: dict[str, str], expected: str
) -> None:
    assert check_branch(None, environ, project).name == expected


def test_explicit_branch_name_wins_and_detached_head_needs_one(project: Path) -> None:
    environ = {"GITHUB_REF": "refs/pull/42/merge"}
    assert check_branch("mine", environ, project).source == "--branch-name"
    repo = git.Repo(project)
    repo.git.checkout(repo.head.commit.hexsha)
    with pytest.raises(UsageError, match="--branch-name"):
        check_branch(None, {}, project)


def test_sanitised_names_stay_within_the_api_limit() -> None:
    assert sanitise_branch_name("ä/b..c") == "convai-ops-b..c"
    assert len(sanitise_branch_name("x" * 500)) == 140
    with pytest.raises(UsageError):
        sanitise_branch_name("///")
