"""The deepdiff walk behind :func:`convai_ops.field_diff.field_changes`, in a module of its own so
that deepdiff is imported only when two views differ (a plan with no change never imports it).

Pure functions on JSON-like values; no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from deepdiff import DeepDiff
from deepdiff.helper import notpresent
from deepdiff.operator import BaseOperator

from convai_ops.dicts import json_equal
from convai_ops.field_diff import RawChange, identity_key, item_segment

__all__ = ["walk_changes"]

_MOVED = "iterable_item_moved"


def walk_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[RawChange]:
    """:func:`convai_ops.field_diff.field_changes`: the differences turning ``before`` into
    ``after`` as :class:`RawChange` values, sorted by path."""
    keys = _KeyCache()
    left, right = _differing(before, after)
    tree = DeepDiff(
        left,
        right,
        view="tree",
        custom_operators=[_Leaves(keys)],
        iterable_compare_func=keys.same_item,
        threshold_to_diff_deeper=0,
        report_repetition=True,  # keeps an added and a removed item apart
    )
    found: dict[tuple[str, ...], RawChange] = {}
    for report, levels in tree.items():
        for level in levels:
            change = _reorder(level.up, keys) if report == _MOVED else _change(level, keys)
            if change is not None:
                found[change.path] = change
    return [found[path] for path in sorted(found)]


def _differing(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Both mappings without the keys whose values are equal on both sides, mappings below
    reduced the same way: deepdiff would report nothing there, yet it would still walk them
    (most of a changed agent is unchanged). Lists are kept whole (items are matched)."""
    left, right = dict(before), dict(after)
    for key in before.keys() & after.keys():
        old, new = before[key], after[key]
        if json_equal(old, new):
            del left[key], right[key]
        elif isinstance(old, Mapping) and isinstance(new, Mapping):
            left[key], right[key] = _differing(old, new)
    return left, right


class _KeyCache:
    """The identity key of each list pair deepdiff meets during one diff (by object id)."""

    def __init__(self) -> None:
        self._keys: dict[tuple[int, int], str | None] = {}

    def key(self, left: Sequence[Any], right: Sequence[Any]) -> str | None:
        pair = (id(left), id(right))
        if pair not in self._keys:
            self._keys[pair] = identity_key(left, right)
        return self._keys[pair]

    def same_item(self, left: Any, right: Any, level: Any) -> bool:
        key = self.key(level.t1, level.t2)
        return key is not None and str(left[key]) == str(right[key])


class _Leaves(BaseOperator):
    """Makes deepdiff compare whole every value but dicts and lists of identified items, and
    skip any subtree equal on both sides (nothing to report below it)."""

    def __init__(self, keys: _KeyCache) -> None:
        super().__init__()
        self._keys = keys
        self._equal: Any = None  # the last level found equal by match()

    def match(self, level: Any) -> bool:
        left, right = level.t1, level.t2
        if isinstance(left, Mapping) and isinstance(right, Mapping):
            return self._is_equal(level)
        if isinstance(left, list) and isinstance(right, list):
            return self._keys.key(left, right) is None or self._is_equal(level)
        return True

    def _is_equal(self, level: Any) -> bool:
        if json_equal(level.t1, level.t2):
            self._equal = level
            return True
        return False

    def give_up_diffing(self, level: Any, diff_instance: Any) -> bool:
        if level is not self._equal and not json_equal(level.t1, level.t2):
            diff_instance.custom_report_result("values_changed", level, {})
        return True

    def normalize_value_for_hashing(self, parent: Any, obj: Any) -> Any:
        """Values are hashed as they are (deepdiff hashes items to match lists)."""
        return obj


def _change(level: Any, keys: _KeyCache) -> RawChange:
    path = _path(level, keys)
    if level.t1 is notpresent:
        return RawChange(path, "add", None, level.t2)
    if level.t2 is notpresent:
        return RawChange(path, "remove", level.t1, None)
    return RawChange(path, "change", level.t1, level.t2)


def _reorder(level: Any, keys: _KeyCache) -> RawChange | None:
    """A ``reorder`` of the list at ``level`` when its common items changed order (deepdiff
    also reports an item as moved when only an insertion or removal shifted it)."""
    key = keys.key(level.t1, level.t2)
    old = [str(item[key]) for item in level.t1]
    new = [str(item[key]) for item in level.t2]
    common = set(old) & set(new)
    if [i for i in old if i in common] == [i for i in new if i in common]:
        return None
    return RawChange(_path(level, keys), "reorder", old, new)


def _path(level: Any, keys: _KeyCache) -> tuple[str, ...]:
    """The keys from the root to ``level``, an item of a list named by its identity."""
    segments: list[str] = []
    while level.up is not None:
        parent = level.up
        if isinstance(parent.t1, list):
            item = level.t2 if level.t1 is notpresent else level.t1
            segments.append(item_segment(str(item[keys.key(parent.t1, parent.t2)])))
        else:
            relation = parent.t1_child_rel or parent.t2_child_rel
            segments.append(str(relation.param))
        level = parent
    return tuple(reversed(segments))
