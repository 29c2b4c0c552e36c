"""Small helpers on JSON-like values: ``deep_merge`` (spec overrides, the emulator's PATCH) and
``json_equal`` (the plan's diff, import and pull)."""

from __future__ import annotations

import copy
import marshal
from collections.abc import Mapping
from typing import Any

__all__ = ["deep_merge", "json_equal"]


def deep_merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """A new dict: ``patch`` over ``base``; mappings merge key by key, anything else (lists,
    scalars) replaces. The inputs are not modified and share nothing with the result; keys keep
    ``base``'s order, keys new in ``patch`` follow. Every value is copied once."""
    merged: dict[str, Any] = {}
    for key, value in base.items():
        if key not in patch:
            merged[key] = copy.deepcopy(value)
        elif isinstance(value, dict) and isinstance(patch[key], dict):
            merged[key] = deep_merge(value, patch[key])
        else:
            merged[key] = copy.deepcopy(patch[key])
    for key, value in patch.items():
        if key not in base:
            merged[key] = copy.deepcopy(value)
    return merged


def json_equal(left: Any, right: Any) -> bool:
    """Equality of JSON values: ``1 == 1.0`` but ``True != 1``; mappings by keys and values,
    lists (or tuples) in order.

    Values made of exactly the same built-in types and values (their ``marshal`` bytes are
    equal: the common case of a plan with nothing to change) are equal without a walk (so a
    NaN, which JSON has not, equals itself there)."""
    if _same_bytes(left, right):
        return True
    return _walk_equal(left, right)


def _same_bytes(left: Any, right: Any) -> bool:
    try:
        return marshal.dumps(left) == marshal.dumps(right)
    except ValueError:  # not built-in values only (a mapping class, a model): walk
        return False


def _walk_equal(left: Any, right: Any) -> bool:
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        return left.keys() == right.keys() and all(_walk_equal(left[k], right[k]) for k in left)
    if isinstance(left, list | tuple) and isinstance(right, list | tuple):
        return len(left) == len(right) and all(map(_walk_equal, left, right))
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    return bool(left == right)
