"""``apply --canary`` against live traffic (the emulator's synthetic conversations, over real
loopback HTTP): a good change is promoted, one that breaks a fact no test covers is rolled
back with the failing metric, its numbers and the failed conversation ids."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from convai_ops.emulator import EmulatorConfig, run_in_thread
from tests.canary.traffic_project import (
    BAD,
    GOOD,
    RATE,
    api,
    branches,
    canary_project,
    deployments,
    edit_prompt,
)
from tests.e2e.conftest import KEY, agent_ids, main_config
from tests.helpers import Runner, cli_runner


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[Any]:
    archive = getattr(request, "param", "refuse")  # archiving a live branch: both readings
    config = EmulatorConfig(
        rag_index_delay_s=0.05, test_delay_s=0.05, traffic_rate=RATE, live_branch_archive=archive
    )
    with run_in_thread(config) as handle:
        yield handle


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return canary_project(tmp_path)


@pytest.fixture
def cli(
    server: Any, project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Runner:
    runner = cli_runner(project, server.url, KEY, monkeypatch, capsys)
    created = runner("apply", "--auto-approve", "--target", "support")  # new: no canary
    assert created[0] == 0, created
    return runner


@pytest.mark.parametrize("server", ["refuse", "to-main"], indirect=True)
def test_a_good_change_is_promoted_and_main_takes_all_traffic_back(
    cli: Runner, server: Any, project: Path
) -> None:
    agent_id = agent_ids(server)["support"]
    edit_prompt(project, GOOD)
    code, out, err = cli("apply", "--canary", "20", "--auto-approve", "--target", "support")
    assert code == 0, out + err
    assert "canary step 1: 20% of live traffic" in out
    assert "canary holds on every metric" in out
    assert "Apply: 1 merged" in out
    prompt = main_config(server, agent_id)["conversation_config"]["agent"]["prompt"]["prompt"]
    assert "Be warm and friendly," in prompt
    main_id = main_config(server, agent_id)["main_branch_id"]
    shares = {b["id"]: b["current_live_percentage"] for b in branches(server, agent_id)}
    assert shares[main_id] == 100
    assert [
        d["deployment_request"]["requests"][1]["deployment_strategy"]
        for d in deployments(server, agent_id)
    ] == [
        {"type": "percentage", "traffic_percentage": 20.0},
        {"type": "percentage", "traffic_percentage": 0.0},
    ]


def test_a_change_breaking_an_untested_fact_is_rolled_back_naming_the_metric(
    cli: Runner, server: Any, project: Path
) -> None:
    agent_id = agent_ids(server)["support"]
    before = main_config(server, agent_id)["version_id"]
    edit_prompt(project, BAD)
    code, out, err = cli("apply", "--canary", "20", "--auto-approve", "--target", "support")
    assert code == 3, out + err
    assert "pass refund-window" in out and "FAIL" not in out  # the tests did not see it
    assert "Apply: 0 merged, 1 rolled back by their canary." in out
    # the broken warranty fails warranty_stated, and so call_successful: either may be first
    assert re.search(r"canary rolled back: worse than main: (warranty_stated|call_successful)", out)
    assert main_config(server, agent_id)["version_id"] == before
    kept = [b for b in branches(server, agent_id) if b["name"].endswith("-canary-rolled-back")]
    assert len(kept) == 1
    assert kept[0]["current_live_percentage"] == 0 and not kept[0]["is_archived"]
    failed = re.search(r"(warranty_stated|call_successful) failed in: ([^;]+)", out)
    assert failed is not None
    for conversation_id in failed.group(2).split(", ")[:3]:
        conversation = api(server, f"/v1/convai/conversations/{conversation_id}")
        assert conversation["branch_id"] == kept[0]["id"]
        analysis = conversation["analysis"]
        assert analysis["call_successful"] == "failure"
        assert analysis["evaluation_criteria_results"]["warranty_stated"]["result"] == "failure"
