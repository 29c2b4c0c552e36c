"""Tool mocks of simulation tests: every tool mocked unless the test file opts in to real
tools, and drafts from a conversation mocking what the tools answered there. No network."""

from __future__ import annotations

import json
from pathlib import Path

from convai_ops.conversation_tests import draft_test, moment_at
from convai_ops.spec import load_project
from convai_ops.tool_mocks import MOCK_ALL, mocks_from_transcript
from tests.conversations.test_conversation_tests import CONVERSATION

SIMULATION = """\
type: simulation
simulation_scenario: Where is my order?
success_conditions: ["The agent answers"]
"""


def _bodies(tmp_path: Path, files: dict[str, str]) -> dict[str, dict[str, object]]:
    folder = tmp_path / "agents" / "shop"
    (folder / "tests").mkdir(parents=True)
    (folder / "agent.yaml").write_text("name: Shop\n")
    for name, text in files.items():
        (folder / "tests" / f"{name}.yaml").write_text(text)
    return {t.name: t.body for t in load_project(tmp_path).agent("shop").tests}


def test_simulation_tests_mock_every_tool_unless_the_file_opts_in(tmp_path: Path) -> None:
    bodies = _bodies(
        tmp_path,
        {
            "default": SIMULATION,
            "real": SIMULATION + "tool_mock_config:\n  mocking_strategy: none\n",
            "chat": "type: llm\nsuccess_condition: The agent greets\n",
        },
    )
    assert bodies["default"]["tool_mock_config"] == {
        "mocking_strategy": "all",
        "fallback_strategy": "raise_error",
    }
    assert bodies["real"]["tool_mock_config"] == {"mocking_strategy": "none"}
    assert "tool_mock_config" not in bodies["chat"]  # llm requests have no such field


def _transcript(*calls: tuple[str, dict[str, str], str]) -> list[dict[str, object]]:
    turns: list[dict[str, object]] = []
    for index, (name, params, answer) in enumerate(calls):
        request_id = f"r{index}"
        call = {"request_id": request_id, "tool_name": name, "params_as_json": json.dumps(params)}
        result = {"request_id": request_id, "tool_name": name, "result_value": answer}
        turns.append({"role": "agent", "tool_calls": [call]})
        turns.append({"role": "agent", "tool_results": [{**result, "is_error": False}]})
    return turns


def test_mocks_from_a_transcript_answer_as_the_tools_did() -> None:
    transcript = _transcript(
        ("lookup_order", {"order_id": "A-1"}, "shipped"),
        ("lookup_order", {"order_id": "B-2"}, "lost"),
        ("create_ticket", {"topic": "late"}, "T-7"),
    )
    mocks = mocks_from_transcript(transcript, {"lookup_order": "tool_lookup"})
    assert mocks["create_ticket"] == [
        {"mock_result": "T-7", "is_error": False, "parameter_conditions": []}
    ]
    first, second = mocks["tool_lookup"]
    assert (first["mock_result"], second["mock_result"]) == ("shipped", "lost")
    assert second["parameter_conditions"] == [
        {"path": "order_id", "eval": {"type": "exact", "expected_value": "B-2"}}
    ]


def test_a_simulation_drafted_from_a_conversation_mocks_its_tool_results() -> None:
    body = draft_test(moment_at(CONVERSATION, 3), "simulation", tool_ids={"lookup_order": "t1"})
    assert body["tool_mock_config"] == dict(MOCK_ALL)
    assert body["tool_mock_overrides"] == {
        "t1": [{"mock_result": "not found", "is_error": True, "parameter_conditions": []}]
    }
