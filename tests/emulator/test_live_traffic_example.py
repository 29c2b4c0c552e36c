"""The example project's untested fact: the support agent's warranty. A prompt edit that breaks
it passes every test of the agent on its branch, then fails on live traffic."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from convai_ops.emulator import EmulatorServer
from convai_ops.emulator.traffic import generate
from tests.emulator.conftest import API_KEY
from tests.emulator.test_deployments_e2e import deploy
from tests.emulator.test_traffic_e2e import listed
from tests.helpers import cli_runner, copy_example


@pytest.fixture
def support(
    server: EmulatorServer,
    client: httpx.Client,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> dict[str, Any]:
    """The example's support agent, applied (tests passed, merged) and read at main."""
    run = cli_runner(copy_example(tmp_path), server.url, API_KEY, monkeypatch, capsys)
    code, out, err = run("apply", "--target", "support", "--auto-approve")
    assert code == 0, out + err
    agents = client.get("/v1/convai/agents").json()["agents"]
    agent_id = next(a["agent_id"] for a in agents if "convai-ops:support" in a["tags"])
    main: dict[str, Any] = client.get(f"/v1/convai/agents/{agent_id}").json()
    return main


def _branch_with_prompt(client: httpx.Client, agent: dict[str, Any], prompt: str) -> str:
    body = {
        "parent_version_id": agent["version_id"],
        "name": "one-year-warranty",
        "description": "warranty edit",
        "conversation_config": {"agent": {"prompt": {"prompt": prompt}}},
    }
    created = client.post(f"/v1/convai/agents/{agent['agent_id']}/branches", json=body)
    assert created.status_code == 200, created.text
    return str(created.json()["created_branch_id"])


def _test_statuses(client: httpx.Client, agent: dict[str, Any], branch_id: str) -> list[str]:
    attached = agent["platform_settings"]["testing"]["attached_tests"]
    body = {"tests": [{"test_id": t["test_id"]} for t in attached], "branch_id": branch_id}
    started = client.post(f"/v1/convai/agents/{agent['agent_id']}/run-tests", json=body)
    assert started.status_code == 200, started.text
    for _ in range(200):
        runs = client.get(f"/v1/convai/test-invocations/{started.json()['id']}").json()["test_runs"]
        if all(run["status"] != "pending" for run in runs):
            return [run["status"] for run in runs]
        time.sleep(0.05)
    raise AssertionError("test runs still pending")


def _live_results(
    client: httpx.Client, agent_id: str, branch_id: str, since: int
) -> tuple[Counter[str], Counter[str]]:
    """(call_successful counts, warranty criterion counts) of the branch's conversations that
    started after ``since`` (the recorded fixture's calls started before)."""
    calls: Counter[str] = Counter()
    warranty: Counter[str] = Counter()
    window = {"agent_id": agent_id, "branch_id": branch_id, "call_start_after_unix": since}
    for summary in listed(client, **window):
        detail = client.get(f"/v1/convai/conversations/{summary['conversation_id']}").json()
        calls[detail["analysis"]["call_successful"]] += 1
        warranty[
            detail["analysis"]["evaluation_criteria_results"]["warranty_stated"]["result"]
        ] += 1
    return calls, warranty


def test_a_broken_untested_fact_passes_the_tests_then_fails_on_live_traffic(
    server: EmulatorServer, client: httpx.Client, support: dict[str, Any]
) -> None:
    prompt = support["conversation_config"]["agent"]["prompt"]["prompt"]
    assert "2-year warranty" in prompt
    branch_id = _branch_with_prompt(client, support, prompt.replace("2-year", "1-year"))
    statuses = _test_statuses(client, support, branch_id)
    assert len(statuses) == 3 and set(statuses) == {"passed"}

    main_id = support["main_branch_id"]
    since = int(time.time()) - 1
    assert deploy(client, support["agent_id"], {main_id: 50, branch_id: 50}).status_code == 200
    generate(server.emulator, support["agent_id"], 160)
    main_calls, main_warranty = _live_results(client, support["agent_id"], main_id, since)
    branch_calls, branch_warranty = _live_results(client, support["agent_id"], branch_id, since)

    assert main_warranty["failure"] == 0 and main_warranty["success"] >= 10
    assert branch_warranty["failure"] >= 10 and branch_warranty["success"] == 0
    main_rate = main_calls["success"] / sum(main_calls.values())
    branch_rate = branch_calls["success"] / sum(branch_calls.values())
    assert main_rate == 1.0
    assert branch_rate < 0.8
