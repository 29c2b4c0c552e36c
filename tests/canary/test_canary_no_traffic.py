"""A canary that sees no live conversation: it decides with what there is when its step's
max_duration is over, i.e. rolls back (never promoted without evidence). Real HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import KEY, agent_ids, main_config
from tests.helpers import Runner, copy_example

CANARY = """
    canary:
      steps: [20]
      min_conversations: 5
      max_duration: 1
      margin: 0.2
      analysis_interval: 0.2
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = copy_example(tmp_path)
    config = root / "convai-ops.yaml"
    text = config.read_text()
    config.write_text(text.replace("  staging:\n", "  staging:\n" + CANARY.lstrip("\n"), 1))
    return root


def branches(server: Any, agent_id: str) -> list[dict[str, Any]]:
    url = f"{server.url}/v1/convai/agents/{agent_id}/branches?include_archived=true"
    answer = httpx.get(url, headers={"xi-api-key": KEY})
    answer.raise_for_status()
    results: list[dict[str, Any]] = answer.json()["results"]
    return results


def test_no_conversation_until_max_duration_rolls_back_and_keeps_the_branch(
    cli: Runner, server: Any, project: Path
) -> None:
    assert cli("apply", "--auto-approve")[0] == 0  # new agents: no live traffic to canary
    agent_id = agent_ids(server)["support"]
    before = main_config(server, agent_id)["version_id"]
    prompt = project / "agents" / "support" / "prompt.md"
    prompt.write_text(prompt.read_text().replace("Be warm,", "Be warm and friendly,"))
    code, out, err = cli("apply", "--auto-approve", "--target", "support")
    assert code == 3, out + err
    assert "canary rolled back: max_duration reached" in out
    assert "too few conversations" in out
    assert main_config(server, agent_id)["version_id"] == before
    kept = [b for b in branches(server, agent_id) if b["name"].endswith("-canary-rolled-back")]
    assert len(kept) == 1
    assert kept[0]["current_live_percentage"] == 0 and not kept[0]["is_archived"]
    main = next(b for b in branches(server, agent_id) if b["id"] == kept[0]["parent_branch_id"])
    assert main["current_live_percentage"] == 100
    deployments = [
        e for e in server.emulator.request_log if e.path.endswith(f"{agent_id}/deployments")
    ]
    assert len(deployments) == 2  # step 1 at 20%, then the rollback to main
    code, out, _ = cli("canary", "status", "--format", "json")
    assert code == 0
    assert json.loads(out)["canaries"] == []  # rolled back: no canary running
