"""docs/api-behaviour.md names, for every assumption about the API, the test that checks it:
each named test must exist, and every row must name a source, whether the behaviour is stated
or inferred (or not the API's: a choice of convai-ops), and at least one test."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "api-behaviour.md"
_REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::([\w:]+)(?:\[[^\]`]*\])?`")


def _rows() -> list[str]:
    lines = DOC.read_text("utf-8").splitlines()
    return [line for line in lines if line.startswith("| ") and not line.startswith("| behav")]


def test_every_named_test_exists() -> None:
    missing = []
    for path, name in _REFERENCE.findall(DOC.read_text("utf-8")):
        source = REPO / path
        parts = name.split("::")
        text = source.read_text("utf-8") if source.exists() else ""
        found = all(re.search(rf"^\s*(def|class) {re.escape(p)}\b", text, re.M) for p in parts)
        if not found:
            missing.append(f"{path}::{name}")
    assert missing == []


def test_every_row_names_a_source_kind_and_test() -> None:
    rows = _rows()
    assert len(rows) >= 40
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split(" | ")]
        assert len(cells) == 5, row[:80]
        behaviour, source, kind, _, tests = cells
        assert behaviour and source, row[:80]
        assert re.search(r"stated|inferred|not API behaviour", kind), row[:80]
        assert _REFERENCE.search(tests), row[:80]
