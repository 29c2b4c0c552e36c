"""Two live agents carrying one agent's managed tag: every command refuses that agent in one
line naming both ids and both fixes, and writes nothing (over loopback, against the emulator)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.identity.conftest import create_agent, tagged, writes_since


def _twin(cli: Any, server: Any) -> tuple[str, str]:
    assert cli("apply", "--auto-approve")[0] == 0
    (first,) = tagged(server, "support")
    second = create_agent(server, "Acme Support copy", ["convai-ops:support"])
    return first, second


def test_a_second_agent_with_the_tag_makes_plan_exit_1_naming_both_ids(
    cli: Any, server: Any
) -> None:
    first, second = _twin(cli, server)
    start = len(server.emulator.request_log)
    code, _, err = cli("plan", "--detailed-exitcode")
    assert code == 1
    line = err.strip()
    assert "\n" not in line
    assert first in line and second in line
    assert "pin one under environments:" in line and "remove the tag convai-ops:support" in line
    assert writes_since(server, start) == []


def test_apply_refuses_the_ambiguous_agent_and_writes_nothing(
    cli: Any, server: Any, project: Path
) -> None:
    first, second = _twin(cli, server)
    prompt = project / "agents" / "support" / "prompt.md"
    prompt.write_text(prompt.read_text() + "\nAlways be kind.\n")
    start = len(server.emulator.request_log)
    code, _, err = cli("apply", "--auto-approve")
    assert code == 1
    assert first in err and second in err
    assert writes_since(server, start) == []


def test_every_command_resolving_the_agent_refuses_it(cli: Any, server: Any) -> None:
    first, second = _twin(cli, server)
    start = len(server.emulator.request_log)
    for args in (
        ("drift",),
        ("test", "support"),
        ("pull", "support"),
        ("conversations", "list", "--agent", "support"),
    ):
        code, _, err = cli(*args)
        assert code == 1, (args, err)
        assert first in err and second in err, (args, err)
    assert writes_since(server, start) == []


def test_pinning_one_id_settles_it_and_other_agents_are_unaffected(
    cli: Any, server: Any, project: Path
) -> None:
    first, _ = _twin(cli, server)
    code, out, _ = cli("plan", "--target", "assistant")
    assert code == 0, out  # only the ambiguous agent is refused
    agent_yaml = project / "agents" / "support" / "agent.yaml"
    agent_yaml.write_text(agent_yaml.read_text() + f"environments:\n  staging: {first}\n")
    code, out, err = cli("plan", "--detailed-exitcode")
    assert code == 0, out + err
    assert "No changes." in out
