"""dump_yaml picks a style that reads back unchanged: ``|`` blocks for clean multi-line text,
double quotes (escapes) for text holding controls, CR, NEL, LS, PS or a BOM; never folded."""

from __future__ import annotations

from pathlib import Path

import pytest

from convai_ops.spec import dump_yaml, update_yaml
from convai_ops.spec.yamlio import read_document


def _written(tmp_path: Path, value: str) -> str:
    path = tmp_path / "agent.yaml"
    dump_yaml({"first_message": value}, path)
    assert read_document(path).data == {"first_message": value}
    return path.read_text("utf-8")


def test_clean_multi_line_text_is_a_literal_block(tmp_path: Path) -> None:
    assert _written(tmp_path, "Hello.\n\tHow can I help?\n") == (
        "first_message: |\n  Hello.\n  \tHow can I help?\n"
    )


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("a\x1f\nb", "\\x1F"),
        ("a\x00\nb", "\\0"),
        ("a\x7f\nb", "\\x7F"),
        ("a\x9b\nb", "\\x9B"),
        ("a\r\nb", "\\r"),
        ("a\x85\nb", "\\N"),
        ("a\u2028\nb", "\\L"),
        ("a\u2029\nb", "\\P"),
        ("\ufeffa\nb", "\\uFEFF"),
        ("a\x85b", "\\N"),  # one line: NEL would otherwise be a line break in quotes too
    ],
)
def test_text_a_block_cannot_carry_is_double_quoted(
    tmp_path: Path, value: str, escaped: str
) -> None:
    text = _written(tmp_path, value)

    assert text.startswith('first_message: "') and escaped in text
    assert text.count("\n") == 1


def test_an_escaped_key_is_double_quoted(tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    dump_yaml({"a\x85b": 1}, path)
    update_yaml(path, {"a\x85b": 1, "c\u2028": 2})

    text = path.read_text("utf-8")
    assert '"a\\Nb"' in text and '"c\\L"' in text  # as complex keys (? ...): still YAML
    assert read_document(path).data == {"a\x85b": 1, "c\u2028": 2}


@pytest.mark.parametrize(
    "value",
    ["a " * 2500 + "end", "say" + "  hello" * 1500, 'x\x01 "' * 2000, "it's  " * 1500 + "x"],
)
def test_long_text_is_never_folded(tmp_path: Path, value: str) -> None:
    assert _written(tmp_path, value).count("\n") == 1
