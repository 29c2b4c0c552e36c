"""Small helpers on JSON-like dicts shared by the spec (overrides) and the emulator (PATCH)."""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["deep_merge"]


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
