"""The :class:`Emulator` object behind one app: config, store, request log and the lock."""

from __future__ import annotations

import bisect
import heapq
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from convai_ops.emulator.config import EmulatorConfig
from convai_ops.emulator.conversations import ConversationRecord, load_conversations
from convai_ops.emulator.request_log import RequestLogFile
from convai_ops.emulator.store import Store, load_store, save_store

__all__ = ["ACCESS_INFO", "MAX_LIVE_CONVERSATIONS", "Emulator", "LiveTraffic", "RequestLogEntry"]

#: Who the emulated key is. Its role is ``editor``, not ``admin``: a merge into a protected
#: branch (``admin_perms_required``) answers 403, so what the API says of the key must agree.
ACCESS_INFO: dict[str, Any] = {
    "is_creator": True,
    "creator_name": "Emulator User",
    "creator_email": "emulator@localhost",
    "role": "editor",
}


@dataclass(frozen=True)
class RequestLogEntry:
    """One answered request.

    ``query`` is the raw query string (``""`` when none); ``body`` is the parsed JSON request
    body for POST/PATCH/PUT (``None`` otherwise or when not JSON); ``response_body`` is the
    parsed JSON answer (``None`` when empty or not JSON, the text for ``text/*``);
    ``duration_ms`` includes injected latency; ``timestamp`` is Unix seconds at arrival.
    ``outbound`` marks a request the emulated agent made, not one it answered: a real webhook
    tool call during a test run (``path`` is then the webhook URL; nothing is sent).
    """

    method: str
    path: str
    query: str
    status: int
    duration_ms: float
    timestamp: float
    body: Any = None
    response_body: Any = None
    outbound: bool = False


#: At most this many synthetic live conversations are kept; older ones are forgotten.
MAX_LIVE_CONVERSATIONS = 50_000

Dated = tuple[ConversationRecord, int]


@dataclass
class LiveTraffic:
    """Synthetic live conversations (:mod:`convai_ops.emulator.traffic`): ``conversations``
    oldest first, each with its start in Unix seconds; ``cursors`` maps an agent id to the
    time its traffic started and how many conversations it has had; ``starts`` the sorted
    start times of each branch's conversations; at most ``cap`` are kept."""

    conversations: list[Dated] = field(default_factory=list)
    cursors: dict[str, tuple[float, int]] = field(default_factory=dict)
    starts: dict[str, list[int]] = field(default_factory=dict)
    cap: int = MAX_LIVE_CONVERSATIONS

    def add(self, record: ConversationRecord, started: int) -> None:
        """Keep ``record`` in start order, forgetting the oldest beyond the cap."""
        bisect.insort(self.conversations, (record, started), key=lambda pair: pair[1])
        bisect.insort(self.starts.setdefault(str(record.branch_id), []), started)
        excess = len(self.conversations) - self.cap
        for old, _ in self.conversations[: max(0, excess)]:
            self.starts[str(old.branch_id)].pop(0)
        if excess > 0:
            del self.conversations[:excess]

    def calls_since(self, branch_id: str, since: float) -> int:
        """How many kept conversations of ``branch_id`` started at or after ``since``."""
        starts = self.starts.get(branch_id, [])
        return len(starts) - bisect.bisect_left(starts, since)


class Emulator:
    """State of one emulated API: ``config``, ``store``, ``request_log``, ``lock``, the
    recorded ``conversations`` (each with its start in Unix seconds, newest first) and the
    synthetic ``live`` ones (see :meth:`all_conversations`).

    Every read or write of ``store`` and ``live`` happens while holding ``lock`` (re-entrant).
    The recorded conversations are read once, from ``config.conversations_file`` or the bundled
    fixture, and survive :meth:`reset` (raises ``ValueError`` for a malformed file); the live
    ones belong to the agents and are forgotten with them.
    """

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.store: Store = load_store(self.config.state_file)
        self.request_log: list[RequestLogEntry] = []
        self.lock = threading.RLock()
        self.conversations: tuple[tuple[ConversationRecord, int], ...] = load_conversations(
            self.config.conversations_file
        )
        log_file = self.config.request_log_file
        self.log_file = RequestLogFile(log_file, self.config.api_key) if log_file else None
        self.live = LiveTraffic()

    def all_conversations(self) -> list[Dated]:
        """Recorded and live conversations with their starts, newest first (call under
        ``lock``)."""
        live = reversed(self.live.conversations)
        return list(heapq.merge(self.conversations, live, key=lambda pair: -pair[1]))

    def record(self, entry: RequestLogEntry, *, request_key: str = "") -> None:
        """Append ``entry`` to :attr:`request_log` and, with ``config.request_log_file``, to
        that file as a JSON line (``request_key``, the key the request sent, masked there)."""
        with self.lock:
            self.request_log.append(entry)
        if self.log_file is not None:
            self.log_file.append(entry, request_key=request_key)

    def new_id(self, prefix: str = "") -> str:
        """Return a fresh id with ``prefix`` (e.g. ``"agent_"``); see :meth:`Store.new_id`."""
        with self.lock:
            return self.store.new_id(prefix, self.config.seed)

    def now(self) -> float:
        """Return the current time in Unix seconds."""
        return time.time()

    def save(self) -> None:
        """Write the store to ``config.state_file`` (no-op without one)."""
        if self.config.state_file is None:
            return
        with self.lock:
            save_store(self.store, self.config.state_file)

    def reset(self) -> None:
        """Forget every agent, test, document and tool, the live conversations, and clear the
        request log."""
        with self.lock:
            self.store = Store()
            self.request_log.clear()
            self.live = LiveTraffic()
            self.save()
