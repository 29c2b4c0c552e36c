"""The diff walks only what differs: equal keys on both sides report nothing, and changes
below them keep their full paths."""

from __future__ import annotations

from convai_ops.field_diff import field_changes

SAME = {"language": "en", "tts": {"voice_id": "v", "stability": 0.5}}


def test_only_what_differs_is_reported_with_its_full_path() -> None:
    before = {
        "conversation_config": {
            **SAME,
            "agent": {"prompt": {"prompt": "Old.", "temperature": 0.1}, "first_message": "Hi"},
        },
        "platform_settings": {"evaluation": {"criteria": [{"id": "a"}, {"id": "b"}]}},
        "tags": ["x"],
    }
    after = {
        "conversation_config": {
            **SAME,
            "agent": {"prompt": {"prompt": "New.", "temperature": 0.1}, "first_message": "Hi"},
        },
        "platform_settings": {"evaluation": {"criteria": [{"id": "b"}, {"id": "a"}]}},
        "tags": ["x"],
        "name": "Added",
    }
    changes = {(c.path, c.kind, str(c.before), str(c.after)) for c in field_changes(before, after)}
    assert changes == {
        (("conversation_config", "agent", "prompt", "prompt"), "change", "Old.", "New."),
        (
            ("platform_settings", "evaluation", "criteria"),
            "reorder",
            "['a', 'b']",
            "['b', 'a']",
        ),
        (("name",), "add", "None", "Added"),
    }


def test_a_value_turned_from_int_to_bool_is_still_a_change() -> None:
    changes = field_changes({"a": {"b": 1, "c": 2}}, {"a": {"b": True, "c": 2}})
    assert [(c.path, c.before, c.after) for c in changes] == [(("a", "b"), 1, True)]
