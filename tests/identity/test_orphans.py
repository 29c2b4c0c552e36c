"""Orphans: managed agents whose folder is gone are listed by plan in every format and
deleted only with `apply --prune` / `prune: true` (over loopback, against the emulator)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from tests.identity.conftest import live_agents, tagged, writes_since


def _orphan_assistant(cli: Any, server: Any, project: Path) -> str:
    assert cli("apply", "--auto-approve")[0] == 0
    (agent_id,) = tagged(server, "assistant")
    shutil.rmtree(project / "agents" / "assistant")
    return agent_id


def test_plan_lists_one_orphan_in_every_format(cli: Any, server: Any, project: Path) -> None:
    agent_id = _orphan_assistant(cli, server, project)
    line = f"? orphan: assistant {agent_id} (no folder; use --prune to delete)"
    code, out, _ = cli("plan", "--detailed-exitcode")
    assert code == 0  # prune is off: an orphan is not a change apply would make
    assert line in out
    assert "Plan: 0 to create, 0 to update, 1 unchanged, 1 orphan; 0 tests will run." in out
    code, out, _ = cli("plan", "--format", "markdown")
    assert line in out and "1 orphan" in out
    code, out, _ = cli("plan", "--format", "json")
    data = json.loads(out)
    assert data["orphans"] == [{"slug": "assistant", "agent_id": agent_id, "name": "Nova Helpdesk"}]
    assert data["summary"]["orphans"] == 1 and data["summary"]["delete"] == 0
    code, out, _ = cli("plan", "--target", "support")
    assert "orphan" not in out


def test_plain_apply_never_deletes_and_apply_prune_does(
    cli: Any, server: Any, project: Path
) -> None:
    agent_id = _orphan_assistant(cli, server, project)
    start = len(server.emulator.request_log)
    code, out, _ = cli("apply", "--auto-approve")
    assert code == 0
    assert writes_since(server, start) == []
    assert tagged(server, "assistant") == [agent_id]

    code, out, err = cli("apply", "--prune", "--auto-approve")
    assert code == 0, out + err
    assert f"? orphan: assistant {agent_id}" in out  # shown before it is deleted
    assert f"deleted orphan agent {agent_id}" in out
    assert writes_since(server, start) == [f"DELETE /v1/convai/agents/{agent_id}"]
    assert tagged(server, "assistant") == []
    assert len(live_agents(server)) == 1
    code, out, _ = cli("plan")
    assert "orphan" not in out


def test_prune_asks_first_and_refuses_without_a_terminal(
    cli: Any, server: Any, project: Path
) -> None:
    agent_id = _orphan_assistant(cli, server, project)
    start = len(server.emulator.request_log)
    code, _, err = cli("apply", "--prune")
    assert code == 1 and "--auto-approve" in err
    assert writes_since(server, start) == []
    assert tagged(server, "assistant") == [agent_id]


def test_prune_in_the_project_file_counts_orphans_as_changes(
    cli: Any, server: Any, project: Path
) -> None:
    agent_id = _orphan_assistant(cli, server, project)
    config = project / "convai-ops.yaml"
    config.write_text(config.read_text() + "prune: true\n")
    code, out, _ = cli("plan", "--detailed-exitcode")
    assert code == 2
    assert "1 orphan to delete" in out
    code, out, _ = cli("apply", "--auto-approve")
    assert code == 0, out
    assert tagged(server, "assistant") == [] and agent_id not in json.dumps(live_agents(server))


def test_a_saved_plan_carries_its_orphans(cli: Any, server: Any, project: Path) -> None:
    agent_id = _orphan_assistant(cli, server, project)
    saved = project / "plan.json"
    assert cli("plan", "--out", str(saved))[0] == 0
    assert json.loads(saved.read_text())["orphans"][0]["agent_id"] == agent_id
    code, out, err = cli("apply", str(saved), "--prune")
    assert code == 0, out + err
    assert tagged(server, "assistant") == []
