"""The conversions behind import and pull, tested directly (no network)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from convai_ops.conversions import (
    agent_file_data,
    declared_subset,
    local_test_name,
    remote_test_data,
)
from convai_ops.dicts import json_equal
from convai_ops.spec import canonical_json
from convai_ops.spec.openapi import component

CONVERSATION = component("ConversationalConfigAPIModel-Input")


def _digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(body)).hexdigest()[:8]


def test_json_equal_is_json_equality() -> None:
    assert json_equal({"a": [1, {"b": 0}]}, {"a": [1.0, {"b": 0.0}]})
    assert not json_equal(True, 1)
    assert not json_equal({"a": 1}, {"a": 1, "b": None})
    assert not json_equal([1], (1, 2))


def test_declared_subset_drops_unknown_keys_and_defaults() -> None:
    live = {
        "agent": {
            "first_message": "",  # default ""
            "language": "fr",
            "unknown_response_only": 1,
            "prompt": {"llm": "gemini-2.5-flash", "custom_llm": None, "tool_ids": []},
        },
        "asr": {"keywords": []},
        "language_presets": {"de": {"overrides": {}}},
    }

    reduced = declared_subset(live, CONVERSATION)

    # a preset's overrides are required: kept even though empty
    assert reduced == {"agent": {"language": "fr"}, "language_presets": {"de": {"overrides": {}}}}


def test_declared_subset_keeps_paths_asked_for_even_at_their_default() -> None:
    live = {"agent": {"first_message": "", "prompt": {"temperature": 0}}}
    keep = [("agent", "first_message"), ("agent", "prompt", "temperature")]
    assert declared_subset(live, CONVERSATION, keep) == live


def test_agent_file_data_splits_prompt_documents_and_tests() -> None:
    locator = {"type": "file", "name": "faq", "id": "doc1", "usage_mode": "auto"}
    live = {
        "agent_id": "agent_1",
        "name": "Bot",
        "tags": ["convai-ops:bot"],
        "conversation_config": {
            "agent": {"prompt": {"prompt": "Hi.", "knowledge_base": [locator]}}
        },
        "platform_settings": {"testing": {"attached_tests": [{"test_id": "t1"}]}, "ban": None},
    }

    data, prompt, notes = agent_file_data(live, "bot", "staging")

    assert prompt == "Hi."
    assert notes == []
    assert data == {
        "name": "Bot",
        "tags": [],
        "environments": {"staging": "agent_1"},
        "prompt_file": "prompt.md",
        "knowledge_base": [{"id": "doc1", "name": "faq"}],
    }


def test_a_prompt_ending_in_a_newline_stays_inline() -> None:
    live = {
        "agent_id": "a",
        "name": "A",
        "conversation_config": {"agent": {"prompt": {"prompt": "x\n"}}},
    }
    data, prompt, _ = agent_file_data(live, "a", "staging")
    assert prompt is None
    assert data["conversation_config"]["agent"]["prompt"]["prompt"] == "x\n"
    assert "prompt_file" not in data


@pytest.mark.parametrize(
    ("remote", "expected"),
    [
        ("support/refund-window #1a2b3c4d", ("refund-window", "1a2b3c4d")),
        ("support/a b/c #00000000", ("a b/c", "00000000")),
        ("Refund check", ("Refund check", None)),
        ("support/refund #XYZ", ("support/refund #XYZ", None)),
    ],
)
def test_local_test_name(remote: str, expected: tuple[str, str | None]) -> None:
    assert local_test_name(remote) == expected


BODY = {
    "type": "llm",
    "chat_history": [{"role": "user", "message": "Hi", "time_in_call_secs": 0}],
    "success_condition": 'Says "hello".',
    "dynamic_variables": {},  # written explicitly, although it is the default
}


def test_a_default_filled_test_body_is_reduced_to_the_one_with_its_hash() -> None:
    remote = {  # what the API answers: the body with every default filled in
        **BODY,
        "id": "t1",
        "name": f"support/greeting #{_digest(BODY)}",
        "success_examples": [],
        "failure_examples": [],
        "from_conversation_metadata": None,
    }

    name, data, exact = remote_test_data(remote)

    assert (name, exact) == ("greeting", True)
    assert data == BODY


def test_a_test_made_elsewhere_is_written_without_its_defaults() -> None:
    remote = {**BODY, "id": "t1", "name": "Greeting", "success_examples": [], "environment": None}
    name, data, exact = remote_test_data(remote)
    assert (name, exact) == ("Greeting", False)
    assert data == {k: v for k, v in BODY.items() if k != "dynamic_variables"}


def test_examples_become_plain_strings_only_when_nothing_is_lost() -> None:
    remote = {
        "type": "llm",
        "name": "x",
        "success_condition": "c",
        "success_examples": [{"response": "yes", "type": "success"}],
        "failure_examples": [{"response": "no", "type": "success"}],
    }
    data = remote_test_data(remote)[1]
    assert data["success_examples"] == ["yes"]
    assert data["failure_examples"] == [{"response": "no", "type": "success"}]


def test_values_the_api_reports_but_refuses_are_left_out_with_a_note() -> None:
    live = {
        "agent_id": "a",
        "name": "A",
        "conversation_config": {
            "agent": {"language": "fr", "prompt": {"temperature": "hot"}},
            "conversation": {"client_events": ["audio", "not-an-event"]},
        },
    }

    data, _, notes = agent_file_data(live, "a", "staging")

    assert data["conversation_config"] == {"agent": {"language": "fr"}}
    assert sorted(notes) == [
        "left out conversation_config.agent.prompt.temperature: the API reports a value it refuses",
        "left out conversation_config.conversation.client_events: "
        "the API reports a value it refuses",
    ]
