"""Cursor pagination: ``cursor`` in; ``next_cursor`` and ``has_more`` out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from convai_ops.errors import ApiError

__all__ = ["iter_pages"]

Page = dict[str, Any]


def iter_pages(
    fetch: Callable[[str | None], Page], items_key: str, *, path: str = ""
) -> Iterator[dict[str, Any]]:
    """Yield the items under ``items_key`` of each page, fetching the next page only when needed.

    ``fetch(cursor)`` returns one decoded page; the first call gets ``None``. Iteration stops when
    a page has ``has_more`` false or no ``next_cursor``. Raises :class:`ApiError` (naming
    ``GET path``) when a page lacks the list or repeats a cursor already followed.
    """
    cursor: str | None = None
    seen: set[str] = set()
    while True:
        page = fetch(cursor)
        yield from _items(page, items_key, path)
        cursor = page.get("next_cursor")
        if not page.get("has_more") or not cursor:
            return
        if cursor in seen:
            message = f"the API repeated page cursor {cursor!r}; stopping"
            raise ApiError(message, method="GET", path=path)
        seen.add(cursor)


def _items(page: Page, items_key: str, path: str) -> list[dict[str, Any]]:
    items = page.get(items_key)
    if not isinstance(items, list):
        message = f"expected a list under {items_key!r} in the page"
        raise ApiError(message, method="GET", path=path)
    return items
