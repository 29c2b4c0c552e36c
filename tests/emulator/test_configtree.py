"""Deep merge and the three-way merge of configs."""

from __future__ import annotations

from typing import Any

from convai_ops.emulator.configtree import MISSING, Conflict, deep_merge, flatten, three_way


def test_deep_merge_merges_objects_and_replaces_lists() -> None:
    base: dict[str, Any] = {
        "agent": {"prompt": {"prompt": "a", "tool_ids": ["x", "y"]}, "language": "en"}
    }
    change = {"agent": {"prompt": {"tool_ids": ["z"]}}}
    assert deep_merge(base, change) == {
        "agent": {"prompt": {"prompt": "a", "tool_ids": ["z"]}, "language": "en"}
    }
    assert base["agent"]["prompt"]["tool_ids"] == ["x", "y"]


def test_flatten_keeps_lists_and_empty_objects_as_leaves() -> None:
    assert flatten({"a": {"b": [1], "c": {}}, "d": 1}) == {
        ("a", "b"): [1],
        ("a", "c"): {},
        ("d",): 1,
    }


def test_three_way_takes_each_sides_changes() -> None:
    base = {"p": "old", "t": 0, "l": "en"}
    merged, conflicts = three_way(
        base, {"p": "new", "t": 0, "l": "en"}, {"p": "old", "t": 1, "l": "en"}, source_wins=False
    )
    assert merged == {"p": "new", "t": 1, "l": "en"}
    assert conflicts == []


def test_three_way_conflict_resolution() -> None:
    base, source, target = {"p": "old"}, {"p": "mine"}, {"p": "theirs"}
    merged, conflicts = three_way(base, source, target, source_wins=False)
    assert merged == {"p": "theirs"}
    assert conflicts == [Conflict(("p",), "old", "mine", "theirs")]
    assert three_way(base, source, target, source_wins=True)[0] == {"p": "mine"}


def test_three_way_same_change_is_no_conflict_and_additions_merge() -> None:
    merged, conflicts = three_way({}, {"a": 1, "b": 2}, {"a": 1, "c": {"d": 3}}, source_wins=False)
    assert merged == {"a": 1, "b": 2, "c": {"d": 3}}
    assert conflicts == []


def test_three_way_distinguishes_true_from_one() -> None:
    merged, conflicts = three_way({"x": 1}, {"x": True}, {"x": 1}, source_wins=False)
    assert merged == {"x": True}
    assert conflicts == []
    assert three_way({"x": 1}, {}, {"x": 2}, source_wins=False)[1][0].source is MISSING


def test_deep_merge_result_shares_nothing_with_its_inputs() -> None:
    base: dict[str, Any] = {"a": {"keep": [1], "over": {"x": 1}}, "b": 1}
    patch: dict[str, Any] = {"a": {"over": {"y": [2]}}, "c": {"new": [3]}}
    merged = deep_merge(base, patch)
    assert merged == {"a": {"keep": [1], "over": {"x": 1, "y": [2]}}, "b": 1, "c": {"new": [3]}}
    assert list(merged) == ["a", "b", "c"]
    merged["a"]["keep"].append(9)
    merged["a"]["over"]["y"].append(9)
    merged["c"]["new"].append(9)
    assert base == {"a": {"keep": [1], "over": {"x": 1}}, "b": 1}
    assert patch == {"a": {"over": {"y": [2]}}, "c": {"new": [3]}}
