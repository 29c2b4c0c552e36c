"""Turning a moment of a conversation into a test file, and checking tool-call tests; no
network: conversations are plain dicts, files go to ``tmp_path`` and are read back by the
repository loader."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from convai_ops.conversation_tests import (
    chat_entry,
    draft_test,
    language_line,
    moment_at,
    write_test,
)
from convai_ops.errors import SpecError, UsageError
from convai_ops.spec import load_project
from convai_ops.tool_tests import check_tool_tests

CALL = {
    "type": "webhook",
    "request_id": "r1",
    "tool_name": "lookup_order",
    "params_as_json": json.dumps({"order_id": "A-9", "options": {"express": True}}),
    "tool_has_been_called": True,
    "tool_details": None,
}
RESULT = {
    "type": "webhook",
    "request_id": "r1",
    "tool_name": "lookup_order",
    "result_value": "not found",
    "is_error": True,
    "tool_has_been_called": True,
    "dynamic_variable_updates": [],
}
METADATA = {"agent_id": "agent_1", "branch_id": "b", "version_id": "v"}
CONVERSATION: dict[str, Any] = {
    "conversation_id": "conv_9",
    "agent_id": "agent_1",
    "branch_id": "agtbrch_1",
    "metadata": {"main_language": "ro"},
    "transcript": [
        {
            "role": "agent",
            "message": "Bună ziua!",
            "time_in_call_secs": 0,
            "agent_metadata": METADATA,
            "interrupted": False,
            "feedback": None,
        },
        {
            "role": "user",
            "message": "Unde e comanda A-9?",
            "time_in_call_secs": 3,
            "tool_calls": [],
            "tool_results": [],
            "interrupted": False,
        },
        {"role": "agent", "message": None, "time_in_call_secs": 5, "tool_calls": [CALL]},
        {"role": "agent", "message": None, "time_in_call_secs": 6, "tool_results": [RESULT]},
        {"role": "agent", "message": "A plecat ieri.", "time_in_call_secs": 8},
        {"role": "user", "message": "Mulțumesc. La revedere.", "time_in_call_secs": 12},
        {"role": "agent", "message": "O zi bună!", "time_in_call_secs": 14},
    ],
}


def test_chat_entries_keep_only_what_a_test_accepts() -> None:
    entry = chat_entry(CONVERSATION["transcript"][0])
    assert entry == {"role": "agent", "message": "Bună ziua!", "time_in_call_secs": 0}
    call = chat_entry(CONVERSATION["transcript"][2])
    assert call == {"role": "agent", "time_in_call_secs": 5, "tool_calls": [CALL]}
    result = chat_entry({"role": "agent", "tool_results": [{**RESULT, "surprise": 1}]})
    assert result["tool_results"] == [RESULT] and result["time_in_call_secs"] == 0


def test_moment_splits_history_and_the_agent_reply() -> None:
    moment = moment_at(CONVERSATION, 3)
    assert [e["time_in_call_secs"] for e in moment.history] == [0, 3]
    assert [e["time_in_call_secs"] for e in moment.reply] == [5, 6, 8]
    assert moment.reply_text == "A plecat ieri."
    assert moment.tool_call == CALL and moment.language == "ro"
    history, lines = moment.opening()
    assert [e["time_in_call_secs"] for e in history] == [0]
    assert lines == ["Unde e comanda A-9?", "Mulțumesc. La revedere."]


@pytest.mark.parametrize(
    ("turn", "message"),
    [(0, "has turns 1-7"), (8, "has turns 1-7"), (2, "is the user's.*agent turns: 1, 3, 4, 5, 7")],
)
def test_a_turn_that_is_not_an_agent_reply_is_refused(turn: int, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        moment_at(CONVERSATION, turn)


def test_llm_placeholder_names_no_example_domain() -> None:
    body = draft_test(moment_at(CONVERSATION, 5), "llm")
    assert body["success_condition"] == (
        "TODO: say what a good reply does, quoting in double quotes the words it must contain; "
        "the original reply is the failure example"
    )


def test_llm_body_has_placeholder_failure_example_and_metadata() -> None:
    body = draft_test(moment_at(CONVERSATION, 5), "llm")
    assert body["success_condition"].startswith("TODO:")
    assert body["failure_examples"] == ["A plecat ieri."]
    assert len(body["chat_history"]) == 4
    metadata = body["from_conversation_metadata"]
    assert (metadata["conversation_id"], metadata["agent_id"], metadata["branch_id"]) == (
        "conv_9",
        "agent_1",
        "agtbrch_1",
    )
    assert metadata["original_agent_reply"] == [
        {"role": "agent", "message": "A plecat ieri.", "time_in_call_secs": 8}
    ]


def test_tool_body_checks_each_parameter_of_the_call() -> None:
    body = draft_test(moment_at(CONVERSATION, 3), "tool")
    expectation = body["tool_call_parameters"]
    assert expectation["referenced_tool"] == {"id": "lookup_order", "type": "webhook"}
    assert [p["path"] for p in expectation["parameters"]] == ["order_id", "options.express"]
    assert all(p["eval"]["description"].startswith("TODO:") for p in expectation["parameters"])
    assert "failure_examples" not in body
    with pytest.raises(UsageError, match="turn 5 made no tool call"):
        draft_test(moment_at(CONVERSATION, 5), "tool")


def test_simulation_body_replays_the_callers_lines_in_their_language() -> None:
    body = draft_test(moment_at(CONVERSATION, 3), "simulation")
    assert body["simulation_scenario"].splitlines() == [
        "Speak Romanian (ro) throughout, as the caller did.",
        "Unde e comanda A-9?",
        "Mulțumesc. La revedere.",
    ]
    assert body["simulation_max_turns"] == 3
    assert body["success_conditions"][0].startswith("TODO:")
    assert len(body["chat_history"]) == 1
    assert language_line("en") is None and language_line("xx") is not None


def write_project(root: Path, agent_yaml: str = "name: Support\n") -> Path:
    folder = root / "agents" / "support"
    folder.mkdir(parents=True)
    (folder / "agent.yaml").write_text(agent_yaml)
    return folder


def test_written_test_is_refused_until_filled_then_accepted(tmp_path: Path) -> None:
    write_project(tmp_path)
    agent = load_project(tmp_path).agent("support")
    written = write_test(agent, moment_at(CONVERSATION, 5), "llm", name="late")
    assert written.path == tmp_path / "agents/support/tests/late.yaml" and written.todo
    text = written.path.read_text()
    assert text.startswith("# yaml-language-server: $schema=../../../.convai-ops/schema/")
    assert "# From conversation conv_9, agent turn 5." in text
    with pytest.raises(SpecError, match=r"late\.yaml:.*success_condition: fill in"):
        load_project(tmp_path)
    filled = "\n".join(
        'success_condition: The agent says it "shipped".'
        if line.startswith("success_condition")
        else line
        for line in text.splitlines()
    )
    written.path.write_text(filled)
    [test] = load_project(tmp_path).agent("support").tests
    assert test.name == "late" and test.body["failure_examples"][0]["type"] == "failure"
    assert test.body["from_conversation_metadata"]["conversation_id"] == "conv_9"


@pytest.mark.parametrize("test_type", ["tool", "simulation"])
def test_tool_and_simulation_files_pass_the_schema_once_filled(
    tmp_path: Path, test_type: str
) -> None:
    write_project(tmp_path)
    agent = load_project(tmp_path).agent("support")
    written = write_test(agent, moment_at(CONVERSATION, 3), test_type)
    assert written.path.name == "conv_9-turn-3.yaml"
    written.path.write_text(written.path.read_text().replace("TODO:", "Filled:"))
    [test] = load_project(tmp_path).agent("support").tests
    assert test.type == test_type


def test_existing_file_and_bad_names_are_refused(tmp_path: Path) -> None:
    write_project(tmp_path)
    agent = load_project(tmp_path).agent("support")
    moment = moment_at(CONVERSATION, 5)
    first = write_test(agent, moment, "llm", name="same")
    with pytest.raises(UsageError, match="already exists"):
        write_test(agent, moment, "llm", name="same")
    again = write_test(agent, moment, "llm", name="same", overwrite=True)
    assert again.path == first.path
    for bad in ("../escape", "a b", ".hidden"):
        with pytest.raises(UsageError, match="--name"):
            write_test(agent, moment, "llm", name=bad)
    assert sorted(p.name for p in (agent.dir / "tests").iterdir()) == ["same.yaml"]


TOOL_TEST = """\
type: tool
chat_history: [{role: user, message: "Where is A-1?", time_in_call_secs: 0}]
tool_call_parameters:
  referenced_tool: {name: lookup_order}
  parameters:
{parameters}
"""
TOOL_FILE = "tool_config: {type: client, description: Looks up an order.}\n"


def _with_tools(root: Path) -> None:
    (root / "tools").mkdir(exist_ok=True)
    for name in ("lookup_order", "create_ticket"):
        (root / "tools" / f"{name}.yaml").write_text(TOOL_FILE)


@pytest.mark.parametrize(
    ("tools", "parameters", "message"),
    [
        ("[lookup_order]", "    - {path: order_id, eval: {type: exact, expected_value: A}}", None),
        (None, "    - {path: order_id, eval: {type: anything}}", None),
        (
            "[create_ticket]",
            "    - {path: order_id, eval: {type: anything}}",
            r"test.yaml:4:\d+: tool_call_parameters.referenced_tool.name: 'lookup_order' is not",
        ),
        (
            "[lookup_order]",
            "    - {path: order_id, eval: {type: regex, pattern: '(A-'}}",
            r"test.yaml:6:\d+: .*eval.pattern: invalid regular expression",
        ),
        (
            "[lookup_order]",
            "    - {path: id, eval: {type: anything}}\n    - {path: id, eval: {type: anything}}",
            "parameter 'id' is checked twice",
        ),
        (
            "[lookup_order]",
            "    - {path: id, eval: {type: llm, description: 'TODO: x'}}",
            "eval.description: fill in description",
        ),
        ("[lookup_order]", "    - {path: ' ', eval: {type: anything}}", "path is empty"),
    ],
)
def test_tool_tests_are_checked_against_the_agent(
    tmp_path: Path, tools: str | None, parameters: str, message: str | None
) -> None:
    agent_yaml = "name: Support\n" + (f"tools: {tools}\n" if tools else "")
    folder = write_project(tmp_path, agent_yaml)
    _with_tools(tmp_path)
    (folder / "tests").mkdir()
    (folder / "tests" / "test.yaml").write_text(TOOL_TEST.replace("{parameters}", parameters))
    if message is None:
        check_tool_tests(load_project(tmp_path))
    else:  # placeholders are refused by the loader itself, the rest by check_tool_tests
        with pytest.raises(SpecError, match=message):
            check_tool_tests(load_project(tmp_path))


def test_a_tool_name_written_as_an_id_is_refused(tmp_path: Path) -> None:
    folder = write_project(tmp_path)
    _with_tools(tmp_path)
    (folder / "tests").mkdir()
    text = TOOL_TEST.replace("{name: lookup_order}", "{id: lookup_order, type: client}")
    parameters = "    - {path: order_id, eval: {type: anything}}"
    (folder / "tests" / "test.yaml").write_text(text.replace("{parameters}", parameters))
    with pytest.raises(SpecError, match=r"a tool name, not an id .*\{name: lookup_order\}"):
        check_tool_tests(load_project(tmp_path))


def test_verify_absence_takes_no_parameter_checks(tmp_path: Path) -> None:
    folder = write_project(tmp_path)
    _with_tools(tmp_path)
    (folder / "tests").mkdir()
    text = TOOL_TEST.replace("{parameters}", "    - {path: id, eval: {type: anything}}")
    text += "  verify_absence: true\n"
    (folder / "tests" / "test.yaml").write_text(text)
    with pytest.raises(SpecError, match="verify_absence checks that the tool is not called"):
        check_tool_tests(load_project(tmp_path))
