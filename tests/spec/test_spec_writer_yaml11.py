"""dump_yaml and update_yaml write strings that a YAML 1.1 reader (PyYAML, many editors and CI
tools) reads back as the same strings: a plain ``no`` would be ``false`` there, ``1:20`` the
number 80, ``2001-12-14`` a date. The YAML 1.2 reading side (ruamel) must agree."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from convai_ops.spec import dump_yaml, update_yaml
from convai_ops.spec.yamlio import read_document

WORDS = ["y", "n", "yes", "no", "on", "off", "true", "false", "~", "null", ".inf", ".nan", "<<"]
TYPED_LOOKING = st.one_of(
    st.sampled_from(WORDS).flatmap(
        lambda word: st.builds(
            lambda flips: "".join(c.upper() if f else c for c, f in zip(word, flips, strict=False)),
            st.lists(st.booleans(), min_size=len(word), max_size=len(word)),
        )
    ),
    st.from_regex(r"\A[-+]?(0b[01_]{1,4}|0o?[0-7_]{1,4}|0x[0-9a-fA-F_]{1,4}|[0-9_]{1,6})\Z"),
    st.from_regex(r"\A[-+]?[0-9]{1,3}(:[0-5]?[0-9]){1,2}(\.[0-9]{0,2})?\Z"),
    st.from_regex(r"\A[-+]?[0-9]{0,3}\.[0-9]{0,3}([eE][-+]?[0-9]{1,2})?\Z"),
    st.from_regex(r"\A[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ][0-9]{1,2}:[0-9]{2}:[0-9]{2}Z?)?\Z"),
)
TEXT = TYPED_LOOKING | st.text(st.characters(exclude_categories=["Cs"]), max_size=12)


def _readers(path: Path) -> tuple[Any, Any, Any]:
    """The file as PyYAML (YAML 1.1), ruamel's safe loader (1.2) and convai-ops read it."""
    text = path.read_text("utf-8")
    return yaml.safe_load(text), YAML(typ="safe", pure=True).load(text), read_document(path).data


@pytest.mark.parametrize(
    "word", ["no", "No", "NO", "y", "off", "~", "null", "0o17", "0x1F", "1_000", "1:20", "1.5",
             ".inf", "-.Inf", ".NaN", "1e5", "2001-12-14", "2001-12-14 21:59:43.10 -5", "<<", "="],
)  # fmt: skip
def test_a_typed_looking_string_is_quoted_as_key_and_value(tmp_path: Path, word: str) -> None:
    path = tmp_path / "agent.yaml"
    dump_yaml({"language_presets": {word: {"first_message": word}}}, path)

    expected = {"language_presets": {word: {"first_message": word}}}
    assert _readers(path) == (expected, expected, expected)
    assert path.read_text("utf-8").count(f'"{word}"') == 2


def test_update_quotes_plain_keys_and_values_a_yaml11_reader_misreads(tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text("# presets\nno: on  # Norwegian\nen: hello\n", "utf-8")

    update_yaml(path, {"no": "on", "en": "hello", "de": "off"})

    assert _readers(path)[0] == {"no": "on", "en": "hello", "de": "off"}
    assert path.read_text("utf-8").startswith('# presets\n"no": "on"')


@settings(max_examples=300, deadline=None)
@given(key=TEXT, value=TEXT)
@example(key="no", value="yes")
@example(key="1:20", value="0o17")
def test_written_strings_read_back_the_same_with_yaml11_and_yaml12(key: str, value: str) -> None:
    data = {"presets": {key: value}, "items": [value]}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "agent.yaml"
        dump_yaml(data, path)
        assert _readers(path) == (data, data, data)
        update_yaml(path, {**data, "added": {value: key}})
        again = {**data, "added": {value: key}}
        assert _readers(path) == (again, again, again)
