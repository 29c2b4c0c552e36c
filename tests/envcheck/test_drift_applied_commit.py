"""``convai-ops drift`` tells dashboard edits apart from changes convai-ops left unapplied: live
is compared with the commit recorded on main's version history (apply's branch description, or
the version description of a write on main), and that commit with the repository. End to end:
the emulator over loopback, a real git repository."""

from __future__ import annotations

import json
import shutil
from typing import Any

import git
import httpx
import pytest

from tests.ci.conftest import PROJECT_FILES, STAGING_KEY, commit
from tests.envcheck.conftest import Envs

PROMPT = PROJECT_FILES["agents/support/prompt.md"]
BLOCKED = PROMPT.replace("30 days", "14 days")  # the refund-window test fails on it


def _agent_id(envs: Envs, slug: str) -> str:
    agents = httpx.get(
        f"{envs.staging.url}/v1/convai/agents", headers={"xi-api-key": STAGING_KEY}
    ).json()["agents"]
    return next(a["agent_id"] for a in agents if f"convai-ops:{slug}" in a["tags"])


def _dashboard_edit(envs: Envs, slug: str, body: dict[str, Any]) -> None:
    response = httpx.patch(
        f"{envs.staging.url}/v1/convai/agents/{_agent_id(envs, slug)}",
        headers={"xi-api-key": STAGING_KEY},
        json=body,
    )
    response.raise_for_status()


def _drift_json(envs: Envs) -> tuple[int, dict[str, Any]]:
    code, out, err = envs.cli("drift", "--format", "json")
    assert code in (0, 2), out + err
    return code, json.loads(out)


def _agent(report: dict[str, Any], slug: str) -> dict[str, Any]:
    return next(a for a in report["agents"] if a["slug"] == slug)


@pytest.fixture
def applied(envs: Envs) -> str:
    """Staging applied from ``main``'s first commit; returns that commit's sha."""
    code, out, err = envs.cli("apply", "--auto-approve")
    assert code == 0, out + err
    return str(git.Repo(envs.root).head.commit.hexsha)


def test_dashboard_edit_is_reported_against_the_applied_commit(envs: Envs, applied: str) -> None:
    _dashboard_edit(envs, "support", {"name": "Support 2"})
    code, out, _ = envs.cli("drift")
    assert code == 2
    assert "Dashboard edits:" in out and "Not applied yet:" not in out
    assert f"~ support ({_agent_id(envs, 'support')}): 1 field(s) edited on the dashboard" in out
    assert f'~ name: live "Support 2", applied {applied[:12]} "Support"' in out
    code, report = _drift_json(envs)
    support = _agent(report, "support")
    assert (support["status"], support["applied_commit"]) == ("drift", applied)
    assert support["not_applied"] == [] and support["note"] is None
    assert report["has_drift"] is True and report["has_unapplied"] is False


def test_blocked_apply_is_not_applied_yet_not_a_dashboard_edit(envs: Envs, applied: str) -> None:
    commit(envs.root, {"agents/support/prompt.md": BLOCKED}, "shorter refund window")
    code, out, err = envs.cli("apply", "--auto-approve")
    assert code == 3, out + err  # tests failed: not merged
    code, out, _ = envs.cli("drift")
    assert code == 2
    assert "Dashboard edits:" not in out
    assert "! support" in out and f"differ from {applied[:12]}, the commit main was applied" in out
    assert "- Refunds are available within 30 days" in out
    assert "+ Refunds are available within 14 days" in out
    assert "= sales" in out
    code, report = _drift_json(envs)
    support = _agent(report, "support")
    assert support["status"] == "not_applied" and support["fields"] == []
    assert [f["field"] for f in support["not_applied"]] == [
        "conversation_config.agent.prompt.prompt"
    ]
    assert support["not_applied"][0]["applied"] == PROMPT.rstrip("\n")
    assert support["not_applied"][0]["repository"] == BLOCKED.rstrip("\n")
    assert report["has_drift"] is False and report["has_unapplied"] is True


def test_both_kinds_at_once_are_kept_apart(envs: Envs, applied: str) -> None:
    commit(envs.root, {"agents/support/prompt.md": BLOCKED}, "shorter refund window")
    assert envs.cli("apply", "--auto-approve")[0] == 3
    _dashboard_edit(envs, "support", {"name": "Support 2"})
    code, report = _drift_json(envs)
    assert code == 2
    support = _agent(report, "support")
    assert [f["field"] for f in support["fields"]] == ["name"]
    assert [f["field"] for f in support["not_applied"]] == [
        "conversation_config.agent.prompt.prompt"
    ]
    assert report["summary"] == {"agents": 2, "drifted": 1, "fields": 1, "not_applied": 1}


def test_applied_change_then_metadata_only_apply_leaves_no_drift(envs: Envs, applied: str) -> None:
    commit(envs.root, {"agents/sales/prompt.md": "You are Max. Tents cost 199 dollars.\n"}, "p")
    assert envs.cli("apply", "--auto-approve")[0] == 0  # merged from a branch
    agent_yaml = "name: Sales desk\nprompt_file: prompt.md\n"
    head = commit(envs.root, {"agents/sales/agent.yaml": agent_yaml}, "rename")
    assert envs.cli("apply", "--auto-approve")[0] == 0  # name only: written on main directly
    code, report = _drift_json(envs)
    assert code == 0, report
    assert _agent(report, "sales")["applied_commit"] == head


def test_unknown_applied_commit_falls_back_to_the_repository_and_says_why(
    envs: Envs, applied: str
) -> None:
    shutil.rmtree(envs.root / ".git")  # a new history: the recorded commit is not in it
    repo = git.Repo.init(envs.root, initial_branch="main")
    with repo.config_writer() as config:
        config.set_value("user", "name", "Test")
        config.set_value("user", "email", "test@example.com")
    commit(envs.root, {"agents/support/prompt.md": BLOCKED}, "fresh history")
    code, out, _ = envs.cli("drift")
    assert code == 2
    assert "field(s) differ from the repository" in out  # not claimed as a dashboard edit
    assert f"the applied commit {applied[:12]} is not in this clone" in out
    _, report = _drift_json(envs)
    support = _agent(report, "support")
    assert support["applied_commit"] is None and "not in this clone" in support["note"]


def test_apply_with_uncommitted_changes_is_not_taken_as_the_applied_commit(
    envs: Envs, applied: str
) -> None:
    (envs.root / "agents/support/prompt.md").write_text(PROMPT + "Be brief.\n")
    assert envs.cli("apply", "--auto-approve")[0] == 0
    code, report = _drift_json(envs)
    assert code == 0, report  # live equals the working tree
    support = _agent(report, "support")
    assert support["applied_commit"] is None
    assert "ran with uncommitted changes" in support["note"]


def test_agent_never_applied_is_compared_with_the_repository(envs: Envs) -> None:
    response = httpx.post(
        f"{envs.staging.url}/v1/convai/agents/create",
        headers={"xi-api-key": STAGING_KEY},
        json={"name": "Sales", "tags": ["convai-ops:sales"], "conversation_config": {}},
    )
    response.raise_for_status()
    code, out, _ = envs.cli("drift", "--format", "json")
    sales = _agent(json.loads(out), "sales")
    assert sales["applied_commit"] is None
    assert "no convai-ops apply is recorded" in sales["note"]
    assert sales["status"] == "drift" and code == 2
