"""Property: what convai-ops writes as YAML (``import``, ``pull``) it reads back unchanged."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from convai_ops.spec import dump_yaml
from convai_ops.spec.yamlio import read_document

PRINTABLE = st.text(st.characters(exclude_categories=["Cs", "Cc"]), max_size=30)
ANY_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)
SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
)


def documents(text: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Nested mappings and lists of strings drawn from ``text`` and other scalars."""
    leaves = text | SCALARS
    values = st.recursive(
        leaves,
        lambda children: (
            st.lists(children, max_size=3) | st.dictionaries(text, children, max_size=3)
        ),
        max_leaves=10,
    )
    return st.dictionaries(text, values, max_size=4)


def _round_trip(data: dict[str, Any]) -> Any:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "agent.yaml"
        dump_yaml(data, path)
        return read_document(path).data


@settings(max_examples=200, deadline=None)
@given(documents(PRINTABLE))
def test_printable_text_reads_back_unchanged(data: dict[str, Any]) -> None:
    assert _round_trip(data) == data


@settings(max_examples=200, deadline=None)
@given(documents(ANY_TEXT))
@example({"first_message": "\x1f\n"})
@example({"first_message": "a\r\nb"})
@example({"\x85": "a\u2028b", "k": ["\ufeff\n", "\x7f"]})
@example({"prompt": "a\t\x01- " * 2000, "note": "word     " * 1000})  # past the width
def test_any_text_reads_back_unchanged(data: dict[str, Any]) -> None:
    assert _round_trip(data) == data
