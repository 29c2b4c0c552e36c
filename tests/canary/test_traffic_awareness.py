"""A live traffic split not made by convai-ops: plan and drift warn, plain apply refuses to
merge (exit 1, nothing staged) unless --ignore-traffic-split. Real HTTP on loopback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import KEY, agent_ids, main_config
from tests.helpers import Runner, cli_runner, copy_example

HEADERS = {"xi-api-key": KEY}


@pytest.fixture
def cli(
    server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Runner:
    return cli_runner(copy_example(tmp_path), server.url, KEY, monkeypatch, capsys)


def split_by_hand(server: Any, agent_id: str, share: float) -> str:
    """A branch made and deployed directly through the API (not by convai-ops)."""
    main = main_config(server, agent_id)
    url = f"{server.url}/v1/convai/agents/{agent_id}"
    created = httpx.post(
        f"{url}/branches",
        headers=HEADERS,
        json={"parent_version_id": main["version_id"], "name": "experiment", "description": "x"},
    )
    created.raise_for_status()
    branch_id = str(created.json()["created_branch_id"])
    requests = [
        {"branch_id": bid, "deployment_strategy": {"type": "percentage", "traffic_percentage": p}}
        for bid, p in ((main["main_branch_id"], 100 - share), (branch_id, share))
    ]
    deployed = httpx.post(
        f"{url}/deployments", headers=HEADERS, json={"deployment_request": {"requests": requests}}
    )
    deployed.raise_for_status()
    return branch_id


def merges(server: Any, agent_id: str) -> int:
    log = server.emulator.request_log
    return sum(1 for e in log if e.path.endswith("/merge") and agent_id in e.path)


def test_a_split_made_through_the_api_makes_plan_and_drift_warn(cli: Runner, server: Any) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    split_by_hand(server, agent_ids(server)["support"], 30)
    code, out, err = cli("plan")
    assert code == 0, out + err
    assert "warning: support: main holds 70% of live traffic" in err
    assert "branch experiment 30%" in err
    assert "assistant" not in err
    code, _, err = cli("drift")
    assert code == 0
    assert "warning: support: main holds 70% of live traffic" in err


def test_plain_apply_refuses_to_merge_into_a_split_agent_unless_told(
    cli: Runner, server: Any, tmp_path: Path
) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    agent_id = agent_ids(server)["support"]
    split_by_hand(server, agent_id, 30)
    before = main_config(server, agent_id)["version_id"]
    prompt = tmp_path / "agents" / "support" / "prompt.md"
    prompt.write_text(prompt.read_text().replace("Be warm,", "Be warm and friendly,"))
    code, out, err = cli("apply", "--auto-approve")
    assert code == 1, out + err
    assert "a split not made by convai-ops gives experiment 30%" in out
    assert "--ignore-traffic-split" in out
    assert main_config(server, agent_id)["version_id"] == before
    assert merges(server, agent_id) == 1  # the first apply's only
    code, out, err = cli("apply", "--auto-approve", "--ignore-traffic-split")
    assert code == 0, out + err
    assert "Apply: 1 merged" in out
    assert main_config(server, agent_id)["version_id"] != before


def test_no_warning_without_a_split(cli: Runner) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    code, _, err = cli("plan")
    assert code == 0
    assert "live traffic" not in err


def test_a_canary_keeps_a_split_made_by_someone_else_and_takes_its_share_from_main(
    cli: Runner, server: Any, tmp_path: Path
) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    agent_id = agent_ids(server)["support"]
    experiment = split_by_hand(server, agent_id, 30)
    config = tmp_path / "convai-ops.yaml"
    block = "    canary:\n      max_duration: 1\n      analysis_interval: 0.2\n"
    config.write_text(config.read_text().replace("  staging:\n", "  staging:\n" + block, 1))
    prompt = tmp_path / "agents" / "support" / "prompt.md"
    prompt.write_text(prompt.read_text().replace("Be warm,", "Be warm and friendly,"))
    code, out, err = cli("apply", "--auto-approve", "--target", "support", "--canary", "20")
    assert code == 3, out + err  # no live conversation in 1 s: rolled back at max_duration
    assert "note: live traffic split not made by convai-ops kept (experiment 30%)" in out
    log = server.emulator.request_log
    sent = [e.body for e in log if e.method == "POST" and e.path.endswith("/deployments")]
    main_id = main_config(server, agent_id)["main_branch_id"]
    shares = [
        {
            r["branch_id"]: r["deployment_strategy"]["traffic_percentage"]
            for r in body["deployment_request"]["requests"]
        }
        for body in sent[1:]  # the first is the split made by hand
    ]
    assert [s[main_id] for s in shares] == [50, 70]  # 20% taken from main, then given back
    assert all(s[experiment] == 30 for s in shares)
