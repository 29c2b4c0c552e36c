"""Answers to GET requests sent before the caller asked for them (start-up reads).

A command can start the reads it will make while it is still loading the project
(:mod:`convai_ops.early_reads`): those reads go through a *recording* view of the client
(:meth:`BaseClient.early_reader`), which registers each GET here before sending it. When the
command later makes the same GET (same path and query) through the client itself, it takes
that answer (waiting for it if still in flight) instead of sending the request again; each
answer is taken once. While the early reads are running, a GET not registered yet waits until
it is, or until they end, so that a read queued behind others is never sent twice.

:meth:`EarlyAnswers.close` (called when the snapshot the reads were for has been read) drops
what was not taken: a later GET always goes to the network, so it never sees an old answer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import Any

__all__ = ["EarlyAnswers", "answer_key"]

Key = tuple[str, tuple[tuple[str, str], ...]]


def answer_key(path: str, query: Mapping[str, Any]) -> Key:
    """The key of ``GET path?query``: the path and the query's items as sorted text pairs."""
    pairs = [(name, repr(value)) for name, value in query.items()]
    return path, tuple(sorted(pairs))


class EarlyAnswers:
    """Thread-safe store of early GET answers: ``key -> Future`` of the decoded body."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._answers: dict[Key, list[Future[Any]]] = {}
        self._running = True
        self._open = True

    def register(self, key: Key) -> Future[Any] | None:
        """A future for ``key`` that the recording view fills; ``None`` once closed."""
        future: Future[Any] = Future()
        with self._changed:
            if not self._open:
                return None
            self._answers.setdefault(key, []).append(future)
            self._changed.notify_all()
        return future

    def answer(self, key: Key, send: Callable[[], Any], *, recording: bool) -> Any:
        """The answer to the GET ``key``. ``recording`` (the early reads' view): ``send()`` it
        and remember its answer, or its error, for a later caller. Otherwise: the answer read
        ahead (waiting for it, raising its error), or ``send()`` when there is none."""
        if not recording:
            taken = self.take(key)
            return taken.result() if taken is not None else send()
        future = self.register(key)
        try:
            value = send()
        except BaseException as exc:
            if future is not None:
                future.set_exception(exc)
            raise
        if future is not None:
            future.set_result(value)
        return value

    def take(self, key: Key) -> Future[Any] | None:
        """The earliest registered answer for ``key``, removed from the store; ``None`` when
        there is none (after waiting while the early reads may still register it)."""
        with self._changed:
            self._changed.wait_for(lambda: key in self._answers or not self._running)
            waiting = self._answers.get(key)
            if not waiting:
                return None
            future = waiting.pop(0)
            if not waiting:
                del self._answers[key]
            return future

    def finished(self) -> None:
        """The early reads ended: nothing more will be registered."""
        with self._changed:
            self._running = False
            self._changed.notify_all()

    def close(self) -> None:
        """Drop every answer not taken; later requests go to the network."""
        with self._changed:
            self._open = self._running = False
            self._answers.clear()
            self._changed.notify_all()

    @property
    def open(self) -> bool:
        """Whether answers may still be taken."""
        return self._open
