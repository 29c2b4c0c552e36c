"""`convai-ops mv OLD NEW`: the folder moves, the next apply re-tags the live agent, and never a
second agent is made (over loopback, against the emulator)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from convai_ops.spec import load_project
from tests.identity.conftest import live_agents, tagged, writes_since


def test_mv_then_apply_keeps_one_live_agent_re_tagged(cli: Any, server: Any, project: Path) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    (agent_id,) = tagged(server, "support")
    count = len(live_agents(server))

    code, out, err = cli("mv", "support", "helpdesk")
    assert code == 0, err
    assert not (project / "agents" / "support").exists()
    assert load_project(project).agent("helpdesk").previous_slugs == ("support",)
    code, out, _ = cli("plan", "--detailed-exitcode")
    assert code == 2
    assert "~ tag convai-ops:support -> convai-ops:helpdesk" in out
    assert f"~ helpdesk ({agent_id})" in out and "will be created" not in out

    start = len(server.emulator.request_log)
    code, out, err = cli("apply", "--auto-approve")
    assert code == 0, out + err
    assert "/v1/convai/agents/create" not in " ".join(writes_since(server, start))
    assert len(live_agents(server)) == count
    assert tagged(server, "helpdesk") == [agent_id] and tagged(server, "support") == []
    code, out, _ = cli("plan", "--detailed-exitcode")
    assert code == 0, out


def test_re_tag_keeps_the_live_tags_when_tags_are_not_declared(
    cli: Any, server: Any, project: Path
) -> None:
    agent_yaml = project / "agents" / "support" / "agent.yaml"
    agent_yaml.write_text(agent_yaml.read_text().replace("tags: [support, acme]\n", ""))
    assert cli("apply", "--auto-approve")[0] == 0
    (agent_id,) = tagged(server, "support")
    assert cli("mv", "support", "helpdesk")[0] == 0
    code, out, _ = cli("apply", "--auto-approve")
    assert code == 0, out
    assert "~ tag convai-ops:support -> convai-ops:helpdesk" in out
    (live,) = [a for a in live_agents(server) if a["agent_id"] == agent_id]
    assert sorted(live["tags"]) == ["convai-ops:helpdesk"]


def test_mv_refuses_an_existing_or_invalid_new_name(cli: Any, project: Path) -> None:
    before = sorted(p.name for p in (project / "agents").iterdir())
    code, _, err = cli("mv", "support", "assistant")
    assert code == 1 and "already exists" in err
    code, _, err = cli("mv", "support", "Help Desk")
    assert code == 1 and "not a valid agent slug" in err
    code, _, err = cli("mv", "nobody", "helpdesk")
    assert code == 1 and "no agent folder" in err
    assert sorted(p.name for p in (project / "agents").iterdir()) == before
    assert "previous_slugs" not in (project / "agents/support/agent.yaml").read_text()


def test_mv_uses_git_mv_in_a_git_repository(cli: Any, project: Path) -> None:
    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
            cwd=project,
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout

    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "init")
    code, out, _ = cli("mv", "support", "helpdesk")
    assert code == 0 and "(git mv)" in out
    status = git("status", "--porcelain")
    assert "R  agents/support/prompt.md -> agents/helpdesk/prompt.md" in status  # staged
    assert "RM agents/support/agent.yaml -> agents/helpdesk/agent.yaml" in status  # + slugs


def test_a_folder_renamed_by_hand_gets_the_mv_hint_then_mv_records_it(
    cli: Any, server: Any, project: Path
) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    (agent_id,) = tagged(server, "support")
    shutil.move(project / "agents" / "support", project / "agents" / "helpdesk")
    code, out, _ = cli("plan")
    assert code == 0
    create = next(line for line in out.splitlines() if line.startswith("+ helpdesk"))
    assert "convai-ops mv support helpdesk" in create and agent_id in create
    assert f"? orphan: support {agent_id} (no folder; use --prune to delete)" in out

    code, out, _ = cli("mv", "support", "helpdesk")
    assert code == 0 and "already gone" in out
    code, out, _ = cli("plan")
    assert "~ tag convai-ops:support -> convai-ops:helpdesk" in out
    assert "orphan" not in out and "will be created" not in out


def test_pull_before_the_re_tag_writes_no_convai_ops_tag(
    cli: Any, server: Any, project: Path
) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    assert cli("mv", "support", "helpdesk")[0] == 0
    code, out, err = cli("pull", "helpdesk")
    assert code == 0, out + err
    assert "convai-ops:" not in (project / "agents/helpdesk/agent.yaml").read_text()
    code, _, err = cli("validate")
    assert code == 0, err
