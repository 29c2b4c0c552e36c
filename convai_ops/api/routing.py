"""Routes (method + path template) and the encoding of query parameters and bodies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

__all__ = ["Files", "QueryValue", "Route", "compact", "encode_query"]

QueryValue = str | int | float | bool | Sequence[str] | None
Files = Mapping[str, tuple[str, bytes, str]]


@dataclass(frozen=True)
class Route:
    """One endpoint call: ``method``, the path ``template`` and the concrete ``path``."""

    method: str
    template: str
    path: str

    @classmethod
    def of(cls, method: str, template: str, path_params: Mapping[str, str] | None) -> Route:
        """Fill ``template``'s ``{name}`` fields with URL-quoted ``path_params``."""
        quoted = {name: quote(str(value), safe="") for name, value in (path_params or {}).items()}
        return cls(method.upper(), template, template.format(**quoted))

    @property
    def key(self) -> str:
        """``"METHOD /path/{template}"``, the key of :attr:`ClientStats.by_route`."""
        return f"{self.method} {self.template}"


def compact(**fields: Any) -> dict[str, Any]:
    """Return ``fields`` without the ``None`` values (optional body fields left unset)."""
    return {name: value for name, value in fields.items() if value is not None}


def encode_query(params: Mapping[str, QueryValue] | None) -> dict[str, Any]:
    """Return ``params`` for httpx: ``None`` values dropped, sequences as lists (repeated)."""
    query: dict[str, Any] = {}
    for name, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, Sequence) and not isinstance(value, str):
            query[name] = list(value)
        else:
            query[name] = value
    return query
