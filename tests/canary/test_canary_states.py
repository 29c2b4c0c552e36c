"""Every state a killed process can leave a canary in is read back from the API and
continued by ``canary analyse``; while a canary runs, apply starts no other change on that
agent. Real HTTP on loopback (no live traffic needed)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from convai_ops.canary.config import CanaryConfig, CanaryPlan, describe
from tests.canary.traffic_project import branches, canary_project, deployments, edit_prompt
from tests.e2e.conftest import KEY, agent_ids, main_config
from tests.helpers import Runner, cli_runner

HEADERS = {"xi-api-key": KEY}
CONFIG = CanaryConfig(steps=(20.0, 50.0), min_conversations=5, max_duration_s=600)


@pytest.fixture
def cli(
    server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Runner:
    runner = cli_runner(canary_project(tmp_path), server.url, KEY, monkeypatch, capsys)
    assert runner("apply", "--auto-approve", "--target", "support")[0] == 0
    return runner


def canary_branch(server: Any, agent_id: str, name: str, canary: bool = True) -> str:
    """A branch as a canary apply leaves it (its plan in the description), named ``name``;
    with ``canary`` false, a branch someone made by hand."""
    main = main_config(server, agent_id)
    description = describe(CanaryPlan(CONFIG, main["version_id"], "abc123 test"))
    description = description if canary else "made by hand"
    body = {"parent_version_id": main["version_id"], "name": name, "description": description}
    url = f"{server.url}/v1/convai/agents/{agent_id}/branches"
    created = httpx.post(url, headers=HEADERS, json=body)
    created.raise_for_status()
    return str(created.json()["created_branch_id"])


def deploy(server: Any, agent_id: str, shares: dict[str, float]) -> None:
    requests = [
        {"branch_id": b, "deployment_strategy": {"type": "percentage", "traffic_percentage": p}}
        for b, p in shares.items()
    ]
    url = f"{server.url}/v1/convai/agents/{agent_id}/deployments"
    body = {"deployment_request": {"requests": requests}}
    httpx.post(url, headers=HEADERS, json=body).raise_for_status()


def branch(server: Any, agent_id: str, branch_id: str) -> dict[str, Any]:
    return next(b for b in branches(server, agent_id) if b["id"] == branch_id)


def test_a_canary_killed_before_its_first_deployment_is_started(cli: Runner, server: Any) -> None:
    agent_id = agent_ids(server)["support"]
    branch_id = canary_branch(server, agent_id, "convai-ops-1-abcdef12")
    code, out, err = cli("canary", "analyse")
    assert code == 0, out + err
    found = branch(server, agent_id, branch_id)
    assert found["current_live_percentage"] == 20
    assert found["name"].startswith("convai-ops-1-abcdef12-canary-1-of-2-since-")
    assert len(deployments(server, agent_id)) == 1


def test_a_step_renamed_but_not_deployed_is_deployed_once(cli: Runner, server: Any) -> None:
    agent_id = agent_ids(server)["support"]
    name = f"convai-ops-1-abcdef12-canary-2-of-2-since-{int(time.time())}"
    branch_id = canary_branch(server, agent_id, name)
    for _ in range(2):
        code, out, err = cli("canary", "analyse")
        assert code == 0, out + err
    found = branch(server, agent_id, branch_id)
    assert (found["name"], found["current_live_percentage"]) == (name, 50)
    assert len(deployments(server, agent_id)) == 1  # the second analyse sees it deployed


def test_a_rollback_killed_before_its_deployment_is_finished(cli: Runner, server: Any) -> None:
    agent_id = agent_ids(server)["support"]
    branch_id = canary_branch(server, agent_id, "convai-ops-1-abcdef12-canary-rolled-back")
    main_id = main_config(server, agent_id)["main_branch_id"]
    deploy(server, agent_id, {main_id: 80, branch_id: 20})
    code, out, _ = cli("canary", "analyse")
    assert code == 3, out
    assert branch(server, agent_id, branch_id)["current_live_percentage"] == 0
    assert branch(server, agent_id, main_id)["current_live_percentage"] == 100
    assert "No canary running" in cli("canary", "analyse")[1]


def test_apply_starts_no_other_change_while_a_canary_runs_until_it_is_aborted(
    cli: Runner, server: Any, tmp_path: Path
) -> None:
    agent_id = agent_ids(server)["support"]
    canary_branch(server, agent_id, "convai-ops-1-abcdef12")
    assert cli("canary", "analyse")[0] == 0  # deployed: 20%
    edit_prompt(tmp_path, ("Be warm,", "Be warm and friendly,"))
    code, out, _ = cli("apply", "--auto-approve", "--target", "support")
    assert code == 1
    assert "support: a canary is running on branch convai-ops-1-abcdef12-canary-1-of-2" in out
    assert "convai-ops canary abort support" in out
    code, _, err = cli("plan")
    assert "note: support: canary running on branch convai-ops-1-abcdef12-canary-1-of-2" in err
    assert cli("canary", "abort", "support")[0] == 0
    code, _, err = cli("plan")
    assert code == 0 and "canary" not in err
    assert cli("canary", "status", "--format", "json")[1].count("branch_id") == 0


def test_a_promotion_after_main_moved_is_refused_and_releases_the_canary(
    cli: Runner, server: Any
) -> None:
    agent_id = agent_ids(server)["support"]
    branch_id = canary_branch(server, agent_id, "convai-ops-1-abcdef12")
    assert cli("canary", "analyse")[0] == 0  # deployed: 20%
    moved = {"conversation_config": {"agent": {"first_message": "Hello from the dashboard."}}}
    url = f"{server.url}/v1/convai/agents/{agent_id}"
    httpx.patch(url, headers=HEADERS, json=moved).raise_for_status()
    code, out, err = cli("canary", "promote", "support")
    assert code == 1, out + err
    assert "main moved" in err
    found = branch(server, agent_id, branch_id)
    assert found["name"].endswith("-canary-rolled-back") and not found["is_archived"]
    assert found["current_live_percentage"] == 0
    assert "Hello from the dashboard." in str(main_config(server, agent_id)["conversation_config"])
    assert "No canary running" in cli("canary", "analyse")[1]


def test_analyse_reports_one_canarys_error_and_still_decides_the_others(
    cli: Runner, server: Any
) -> None:
    assert cli("apply", "--auto-approve", "--target", "assistant")[0] == 0
    ids = agent_ids(server)
    support = canary_branch(server, ids["support"], "convai-ops-1-abcdef12")
    taken = canary_branch(server, ids["support"], "experiment", canary=False)
    main_id = main_config(server, ids["support"])["main_branch_id"]
    deploy(server, ids["support"], {main_id: 10, taken: 90})
    assistant = canary_branch(server, ids["assistant"], "convai-ops-2-abcdef12")
    code, out, _ = cli("canary", "analyse")
    assert code == 1, out
    assert "20% does not fit beside the other live branches (90%)" in out
    refused = branch(server, ids["support"], support)
    assert (refused["name"], refused["current_live_percentage"]) == ("convai-ops-1-abcdef12", 0)
    assert branch(server, ids["assistant"], assistant)["current_live_percentage"] == 20
