"""``json_equal`` answers the same with its shortcut for identical values as by its walk."""

from __future__ import annotations

from collections import OrderedDict

import pytest

from convai_ops.dicts import json_equal

CASES = [
    ({"a": [{"b": 1}]}, {"a": [{"b": 1}]}, True),
    ({"a": [{"b": 1}]}, {"a": [{"b": 1.0}]}, True),  # 1 == 1.0: other bytes, equal by the walk
    ({"a": [{"b": True}]}, {"a": [{"b": 1}]}, False),  # True != 1, however deep
    ({"a": [{"b": 1}]}, {"a": [{"b": True}]}, False),
    ({"b": 1, "a": 2}, {"a": 2, "b": 1}, True),  # key order does not matter
    ([1, 2], (1, 2), True),
    ({"a": [1, 2]}, {"a": [2, 1]}, False),
    ({"a": None}, {}, False),
    (OrderedDict(a=[True]), {"a": [True]}, True),  # not plain built-ins: walked
    (OrderedDict(a=[True]), {"a": [1]}, False),
]


@pytest.mark.parametrize(("left", "right", "equal"), CASES)
def test_json_equal(left: object, right: object, equal: bool) -> None:
    assert json_equal(left, right) is equal
    assert json_equal(right, left) is equal
