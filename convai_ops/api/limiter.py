"""An adaptive (AIMD) cap on how many requests one client has in flight across all threads.

The limit starts at ``max_limit``. A 429 halves it (never below 1); each successful answer adds
``1 / limit`` to it (about +1 per window of successful requests), back up to ``max_limit``. A
thread that finds ``limit`` requests already in flight waits for one to finish.

Requests already in flight when the limit was halved may still come back 429; they answered the
old load, so they do not halve it again. Each slot carries the *epoch* in which it was taken, and
only a 429 from the current epoch lowers the limit (and starts a new epoch).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["AdaptiveLimiter"]


class AdaptiveLimiter:
    """Thread-safe AIMD concurrency limit; ``limit`` and ``in_flight`` are whole numbers."""

    def __init__(self, max_limit: int) -> None:
        if max_limit < 1:
            raise ValueError("max_limit must be at least 1")
        self.max_limit = max_limit
        self._limit = float(max_limit)
        self._in_flight = 0
        self._epoch = 0
        self._cond = threading.Condition()

    def __repr__(self) -> str:
        return f"AdaptiveLimiter(limit={self.limit}, max_limit={self.max_limit})"

    @property
    def limit(self) -> int:
        """The number of requests allowed in flight right now (1 to ``max_limit``)."""
        with self._cond:
            return self._allowed()

    @property
    def in_flight(self) -> int:
        """The number of slots currently taken."""
        with self._cond:
            return self._in_flight

    @contextmanager
    def slot(self) -> Iterator[int]:
        """Wait for a free slot and hold it for the ``with`` body; yields the slot's epoch."""
        epoch = self._acquire()
        try:
            yield epoch
        finally:
            self._release()

    def on_success(self) -> None:
        """Record a successful answer: raise the limit by ``1 / limit``, up to ``max_limit``."""
        with self._cond:
            self._limit = min(float(self.max_limit), self._limit + 1.0 / self._limit)
            self._cond.notify_all()

    def on_throttle(self, epoch: int) -> None:
        """Record a 429 for a slot taken in ``epoch``: halve the limit if that epoch is current."""
        with self._cond:
            if epoch != self._epoch:
                return
            self._limit = max(1.0, self._limit / 2.0)
            self._epoch += 1

    def _allowed(self) -> int:
        return max(1, int(self._limit))

    def _acquire(self) -> int:
        with self._cond:
            while self._in_flight >= self._allowed():
                self._cond.wait()
            self._in_flight += 1
            return self._epoch

    def _release(self) -> None:
        with self._cond:
            self._in_flight -= 1
            self._cond.notify_all()
