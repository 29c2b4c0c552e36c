"""A canary survives its process: ``apply --canary`` (a real subprocess over loopback) is
killed with SIGKILL while it analyses; ``canary status`` reads it back from the API, and
``canary analyse`` run until done reaches the same outcome as an uninterrupted apply, with
no second branch and no extra deployment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from convai_ops.emulator import EmulatorConfig, run_in_thread
from tests.canary.traffic_project import (
    BAD,
    GOOD,
    RATE,
    branches,
    canary_project,
    deployments,
    edit_prompt,
)
from tests.e2e.conftest import KEY, agent_ids, main_config
from tests.helpers import Runner, cli_runner


@pytest.fixture
def server() -> Iterator[Any]:
    config = EmulatorConfig(rag_index_delay_s=0.05, test_delay_s=0.05, traffic_rate=RATE)
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
    created = runner("apply", "--auto-approve", "--target", "support")
    assert created[0] == 0, created
    return runner


def canary_apply(project: Path, url: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ELEVENLABS_", "CONVAI_OPS_"))}
    env.update(ELEVENLABS_BASE_URL=url, ELEVENLABS_API_KEY=KEY, CONVAI_OPS_POLL_INTERVAL="0.05")
    command = [sys.executable, "-m", "convai_ops", "-C", str(project), "apply", "--auto-approve"]
    command += ["--canary", "20", "--target", "support"]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kill_once_deployed(process: subprocess.Popen[bytes], server: Any, agent_id: str) -> None:
    """SIGKILL the apply as soon as the branch takes its 20% (the analysis has begun)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if any(b["current_live_percentage"] == 20 for b in branches(server, agent_id)):
            process.kill()
            process.wait()
            return
        time.sleep(0.05)
    pytest.fail(f"the canary was not deployed (apply exit code {process.poll()})")


def analyse_until_done(cli: Runner) -> list[int]:
    codes = []
    for _ in range(200):
        code, out, err = cli("canary", "analyse")
        codes.append(code)
        assert code in (0, 3), out + err
        if "No canary running" in out:
            return codes
        time.sleep(0.3)
    pytest.fail("the canary did not finish")


def status_json(cli: Runner) -> dict[str, Any]:
    code, out, err = cli("canary", "status", "support", "--format", "json")
    assert code == 0, out + err
    canaries: list[dict[str, Any]] = json.loads(out)["canaries"]
    assert len(canaries) == 1
    return canaries[0]


@pytest.mark.parametrize(("change", "merged"), [(GOOD, True), (BAD, False)])
def test_sigkill_during_the_analysis_then_canary_analyse_finishes_it(
    cli: Runner, server: Any, project: Path, change: tuple[str, str], merged: bool
) -> None:
    agent_id = agent_ids(server)["support"]
    before = main_config(server, agent_id)["version_id"]
    edit_prompt(project, change)
    kill_once_deployed(canary_apply(project, server.url), server, agent_id)
    status = status_json(cli)
    assert status["shares"] == {"branch": 20, "main": 80}
    assert status["step"] == 1 and status["steps"] == [20]
    assert 0 < status["time_left_s"] <= 60
    names = {m["name"] for m in status["metrics"]}
    assert names == {"call_successful", "greeted_as_ava", "warranty_stated"}
    codes = analyse_until_done(cli)
    assert (3 in codes) is not merged
    made = [b["id"] for b in branches(server, agent_id) if "canary" in b["description"]]
    assert made == [status["branch_id"]]  # the killed apply's branch, no second one
    assert len(deployments(server, agent_id)) == 2  # 20% once, then main back to 100%
    main = main_config(server, agent_id)
    shares = {b["id"]: b["current_live_percentage"] for b in branches(server, agent_id)}
    assert shares[main["main_branch_id"]] == 100
    prompt = main["conversation_config"]["agent"]["prompt"]["prompt"]
    assert (change[1] in prompt) is merged
    assert (main["version_id"] == before) is not merged
    branch = next(b for b in branches(server, agent_id) if b["id"] == status["branch_id"])
    assert branch["is_archived"] is merged  # the merge archives it; a rollback keeps it
    assert branch["name"].endswith("-canary-rolled-back") is not merged


def test_status_reports_counts_and_intervals_while_a_canary_runs(
    cli: Runner, server: Any, project: Path
) -> None:
    agent_id = agent_ids(server)["support"]
    edit_prompt(project, GOOD)
    kill_once_deployed(canary_apply(project, server.url), server, agent_id)
    time.sleep(1.5)
    status = status_json(cli)
    call = next(m for m in status["metrics"] if m["name"] == "call_successful")
    assert call["branch"]["conversations"] > 0 and call["main"]["conversations"] > 0
    assert status["conversations"]["branch"] == call["branch"]["conversations"]
    interval = call["difference_interval"]
    assert interval is not None and -1 <= interval["low"] <= interval["high"] <= 1
    assert status["decision"] in ("wait", "promote")
    code, out, _ = cli("canary", "status")
    assert code == 0
    assert "shares: branch 20%, main 80%" in out
    assert "call_successful" in out and "difference interval" in out
    assert cli("canary", "abort", "support")[0] == 0
    assert cli("canary", "status", "--format", "json")[1].count("branch_id") == 0
