"""Property test: generated malformed YAML, anywhere in a project, through `convai-ops validate`:
never a traceback, always exactly one line naming the file, always exit 1."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spec_helpers import SAMPLE, write_tree
from test_spec_property import mutations

from convai_ops.cli import main

FILES = (
    "convai-ops.yaml",
    "agents/support/agent.yaml",
    "agents/support/tests/refund.yaml",
    "agents/support/tests/lookup.yaml",
    "tools/lookup_order.yaml",
)
BROKEN = st.sampled_from(
    [
        "broken: [unclosed",
        "broken: {a: 1",
        "\ttabbed: 1",
        "deep: " + "[" * 80 + "]" * 80,
        "deep: " + "{a: " * 70 + "1" + "}" * 70,
        "alias: *nowhere",
        "tagged: !!python/object:os.system x",
        "- a list item under a mapping",
        "key: value: other",
        "bell: \x07",
        "nan: .nan",
        "'unterminated: 1",
        "@reserved: 1",
    ]
)
"""A last line that makes any file malformed, whatever the mutations before it left."""


@st.composite
def malformed(draw: st.DrawFn) -> tuple[str, str]:
    """``(file, text)``: one of :data:`FILES`, mutated, with a breaking line added somewhere."""
    relative = draw(st.sampled_from(FILES))
    lines = draw(mutations(SAMPLE[relative])).split("\n")
    at = draw(st.integers(0, len(lines)))
    lines[at:at] = [draw(BROKEN)]
    return relative, "\n".join(lines) + "\n"


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,  # the same examples on every run: a CI failure reproduces
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=malformed())
def test_malformed_yaml_fails_in_one_line_with_exit_1(
    sample: Path, case: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    relative, text = case
    write_tree(sample, SAMPLE)  # undo the previous example's file
    (sample / relative).write_text(text, encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["-C", str(sample), "validate"])
    out, err = capsys.readouterr()
    assert exit_info.value.code == 1, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {sample}"), err
    assert "Traceback" not in err and "internal error" not in err and out == ""
