"""Operations on nested agent configs (``conversation_config``, ``platform_settings``, ...).

- :func:`deep_merge`: objects merge key by key, anything else (lists, scalars) is replaced.
  This is the emulator's assumption for ``PATCH /v1/convai/agents/{agent_id}`` and for branch
  creation; the API document does not say whether nested objects merge or are replaced.
- :func:`flatten` / :func:`unflatten`: a config as ``{("agent", "prompt", "prompt"): value}``
  leaves (a list or an empty object is a leaf).
- :func:`three_way`: the leaf-by-leaf three-way merge used by merge and merge-preview.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from convai_ops.dicts import deep_merge

__all__ = ["MISSING", "Conflict", "Path", "deep_merge", "flatten", "three_way", "unflatten"]

Path = tuple[str, ...]
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()


@dataclass(frozen=True)
class Conflict:
    """A leaf both sides changed differently since the common ancestor (MISSING = absent)."""

    path: Path
    base: Any
    source: Any
    target: Any


def flatten(tree: dict[str, Any], prefix: Path = ()) -> dict[Path, Any]:
    """Return the leaves of ``tree`` keyed by their key path."""
    leaves: dict[Path, Any] = {}
    for key, value in tree.items():
        path = (*prefix, key)
        if isinstance(value, dict) and value:
            leaves.update(flatten(value, path))
        else:
            leaves[path] = value
    return leaves


def unflatten(leaves: dict[Path, Any]) -> dict[str, Any]:
    """Rebuild a tree from :func:`flatten` leaves (MISSING leaves are left out)."""
    tree: dict[str, Any] = {}
    for path, value in leaves.items():
        if value is MISSING:
            continue
        node = tree
        for key in path[:-1]:
            if not isinstance(node.get(key), dict):
                node[key] = {}
            node = node[key]
        if not (value == {} and isinstance(node.get(path[-1]), dict)):
            node[path[-1]] = copy.deepcopy(value)
    return tree


def three_way(
    base: dict[str, Any], source: dict[str, Any], target: dict[str, Any], *, source_wins: bool
) -> tuple[dict[str, Any], list[Conflict]]:
    """Merge ``source`` into ``target`` relative to their common ancestor ``base``.

    Per leaf: unchanged on one side -> the other side's value; changed identically -> that value;
    changed differently -> a :class:`Conflict`, resolved to the source value when
    ``source_wins`` and to the target value otherwise. Returns ``(merged, conflicts)``.
    """
    flat = [flatten(tree) for tree in (base, source, target)]
    merged: dict[Path, Any] = {}
    conflicts: list[Conflict] = []
    for path in _union(flat):
        b, s, t = (leaves.get(path, MISSING) for leaves in flat)
        if _same(s, t) or _same(s, b):
            merged[path] = t
        elif _same(t, b):
            merged[path] = s
        else:
            conflicts.append(Conflict(path, b, s, t))
            merged[path] = s if source_wins else t
    return unflatten(merged), conflicts


def _same(left: Any, right: Any) -> bool:
    if left is MISSING or right is MISSING:
        return left is right
    return json.dumps(left, sort_keys=True) == json.dumps(right, sort_keys=True)


def _union(flat: list[dict[Path, Any]]) -> list[Path]:
    seen: dict[Path, None] = {}
    for leaves in (flat[2], flat[1], flat[0]):
        seen.update(dict.fromkeys(leaves))
    return list(seen)
