"""The break-glass marker tag ``convai-ops-untested``: put on by ``--skip-tests``, taken off by
a tested apply or rollback, read from the agent GET plan and drift already send (no version or
branch read for an agent without it), never declared, compared, pulled or imported."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from convai_ops.breakglass import UNTESTED_TAG, marked_tags, with_marker
from tests.breakglass.conftest import commit_all, edit_support_prompt
from tests.e2e.conftest import KEY, agent_ids, main_config
from tests.helpers import cli_runner

REASON = "test service down, refund hotfix"
OPERATOR = "Ann Operator <ann@example.com>"
BREAKING = ("within 30 days", "within 14 days")  # the support agent's refund test fails on it
HARMLESS = ("within 30 days", "within thirty (30) days")  # its tests still pass


def _tags(server: Any, slug: str) -> list[str]:
    return list(main_config(server, agent_ids(server)[slug])["tags"])


def _history_reads(server: Any, start: int) -> list[Any]:
    """The version and branch reads sent since ``start`` (the record's walk)."""
    return [
        e
        for e in server.emulator.request_log[start:]
        if e.method == "GET" and ("/versions/" in e.path or "/branches/" in e.path)
    ]


def _break_glass(cli: Any, project: Path, *args: str) -> None:
    edit_support_prompt(project, *BREAKING)
    commit_all(project, "Refund window is 14 days")
    code, out, err = cli("apply", "--auto-approve", *args, "--skip-tests", "--reason", REASON)
    assert code == 0, out + err


def test_plan_and_drift_of_unmarked_agents_read_no_version_or_branch(
    cli: Any,
    server: Any,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    assert all(UNTESTED_TAG not in _tags(server, slug) for slug in ("support", "assistant"))
    start = len(server.emulator.request_log)
    code, out, err = cli("plan", "--detailed-exitcode")
    assert code == 0, out + err
    assert "untested" not in out
    assert len(server.emulator.request_log) > start  # the agents were read
    assert _history_reads(server, start) == []
    # drift outside git: no applied-commit walk (it reads versions for its own purpose)
    outside = project.parent / "outside"
    shutil.copytree(project, outside, ignore=shutil.ignore_patterns(".git"))
    start = len(server.emulator.request_log)
    code, out, err = cli_runner(outside, server.url, KEY, monkeypatch, capsys)("drift")
    assert code == 0 and "untested" not in out, out + err
    assert len(server.emulator.request_log) > start
    assert _history_reads(server, start) == []


def test_only_the_marked_agent_has_its_record_read(cli: Any, server: Any, project: Path) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    _break_glass(cli, project, "--target", "support")
    support, assistant = agent_ids(server)["support"], agent_ids(server)["assistant"]
    start = len(server.emulator.request_log)
    out = cli("plan")[1]
    assert (
        f"! main holds an untested change (--skip-tests by {OPERATOR}: {json.dumps(REASON)})" in out
    )
    reads = _history_reads(server, start)
    assert reads and all(f"/agents/{support}/" in e.path for e in reads)
    assert not any(assistant in e.path for e in reads)


def test_the_marker_comes_with_break_glass_and_goes_with_a_tested_apply(
    cli: Any, server: Any, project: Path
) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    before = _tags(server, "support")
    _break_glass(cli, project)
    assert sorted(_tags(server, "support")) == sorted([*before, UNTESTED_TAG])
    assert UNTESTED_TAG not in _tags(server, "assistant")  # unchanged: not applied
    edit_support_prompt(project, *reversed(BREAKING))
    code, out, err = cli("apply", "--auto-approve")
    assert code == 0, out + err
    assert "test(s) passed" in out and f"removed the tag {UNTESTED_TAG}" in out
    assert sorted(_tags(server, "support")) == sorted(before)
    assert "untested" not in cli("plan")[1]


def test_a_break_glass_create_carries_the_marker(cli: Any, server: Any) -> None:
    code, out, err = cli(
        "apply", "--auto-approve", "--target", "support", "--skip-tests", "--reason", REASON
    )
    assert code == 0, out + err
    assert UNTESTED_TAG in _tags(server, "support")
    assert cli("plan", "--target", "support", "--detailed-exitcode")[0] == 0


def test_a_direct_write_keeps_the_marker_until_a_tested_merge(
    cli: Any, server: Any, project: Path
) -> None:
    assert cli("apply", "--auto-approve", "--target", "support")[0] == 0
    _break_glass(cli, project, "--target", "support")
    agent_yaml = project / "agents" / "support" / "agent.yaml"
    agent_yaml.write_text(agent_yaml.read_text().replace("name: Acme Support", "name: Acme Care"))
    code, out, err = cli("apply", "--auto-approve", "--target", "support")
    assert code == 0, out + err
    assert "written directly" in out
    assert UNTESTED_TAG in _tags(server, "support")
    assert main_config(server, agent_ids(server)["support"])["name"] == "Acme Care"
    assert REASON in cli("plan", "--target", "support")[1]  # the merge is still untested


def test_rollback_puts_the_marker_on_with_skip_tests_and_off_when_tested(
    cli: Any, server: Any, project: Path
) -> None:
    assert cli("apply", "--auto-approve", "--target", "support")[0] == 0
    edit_support_prompt(project, *HARMLESS)
    commit_all(project, "Spell the refund window out")
    assert cli("apply", "--auto-approve", "--target", "support")[0] == 0
    assert UNTESTED_TAG not in _tags(server, "support")
    code, out, err = cli(
        "rollback", "support", "--auto-approve", "--skip-tests", "--reason", "outage"
    )
    assert code == 0, out + err
    assert UNTESTED_TAG in _tags(server, "support")
    plan = json.loads(cli("plan", "--format", "json", "--target", "support")[1])
    assert "outage" in plan["agents"][0]["untested"]
    code, out, err = cli("rollback", "support", "--auto-approve")  # tested: undoes the rollback
    assert code == 0, out + err
    assert UNTESTED_TAG not in _tags(server, "support")
    assert "untested" not in cli("plan", "--target", "support")[1]


def test_a_marker_without_a_record_is_still_flagged(cli: Any, server: Any) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    assistant = agent_ids(server)["assistant"]
    tags = [*_tags(server, "assistant"), UNTESTED_TAG]
    response = httpx.patch(
        f"{server.url}/v1/convai/agents/{assistant}",
        headers={"xi-api-key": KEY},
        json={"tags": tags},
    )
    assert response.status_code == 200
    code, out, _ = cli("plan", "--detailed-exitcode")
    assert code == 0, out
    assert "! main holds an untested change (details not found)" in out
    drift = json.loads(cli("drift", "--format", "json")[1])
    untested = {a["slug"]: a["untested"] for a in drift["agents"]}
    assert untested == {"assistant": "details not found", "support": None}


def test_plan_shows_no_tags_difference_for_the_marker(cli: Any, server: Any, project: Path) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    _break_glass(cli, project, "--target", "support")
    plan = json.loads(cli("plan", "--format", "json", "--target", "support")[1])
    (agent,) = plan["agents"]
    assert agent["action"] == "no-op" and agent["changes"] == []
    agent_yaml = project / "agents" / "support" / "agent.yaml"
    agent_yaml.write_text(agent_yaml.read_text().replace("[support, acme]", "[support, acme, vip]"))
    plan = json.loads(cli("plan", "--format", "json", "--target", "support")[1])
    (change,) = plan["agents"][0]["changes"]
    assert change["path"] == ["tags"]
    assert UNTESTED_TAG not in change["before"] and UNTESTED_TAG not in change["after"]
    code, out, err = cli("apply", "--auto-approve", "--target", "support")
    assert code == 0, out + err
    assert "vip" in _tags(server, "support") and UNTESTED_TAG in _tags(server, "support")


def test_a_rename_keeps_the_marker_out_of_the_tag_change_and_a_tested_merge_clears_it(
    cli: Any, server: Any, project: Path
) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    agent_yaml = project / "agents" / "assistant" / "agent.yaml"
    agent_yaml.write_text(agent_yaml.read_text().replace("tags: [internal]\n", ""))
    assistant = agent_ids(server)["assistant"]
    tags = [*_tags(server, "assistant"), UNTESTED_TAG]
    url = f"{server.url}/v1/convai/agents/{assistant}"
    assert httpx.patch(url, headers={"xi-api-key": KEY}, json={"tags": tags}).status_code == 200
    assert cli("mv", "assistant", "nova")[0] == 0
    code, out, _ = cli("plan", "--target", "nova")
    assert "~ tag convai-ops:assistant -> convai-ops:nova" in out
    assert UNTESTED_TAG not in out
    code, out, err = cli("apply", "--auto-approve", "--target", "nova")
    assert code == 0, out + err
    assert "test(s) passed" in out  # its documents and tests are renamed: a tested merge
    assert sorted(_tags(server, "nova")) == ["convai-ops:nova", "internal"]


@pytest.mark.parametrize("where", ["tags", "override"])
def test_declaring_the_marker_is_refused_at_its_line(cli: Any, project: Path, where: str) -> None:
    agent_yaml = project / "agents" / "support" / "agent.yaml"
    text = agent_yaml.read_text()
    if where == "tags":
        agent_yaml.write_text(text.replace("[support, acme]", f"[support, {UNTESTED_TAG}]"))
        line, field = 1 + text[: text.index("tags: [support, acme]")].count("\n"), r"tags\[1\]"
    else:
        agent_yaml.write_text(text + f"overrides:\n  production:\n    tags: [{UNTESTED_TAG}]\n")
        line, field = 1 + text.count("\n") + 2, r"overrides\.production\.tags\[0\]"
    code, out, err = cli("validate")
    assert code == 1, out
    assert re.search(rf"agent\.yaml:{line}:\d+: {field}: '{UNTESTED_TAG}'", err), err
    assert len(err.strip().splitlines()) == 1
    assert cli("plan")[0] == 1


def test_pull_and_import_never_write_the_marker(
    cli: Any,
    server: Any,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    _break_glass(cli, project, "--target", "support")
    edited = main_config(server, agent_ids(server)["support"])["tags"]
    assert UNTESTED_TAG in edited
    code, out, err = cli("pull", "support")
    assert code == 0, out + err
    assert UNTESTED_TAG not in (project / "agents" / "support" / "agent.yaml").read_text()

    fresh = project.parent / "fresh"
    fresh.mkdir()
    shutil.copy2(project / "convai-ops.yaml", fresh / "convai-ops.yaml")
    other = cli_runner(fresh, server.url, KEY, monkeypatch, capsys)
    code, out, err = other("import", "--all")
    assert code == 0, out + err
    texts = [p.read_text() for p in (fresh / "agents").glob("*/agent.yaml")]
    assert len(texts) == 2 and all(UNTESTED_TAG not in t for t in texts)
    plan = json.loads(other("plan", "--format", "json")[1])
    assert [c for a in plan["agents"] for c in a["changes"] if c["path"] == ["tags"]] == []
    assert {a["slug"]: bool(a["untested"]) for a in plan["agents"]} == {
        "assistant": False,
        "support": True,
    }


def test_marked_tags_adds_or_removes_only_the_marker() -> None:
    assert marked_tags(["b", "a"], True) == ["a", "b", UNTESTED_TAG]
    assert marked_tags(["a", UNTESTED_TAG], False) == ["a"]
    assert marked_tags(["a", UNTESTED_TAG], True) is None
    assert marked_tags(None, False) is None
    assert with_marker([UNTESTED_TAG, "x"], True) == [UNTESTED_TAG, "x"]
