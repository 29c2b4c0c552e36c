"""``conversations``, ``tests new`` and ``simulate`` end to end: the CLI in-process against the
emulator over loopback, on a copy of agents/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.conversations.conftest import CANADA, KEY, OLD_FAILURE, ROMANIAN, TOOL_ERROR

CANADA_CRITERION = 'canada: The agent says Acme ships to "Canada"'


def load_yaml(text: str) -> Any:
    return YAML(typ="safe").load(text)


def mutating(server: Any) -> list[str]:
    return [f"{e.method} {e.path}" for e in server.emulator.request_log if e.method != "GET"]


def test_list_failed_shows_only_failed_calls(cli: Any, server: Any) -> None:
    code, out, _ = cli("conversations", "list", "--failed", "--limit", "100")
    assert code == 0
    rows = out.splitlines()[1:]
    assert len(rows) == 9 and all(" failure " in row for row in rows)
    assert any(row.startswith(CANADA) and "Canada shipping question" in row for row in rows)
    code, out, _ = cli("conversations", "list", "--limit", "100")
    assert any(" success " in row for row in out.splitlines()[1:])


def test_list_by_agent_since_and_as_json(cli: Any) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    code, out, _ = cli("conversations", "list", "--agent", "support", "--failed", "--since", "7d")
    assert code == 0
    ids = [line.split()[0] for line in out.splitlines()[1:]]
    assert CANADA in ids and ROMANIAN in ids and OLD_FAILURE not in ids
    code, out, _ = cli("conversations", "list", "--agent", "assistant", "--format", "json")
    items = json.loads(out)
    assert items and {item["agent_name"] for item in items} == {"Nova Helpdesk"}


def test_list_pages_only_as_far_as_the_limit(cli: Any, server: Any) -> None:
    code, out, _ = cli("conversations", "list", "--limit", "3")
    assert code == 0 and len(out.splitlines()) == 4
    pages = [e for e in server.emulator.request_log if e.path == "/v1/convai/conversations"]
    assert len(pages) == 1 and "page_size=3" in pages[0].query


def test_show_prints_the_full_numbered_transcript(cli: Any) -> None:
    code, out, _ = cli("conversations", "show", CANADA)
    assert code == 0
    numbered = [line for line in out.splitlines() if line.startswith("  [")]
    assert [line.split("]")[0].strip(" [") for line in numbered] == [str(n) for n in range(1, 8)]
    assert "  [2]  0:04 user   Hi, do you ship to Canada?" in out
    assert "resolved_request: failure - The caller asked twice" in out
    code, out, _ = cli("conversations", "show", TOOL_ERROR, "--format", "yaml")
    assert load_yaml(out)["transcript"][2]["tool_calls"][0]["tool_name"] == "lookup_order"


def test_show_unknown_conversation_is_one_line(cli: Any) -> None:
    code, out, err = cli("conversations", "show", "conv_missing")
    assert code == 1 and out == ""
    assert "404" in err and len(err.strip().splitlines()) == 1


def test_new_test_is_refused_until_filled_then_accepted_and_run(cli: Any, project: Path) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    code, out, _ = cli("tests", "new", "--from-conversation", CANADA, "--at-turn", "3")
    assert code == 0, out
    path = project / "agents/support/tests" / f"{CANADA}-turn-3.yaml"
    assert f"Wrote {path}" in out
    code, _, err = cli("validate")
    assert code == 1 and "success_condition: fill in success_condition" in err
    text = path.read_text()
    path.write_text(
        "\n".join(
            'success_condition: The agent says Acme ships to "Canada".'
            if line.startswith("success_condition:")
            else line
            for line in text.splitlines()
        )
    )
    code, out, _ = cli("validate")
    assert code == 0 and "7 test(s) valid" in out
    code, out, _ = cli("test", "support")
    assert code == 3
    assert f"FAIL {CANADA}-turn-3" in out and "equals the failure example" in out


def test_romanian_conversation_becomes_a_simulation_test_in_ro(cli: Any, project: Path) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    args = ("--from-conversation", ROMANIAN, "--at-turn", "3", "--type", "simulation")
    code, out, _ = cli("tests", "new", *args, "--name", "romanian-caller")
    assert code == 0, out
    path = project / "agents/support/tests/romanian-caller.yaml"
    body = load_yaml(path.read_text())
    assert "# Language: ro" in path.read_text()
    assert body["simulation_scenario"].startswith("Speak Romanian (ro)")
    assert "Am comandat un cort" in body["simulation_scenario"]
    assert body["from_conversation_metadata"]["conversation_id"] == ROMANIAN
    code, _, err = cli("tests", "new", *args, "--name", "romanian-caller")
    assert code == 1 and "already exists" in err


def test_tests_new_needs_an_agent_of_the_repository(cli: Any) -> None:
    code, _, err = cli("tests", "new", "--from-conversation", CANADA, "--at-turn", "3")
    assert code == 1
    assert "not an agent of this repository: pass --agent SLUG" in err
    code, _, err = cli("tests", "new", "--from-conversation", CANADA, "--at-turn", "2")
    assert code == 1 and "--at-turn 2 is the user's" in err


def test_simulate_stream_prints_turns_then_the_analysis(cli: Any, server: Any) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    scenario = "Do you ship to Canada? How long does delivery take?"
    args = ("--scenario", scenario, "--criterion", CANADA_CRITERION)
    code, out, _ = cli("simulate", "support", *args, "--stream")
    assert code == 3
    lines = out.splitlines()
    assert "simulate-conversation/stream (deprecated endpoint)" in lines[0]
    turns = [i for i, line in enumerate(lines) if line.startswith("  [")]
    assert len(turns) == 5 and turns == list(range(1, 6))
    assert lines[6] == "Evaluation criteria"
    assert 'canada: failure - Failure: the reply lacks "Canada"' in out
    assert "Call successful: failure" in out
    assert any(
        e.path.endswith("/simulate-conversation/stream") for e in server.emulator.request_log
    )


def test_simulate_on_a_branch_runs_a_temporary_test(cli: Any, server: Any, project: Path) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    prompt = project / "agents/support/prompt.md"
    prompt.write_text(prompt.read_text() + "We ship to the United States and Canada.\n")
    code, out, _ = cli("check", "--branch-name", "fix-canada")
    assert code == 0, out
    before = mutating(server)
    args = ("--from-conversation", CANADA, "--at-turn", "3", "--criterion", CANADA_CRITERION)
    code, out, err = cli("simulate", "support", "--branch", "fix-canada", *args)
    assert code == 0, out + err
    assert "on branch fix-canada (a temporary simulation test)" in out
    assert "  [ 2]  0:01 user   Hi, do you ship to Canada?" in out
    assert "We ship to the United States and Canada." in out
    assert "canada: success" in out and "Call successful: success" in out
    calls = mutating(server)[len(before) :]
    assert [c.split()[0] + " " + c.split("/")[3] for c in calls] == [
        "POST agent-testing",
        "POST agents",
        "DELETE agent-testing",
    ]


def test_simulate_saves_the_scenario_as_a_test(cli: Any, project: Path) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    args = ("--first-message", "Alo, da?", "--language", "ro", "--criterion", "greets: Bună")
    code, out, _ = cli("simulate", "support", *args, "--save-test", "ro-caller", "--turns", "2")
    assert code == 3, out
    body = load_yaml((project / "agents/support/tests/ro-caller.yaml").read_text())
    assert body == {
        "type": "simulation",
        "simulation_scenario": "Speak Romanian (ro) throughout, as the caller did.\nAlo, da?",
        "simulation_max_turns": 2,
        "success_conditions": ["Bună"],
    }
    assert cli("validate")[0] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--scenario", "x", "--stream", "--branch", "b"), "--stream works on main only"),
        (("--scenario", "x", "--scenario-file", "agents/support/prompt.md"), "not both"),
        (("--from-conversation", CANADA), "go together"),
        ((), "say what the caller does"),
        (("--scenario", "x", "--criterion", "nocolon"), "--criterion"),
        (("--scenario", "x", "--mock-tools", "all", "--mock-tools", "t"), "stand alone"),
        (("--scenario", "x", "--via-test", "--turns", "60"), "at most 50 turns"),
    ],
)
def test_bad_simulate_flags_send_nothing(
    cli: Any, server: Any, project: Path, args: tuple[str, ...], message: str
) -> None:
    resolved = [str(project / a) if a.startswith("agents/") else a for a in args]
    code, _, err = cli("simulate", "support", *resolved)
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1
    assert server.emulator.request_log == []


def test_help_says_the_endpoints_are_deprecated(cli: Any) -> None:
    code, out, _ = cli("simulate", "--help")
    assert code == 0
    assert "deprecated in favour of simulation tests" in " ".join(out.split())


def test_the_key_never_shows(cli: Any) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    outputs = [
        cli("--debug", "conversations", "list", "--failed"),
        cli("--debug", "conversations", "show", CANADA, "--format", "json"),
        cli("--debug", "simulate", "support", "--scenario", "Hi", "--stream"),
        cli("--debug", "tests", "new", "--from-conversation", CANADA, "--at-turn", "3"),
    ]
    assert all(KEY not in out + err for _, out, err in outputs)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("conversations", "list", "--since", "last week"), "--since 'last week'"),
        (
            ("tests", "new", "--from-conversation", CANADA, "--at-turn", "3", "--name", "../x"),
            "--name '../x'",
        ),
        (("simulate", "support", "--scenario", "x", "--save-test", "a b"), "--save-test 'a b'"),
    ],
)
def test_bad_input_is_one_line_and_sends_nothing(
    cli: Any, server: Any, args: tuple[str, ...], message: str
) -> None:
    code, _, err = cli(*args)
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1
    assert server.emulator.request_log == []


def test_scenario_file_is_the_callers_script(cli: Any, project: Path) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    script = project / "caller.txt"
    script.write_text("How long does delivery take?\n")
    code, out, _ = cli("simulate", "support", "--scenario-file", str(script), "--turns", "1")
    assert code == 0, out
    assert "user   How long does delivery take?" in out
    assert "agent  Orders ship within 2 business days" in out


def test_a_tool_test_from_a_conversation_names_a_tool_of_tools(cli: Any, project: Path) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    args = ("--from-conversation", TOOL_ERROR, "--at-turn", "3", "--type", "tool")
    code, out, err = cli("tests", "new", *args, "--name", "lookup")
    assert code == 0, out + err
    written = load_yaml((project / "agents/support/tests/lookup.yaml").read_text())
    assert written["tool_call_parameters"]["referenced_tool"] == {"name": "lookup_order"}
