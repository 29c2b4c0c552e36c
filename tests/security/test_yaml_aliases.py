"""Anchors and aliases are capped: a "billion laughs" file is refused at the alias that goes past
:data:`ALIAS_LIMIT`, quickly and in little memory, before anything is expanded; ordinary anchors,
aliases and ``<<`` merge keys still load."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from convai_ops.errors import SpecError
from convai_ops.spec import load_project
from convai_ops.spec.yamlio import ALIAS_LIMIT, read_document


def _laughs(levels: int, width: int = 9) -> str:
    """``a0`` holds ``width`` strings; each ``aN`` holds ``width`` aliases of ``a(N-1)``."""
    lines = ["name: Acme", f"a0: &a0 [{', '.join(['lol'] * width)}]"]
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def _merges(levels: int, width: int = 9) -> str:
    """Each mapping merges ``width`` aliases of the one before (``<<: [*m0, *m0, ...]``)."""
    lines = ["m0: &m0 {k: v}"]
    for level in range(1, levels):
        merged = ", ".join([f"*m{level - 1}"] * width)
        lines.append(f"m{level}: &m{level} {{<<: [{merged}], x{level}: 1}}")
    return "\n".join(lines) + "\n"


def _read_refused(path: Path, text: str) -> SpecError:
    path.write_text(text, encoding="utf-8")
    # Memory, not time, shows the document was never expanded (timings are not asserted in
    # pytest; an expansion would also run into the suite's per-test timeout).
    tracemalloc.start()
    try:
        with pytest.raises(SpecError) as caught:
            read_document(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000, f"peak {peak} bytes"
    return caught.value


def test_billion_laughs_is_refused_at_the_alias_past_the_cap(tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"

    error = _read_refused(path, _laughs(10))  # 9**10 strings if expanded

    # a0..a4 stand for 10, 91, 820, 7381 and 66430 values; defining a1..a4 repeats 74718,
    # so the first *a4 (in a5, line 7, after "a5: &a5 [") takes the count past 100000.
    assert ALIAS_LIMIT == 100_000
    assert (error.path, error.line, error.column, error.field) == (path, 7, 10, "a5[0]")
    assert "alias *a4" in error.reason and str(ALIAS_LIMIT) in error.reason
    assert str(error).startswith(f"{path}:7:10: a5[0]: ")
    assert "\n" not in str(error)


def test_merge_key_bomb_is_refused(tmp_path: Path) -> None:
    # The C parser would expand these merges exponentially while constructing: files that
    # may hold an alias must go to the counting round-trip parser.
    error = _read_refused(tmp_path / "agent.yaml", _merges(12))

    assert "alias *m" in error.reason
    assert error.field.startswith("m") and ".<<[" in error.field


def test_billion_laughs_in_a_project_is_refused_with_the_file(tmp_path: Path) -> None:
    agent = tmp_path / "agents" / "support" / "agent.yaml"
    agent.parent.mkdir(parents=True)
    agent.write_text(_laughs(10), encoding="utf-8")

    with pytest.raises(SpecError) as caught:
        load_project(tmp_path)

    assert (caught.value.path, caught.value.line, caught.value.field) == (agent, 7, "a5[0]")


def test_the_cap_counts_every_value_under_the_anchor(tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    anchor = "big: &big [" + ", ".join(["x"] * 999) + "]"  # 1000 values: the list and 999
    uses = ALIAS_LIMIT // 1000

    path.write_text(anchor + "".join(f"\nb{n}: *big" for n in range(uses)) + "\n")
    assert len(read_document(path).data) == uses + 1  # exactly at the cap: accepted

    path.write_text(anchor + "".join(f"\nb{n}: *big" for n in range(uses + 1)) + "\n")
    with pytest.raises(SpecError) as caught:
        read_document(path)
    assert (caught.value.line, caught.value.column) == (uses + 2, len(f"b{uses}: ") + 1)
    assert caught.value.field == f"b{uses}"


@pytest.mark.parametrize(
    ("text", "where"),
    [("a: &a [x, *a]\n", (1, 11, "a[1]")), ("a: &a\n  b: {c: *a}\n", (2, 10, "a.b.c"))],
)
def test_an_alias_inside_its_own_anchor_is_refused(
    tmp_path: Path, text: str, where: tuple[int, int, str]
) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text(text)

    with pytest.raises(SpecError) as caught:
        read_document(path)

    assert (caught.value.line, caught.value.column, caught.value.field) == where
    assert "alias *a is used inside its own anchor" in caught.value.reason


def test_ordinary_anchors_aliases_and_merge_keys_still_load(tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text(
        "defaults: &defaults {llm: gemini-2.5-flash, temperature: 0}\n"
        "limits: &limits\n"
        "  call_limits: {daily_limit: 5}\n"
        "staging: *limits\n"
        "production: *limits\n"
        "prompt: {<<: *defaults, temperature: 0.3}\n"
        "language: &en en\n"
        "fallback: *en\n"
    )

    data = read_document(path).data

    assert data["staging"] == data["production"] == {"call_limits": {"daily_limit": 5}}
    assert data["staging"] is not data["production"]  # plain copies, not shared objects
    assert data["prompt"] == {"llm": "gemini-2.5-flash", "temperature": 0.3}
    assert data["fallback"] == "en"
