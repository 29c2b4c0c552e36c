"""Field-by-field differences between two JSON views, lists of objects matched by identity.

:func:`field_changes` walks both views with deepdiff (imported on the first walk only). A dict is
walked key by key. A list whose items are all objects sharing an identity (:func:`identity_key`:
``id``, else ``name``, else ``node_id`` ... as :data:`IDENTITY_KEYS` orders them) is matched item by
item on it through deepdiff's ``iterable_compare_func``: an item is added, removed or changed field
by field, and a list whose common items changed order is one ``reorder`` change (the API keeps a
list's order, so a reorder is a change). Such an item is named in a path by a segment
``[<identity>]`` (:func:`item_segment`), e.g. ``("platform_settings", "evaluation", "criteria",
"[greeted]", "conversation_goal_prompt")``. Every other value, lists without an identity (or with
repeated ones) included, is a leaf compared whole as JSON values (``dicts.json_equal``: ``1 ==
1.0``, ``True != 1``).

Pure functions on JSON-like values; no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Literal, NamedTuple

__all__ = [
    "IDENTITY_KEYS",
    "ChangeKind",
    "RawChange",
    "added_leaves",
    "dotted",
    "field_changes",
    "identity_key",
    "is_item_segment",
    "item_segment",
]

#: Keys that name a list item, in order of preference. Taken from the schema's lists of
#: objects: evaluation criteria and knowledge-base locators (``id``), tools and guardrails
#: (``name``), transfers (``node_id``), workflow tool nodes' tools (``tool_id``), attached
#: tests (``test_id``), tool assignments (``dynamic_variable``), SIP headers (``key``),
#: supported voices (``label``), host allowlists (``hostname``).
IDENTITY_KEYS = (
    "id",
    "name",
    "node_id",
    "tool_id",
    "test_id",
    "dynamic_variable",
    "key",
    "label",
    "hostname",
)

ChangeKind = Literal["add", "change", "remove", "reorder"]


class RawChange(NamedTuple):
    """One difference: ``path`` (keys and item segments), ``kind``, and the values on each
    side (``None`` on the side where the path is missing; for ``reorder``, the item
    identities in order)."""

    path: tuple[str, ...]
    kind: ChangeKind
    before: Any
    after: Any


def item_segment(identity: str) -> str:
    """The path segment naming a list item: ``[greeted]``."""
    return f"[{identity}]"


def is_item_segment(segment: str) -> bool:
    """True for a segment made by :func:`item_segment`."""
    return segment.startswith("[") and segment.endswith("]")


def dotted(path: Sequence[str]) -> str:
    """``path`` as ``platform_settings.evaluation.criteria[greeted].name``."""
    text = ""
    for segment in path:
        text += segment if is_item_segment(segment) or not text else f".{segment}"
    return text


def identity_key(*lists: Sequence[Any]) -> str | None:
    """The first of :data:`IDENTITY_KEYS` that every item of every list holds as a string or
    an integer, unique within each list; ``None`` when there is none (items that are not
    objects, a key missing or repeated, or no item at all)."""
    items = [item for items in lists for item in items]
    if not items or not all(isinstance(item, Mapping) for item in items):
        return None
    for key in IDENTITY_KEYS:
        if all(_scalar(item.get(key)) for item in items) and all(
            len({str(i[key]) for i in items}) == len(items) for items in lists
        ):
            return key
    return None


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool)


def field_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[RawChange]:
    """The differences turning ``before`` into ``after``, sorted by path (see the module
    docstring). ``kind`` is ``add`` when the path is missing in ``before``, ``remove`` when
    missing in ``after``, ``reorder`` for a list of identified items whose common items
    changed order (values: the identities on each side), else ``change``.

    The walk (:mod:`convai_ops.field_walk`) imports deepdiff, only when views differ."""
    from convai_ops.field_walk import walk_changes

    return walk_changes(before, after)


def added_leaves(
    after: Mapping[str, Any], whole: Callable[[tuple[str, ...]], bool] = lambda path: False
) -> list[RawChange]:
    """``add`` changes creating ``after`` from nothing, sorted by path: one per leaf, per item
    of a list of objects with identities (the item whole), and per path ``whole`` accepts (its
    value whole)."""
    found = list(_leaves(after, (), whole))
    return sorted(found, key=lambda change: change.path)


def _leaves(
    value: Any, path: tuple[str, ...], whole: Callable[[tuple[str, ...]], bool]
) -> Iterator[RawChange]:
    if path and whole(path):
        yield RawChange(path, "add", None, value)
    elif isinstance(value, Mapping) and value:
        for key, item in value.items():
            yield from _leaves(item, (*path, str(key)), whole)
    elif isinstance(value, list) and path and (key := identity_key(value)) is not None:
        for item in value:
            yield RawChange((*path, item_segment(str(item[key]))), "add", None, item)
    elif path:
        yield RawChange(path, "add", None, value)
