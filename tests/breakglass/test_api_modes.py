"""Break-glass apply and rollback under every emulator mode of the inferred behaviours
(tests/e2e/test_api_modes.py): agent-wide settings on a branch dropped, an identical merge
committing nothing; and into a protected main, refused in one line like apply."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.breakglass.conftest import edit_support_prompt
from tests.e2e.conftest import KEY, agent_ids, main_config
from tests.helpers import Runner


def _prompt(server: Any) -> str:
    config = main_config(server, agent_ids(server)["support"])["conversation_config"]
    return str(config["agent"]["prompt"]["prompt"])


def test_skip_tests_then_rollback_in_every_mode(
    mode_cli: Runner, mode_server: Any, project: Path
) -> None:
    assert mode_cli("apply", "--auto-approve", "--target", "support")[0] == 0
    edit_support_prompt(project, "within 30 days", "within 14 days")
    code, out, err = mode_cli(
        "apply", "--auto-approve", "--target", "support", "--skip-tests", "--reason", "outage"
    )
    assert code == 0, out + err
    assert "within 14 days" in _prompt(mode_server)
    code, out, _ = mode_cli("plan", "--target", "support")
    assert "main holds an untested change" in out
    code, out, err = mode_cli("rollback", "support", "--auto-approve")
    assert code == 0, out + err
    assert "within 30 days" in _prompt(mode_server)
    assert "untested" not in mode_cli("plan", "--target", "support")[1]


def test_rollback_into_a_protected_main_fails_in_one_line_and_keeps_the_branch(
    cli: Runner, server: Any, project: Path
) -> None:
    assert cli("apply", "--auto-approve", "--target", "support")[0] == 0
    edit_support_prompt(project, "2 business days", "1 business day")
    assert cli("apply", "--auto-approve", "--target", "support")[0] == 0
    agent_id = agent_ids(server)["support"]
    main = main_config(server, agent_id)
    httpx.patch(
        f"{server.url}/v1/convai/agents/{agent_id}/branches/{main['main_branch_id']}",
        json={"protection_status": "admin_perms_required"},
        headers={"xi-api-key": KEY},
    ).raise_for_status()
    code, out, err = cli("rollback", "support", "--auto-approve")
    assert code == 1, out + err
    assert "main is protected" in err and "branch kept" in err
    assert len(err.strip().splitlines()) == 1
    assert main_config(server, agent_id)["version_id"] == main["version_id"]
