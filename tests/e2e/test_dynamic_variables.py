"""Dynamic variables end to end: a test file's ``dynamic_variables`` reach the create-test
request, and the emulated agent fills ``{{customer_name}}`` from them (else from the agent's
placeholder), so the example's greeting test passes with its variable and fails without it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

TEST = "agents/support/tests/delivery-time.yaml"


def _created_tests(server: Any) -> dict[str, dict[str, Any]]:
    return {
        str(e.body["name"]).split(" #")[0]: e.body
        for e in server.emulator.request_log
        if e.method == "POST" and e.path.endswith("/agent-testing/create")
    }


def test_a_test_files_dynamic_variables_are_sent_and_fill_the_greeting(
    cli: Any, server: Any
) -> None:
    code, out, err = cli("apply", "--auto-approve")

    assert code == 0, out + err
    body = _created_tests(server)["support/delivery-time"]
    assert body["dynamic_variables"] == {"customer_name": "Sam"}
    assert "pass delivery-time" in out


def test_without_the_variable_the_placeholder_greets_and_the_test_fails(
    cli: Any, server: Any, project: Path
) -> None:
    path = project / TEST
    text = path.read_text()
    path.write_text(text.replace("dynamic_variables:", "#").replace("  customer_name: Sam", "#"))

    code, out, _ = cli("apply", "--auto-approve")

    assert code == 3
    assert "dynamic_variables" not in _created_tests(server)["support/delivery-time"]
    assert "FAIL delivery-time" in out
    assert "not met: 'The agent greets the caller by name with \"Hi Sam\".'" in out
    assert _greeting(server).startswith("Hi there, this is Ava")


def _greeting(server: Any) -> str:
    """The first agent message of the last run of delivery-time the emulator answered."""
    for entry in reversed(server.emulator.request_log):
        for run in (entry.response_body or {}).get("test_runs") or []:
            responses = run.get("agent_responses") or []
            if str(run.get("test_name")).startswith("support/delivery-time") and responses:
                return str(responses[0]["message"])
    raise AssertionError("no simulation run in the log")


def test_renaming_the_placeholder_fails_validate_before_any_request(
    cli: Any, server: Any, project: Path
) -> None:
    agent = project / "agents/support/agent.yaml"
    text = agent.read_text().replace("customer_name: there", "caller_name: there")
    agent.write_text(text)
    code, _, err = cli("validate")
    assert code == 1 and "{{customer_name}} has no placeholder" in err
    assert "did you mean 'caller_name'?" in err
    assert server.emulator.request_log == []
