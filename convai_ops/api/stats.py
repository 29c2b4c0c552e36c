"""Counters of what one client sent and what came back, for benchmarks and tests."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["ClientStats", "StatsRecorder"]


@dataclass(frozen=True)
class ClientStats:
    """A snapshot of a client's counters.

    ``requests`` counts HTTP attempts (a retried call counts once per attempt) and ``retries``
    the attempts after the first. ``status_counts`` maps HTTP status to attempts;
    ``rate_limited`` and ``server_errors`` count 429 and 5xx answers; ``connection_errors``
    counts attempts that got no answer. ``by_route`` maps ``"METHOD /path/{template}"`` to
    attempts.
    """

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    server_errors: int = 0
    connection_errors: int = 0
    status_counts: Mapping[int, int] = field(default_factory=dict)
    by_route: Mapping[str, int] = field(default_factory=dict)


class StatsRecorder:
    """Thread-safe accumulator behind :attr:`ConvaiClient.stats`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._statuses: Counter[int] = Counter()
        self._routes: Counter[str] = Counter()

    def record_response(self, route: str, status: int) -> None:
        """Count one attempt on ``route`` that was answered with ``status``."""
        with self._lock:
            self._attempt(route)
            self._statuses[status] += 1
            self._counts["rate_limited"] += status == 429
            self._counts["server_errors"] += status >= 500

    def record_no_answer(self, route: str) -> None:
        """Count one attempt on ``route`` that got no answer."""
        with self._lock:
            self._attempt(route)
            self._counts["connection_errors"] += 1

    def record_retry(self) -> None:
        """Count one retry (an attempt about to be repeated)."""
        with self._lock:
            self._counts["retries"] += 1

    def snapshot(self) -> ClientStats:
        """Return the counters as they are now."""
        with self._lock:
            return ClientStats(
                requests=self._counts["requests"],
                retries=self._counts["retries"],
                rate_limited=self._counts["rate_limited"],
                server_errors=self._counts["server_errors"],
                connection_errors=self._counts["connection_errors"],
                status_counts=dict(self._statuses),
                by_route=dict(self._routes),
            )

    def reset(self) -> None:
        """Set every counter back to zero."""
        with self._lock:
            self._counts.clear()
            self._statuses.clear()
            self._routes.clear()

    def _attempt(self, route: str) -> None:
        self._counts["requests"] += 1
        self._routes[route] += 1
