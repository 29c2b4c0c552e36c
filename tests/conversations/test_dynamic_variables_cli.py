"""Dynamic variables in the conversation commands: ``tests new --from-conversation`` copies
the call's variables, ``simulate --var NAME=VALUE`` sends them (bad input: one line, nothing
sent)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.conversations.conftest import CANADA

GREETING = 'greeting: The agent greets "Hi Sam"'


def _simulate_bodies(server: Any) -> list[dict[str, Any]]:
    return [
        e.body for e in server.emulator.request_log if e.path.endswith("/simulate-conversation")
    ]


def test_tests_new_copies_the_calls_dynamic_variables(cli: Any, project: Path) -> None:
    assert cli("apply", "--auto-approve")[0] == 0

    code, out, _ = cli("tests", "new", "--from-conversation", CANADA, "--at-turn", "3")

    assert code == 0, out
    path = project / "agents/support/tests" / f"{CANADA}-turn-3.yaml"
    text = path.read_text()
    assert YAML(typ="safe").load(text)["dynamic_variables"] == {"customer_name": "Dana"}
    header = next(line for line in text.splitlines() if line.startswith("# Not copied"))
    assert "caller_tier (no placeholder in agent.yaml)" in header
    assert "system__agent_id (set by the platform)" in header
    assert "system__conversation_id" not in YAML(typ="safe").load(text)["dynamic_variables"]


def test_simulate_var_fills_the_greeting(cli: Any, server: Any) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    args = ("simulate", "support", "--scenario", "Hello.", "--criterion", GREETING)

    code, out, _ = cli(*args, "--var", "customer_name=Sam")
    assert code == 0, out
    assert "Hi Sam, this is Ava" in out
    assert _simulate_bodies(server)[-1]["simulation_specification"]["dynamic_variables"] == {
        "customer_name": "Sam"
    }

    code, out, _ = cli(*args)
    assert code == 3 and "Hi there, this is Ava" in out
    assert "dynamic_variables" not in _simulate_bodies(server)[-1]["simulation_specification"]


def test_simulate_var_via_a_test_sets_the_tests_dynamic_variables(cli: Any, server: Any) -> None:
    assert cli("apply", "--auto-approve")[0] == 0

    code, out, _ = cli(
        "simulate",
        "support",
        "--via-test",
        "--scenario",
        "Hello.",
        "--criterion",
        GREETING,
        "--var",
        "customer_name=Sam",
    )

    assert code == 0, out
    created = [
        e.body for e in server.emulator.request_log if e.path.endswith("/agent-testing/create")
    ]
    assert created[-1]["dynamic_variables"] == {"customer_name": "Sam"}


@pytest.mark.parametrize(
    ("var", "message"),
    [
        ("customer_name", "--var 'customer_name': expected NAME=VALUE"),
        ("{{x}}=1", "expected NAME=VALUE"),
        ("system__caller_id=+1555", "system variables are set by the platform"),
        ("custmer_name=Sam", "has no such placeholder; did you mean 'customer_name'?"),
    ],
)
def test_bad_var_is_one_line_and_sends_nothing(
    cli: Any, server: Any, var: str, message: str
) -> None:
    code, out, err = cli("simulate", "support", "--scenario", "Hello.", "--var", var)

    assert code == 1 and "Hi" not in out
    assert len(err.strip().splitlines()) == 1 and message in err
    assert server.emulator.request_log == []
