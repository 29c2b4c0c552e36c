"""Property tests: whatever a file holds, loading fails only with a one-line SpecError."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spec_helpers import SAMPLE

from convai_ops.errors import SpecError
from convai_ops.spec import load_project
from convai_ops.spec.yamlio import _fast_data, _parse, _plain

AGENT = "agents/support/agent.yaml"
TEST = "agents/support/tests/refund.yaml"
YAML_CHARS = ":-[]{},#&*!|>'\"%@`?~ \n\t\\xy0"
SCALARS = st.one_of(
    st.sampled_from(
        [
            "~",
            "null",
            "true",
            "-1",
            "0",
            "1e309",
            ".nan",
            "[]",
            "{}",
            "'x'",
            '"\\x00"',
            "!!binary aGk=",
            "!foo x",
            "!!set {a}",
            "&a x",
            "*a",
            "*zz",
            "2024-01-01",
            "|",
            ">",
            "- x",
            "? x",
            "[[",
            "<<: {a: 1}",
        ]
    ),
    st.integers().map(str),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12).map(json.dumps),
)
SLOW = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@st.composite
def mutations(draw: st.DrawFn, text: str) -> str:
    """``text`` with a few characters deleted or inserted, or a scalar value replaced."""
    for _ in range(draw(st.integers(1, 4))):
        operation = draw(st.sampled_from(["delete", "insert", "scalar"]))
        start = draw(st.integers(0, len(text)))
        if operation == "delete":
            text = text[:start] + text[draw(st.integers(start, min(len(text), start + 8))) :]
        elif operation == "insert":
            inserted = draw(st.text(alphabet=YAML_CHARS, min_size=1, max_size=6))
            text = text[:start] + inserted + text[start:]
        else:
            values = list(re.finditer(r"(?<=: )[^\n{}\[\],]+", text))
            if values:
                value = draw(st.sampled_from(values))
                text = text[: value.start()] + draw(SCALARS) + text[value.end() :]
    return text


def _check_only_spec_errors(root: Path, relative: str, text: str) -> None:
    (root / relative).write_text(text, encoding="utf-8")
    try:
        load_project(root)
    except SpecError as error:
        message = str(error)
        assert "\n" not in message
        assert message.startswith(str(error.path))
        assert error.path.is_relative_to(root)


@SLOW
@given(text=mutations(SAMPLE[AGENT]))
def test_mutated_agent_yaml_fails_only_with_spec_error(sample: Path, text: str) -> None:
    _check_only_spec_errors(sample, AGENT, text)


@SLOW
@given(text=mutations(SAMPLE[TEST]))
def test_mutated_test_yaml_fails_only_with_spec_error(sample: Path, text: str) -> None:
    _check_only_spec_errors(sample, TEST, text)


@pytest.mark.skipif(
    importlib.util.find_spec("_ruamel_yaml") is None, reason="ruamel.yaml.clib not installed"
)
@SLOW
@given(text=mutations(SAMPLE[AGENT]))
def test_c_parser_and_round_trip_parser_agree(tmp_path: Path, text: str) -> None:
    path = tmp_path / "agent.yaml"
    fast = _fast_data(path, text)
    if fast is None:
        return
    tree = _parse(path, text)  # must not raise: the C path accepted the text
    assert (_plain(tree, path, (1, 1)) if tree is not None else {}) == fast
