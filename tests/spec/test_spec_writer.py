"""dump_yaml / update_yaml: what import and pull write."""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml import YAML

from convai_ops.spec import SCHEMA_HEADER, dump_yaml, update_yaml


def _load(path: Path) -> object:
    return YAML(typ="safe").load(path.read_text("utf-8"))


def test_dump_writes_header_and_literal_blocks(tmp_path: Path) -> None:
    path = tmp_path / "agents" / "a" / "agent.yaml"
    data = {"name": "A", "conversation_config": {"agent": {"prompt": {"prompt": "one\ntwo\n"}}}}
    dump_yaml(data, path, header=SCHEMA_HEADER["agent"])
    text = path.read_text("utf-8")
    assert text.startswith(SCHEMA_HEADER["agent"] + "\nname: A\n")
    assert "prompt: |" in text
    assert _load(path) == data


def test_update_keeps_comments_and_order(tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text(
        "# the support agent\n"
        "name: Support  # shown in the dashboard\n"
        "tags: [a, b]\n"
        "conversation_config:\n"
        "  agent:\n"
        "    # keep it short\n"
        "    first_message: 'Hi'\n"
        "    language: en\n"
        "prune: false\n"
    )
    update_yaml(
        path,
        {
            "name": "Support",
            "tags": ["a", "b"],
            "conversation_config": {"agent": {"first_message": "Hello", "language": "en"}},
            "platform_settings": {"call_limits": {"daily_limit": 5}},
        },
    )
    text = path.read_text("utf-8")
    assert text.startswith("# the support agent\nname: Support  # shown in the dashboard\n")
    assert "    # keep it short\n    first_message: 'Hello'\n" in text  # quoting kept
    assert "tags: [a, b]\n" in text
    assert "prune" not in text
    assert text.index("conversation_config") < text.index("platform_settings")
    assert _load(path) == {
        "name": "Support",
        "tags": ["a", "b"],
        "conversation_config": {"agent": {"first_message": "Hello", "language": "en"}},
        "platform_settings": {"call_limits": {"daily_limit": 5}},
    }


def test_update_leaves_an_unchanged_file_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "test.yaml"
    original = "# a test\nsuccess_condition: 'quoted'   # why\nrepeat: 3\n"
    path.write_text(original)
    update_yaml(path, {"success_condition": "quoted", "repeat": 3})
    assert path.read_text("utf-8") == original


def test_update_creates_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "new" / "agent.yaml"
    update_yaml(path, {"name": "New"})
    assert _load(path) == {"name": "New"}
