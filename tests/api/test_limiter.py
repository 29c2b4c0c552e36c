"""The AIMD limiter: 429 halves the limit, successes restore it, in-flight never exceeds it."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from convai_ops.api import AdaptiveLimiter

from .fakes import FakeApi, MakeClient, Reply

OK = Reply(json={"agent_id": "a1"})


class InFlightGauge:
    """A fake API that holds each request briefly and records the most in flight at once."""

    def __init__(self, hold_seconds: float = 0.02) -> None:
        self.hold_seconds = hold_seconds
        self.in_flight = 0
        self.peak = 0
        self.served = 0
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        time.sleep(self.hold_seconds)
        with self._lock:
            self.in_flight -= 1
            self.served += 1
        return httpx.Response(200, json={"agent_id": "a1"})


def test_throttle_halves_down_to_one() -> None:
    limiter = AdaptiveLimiter(8)
    limits = []
    for _ in range(5):
        with limiter.slot() as epoch:
            limiter.on_throttle(epoch)
        limits.append(limiter.limit)

    assert limits == [4, 2, 1, 1, 1]


def test_successes_raise_the_limit_gradually_back_to_max() -> None:
    limiter = AdaptiveLimiter(8)
    with limiter.slot() as epoch:
        limiter.on_throttle(epoch)
    assert limiter.limit == 4

    limiter.on_success()
    assert limiter.limit == 4  # +1/4: a step, not a jump
    for _ in range(40):
        limiter.on_success()
    assert limiter.limit == 8


def test_429s_from_one_epoch_halve_only_once() -> None:
    limiter = AdaptiveLimiter(8)
    with limiter.slot() as first, limiter.slot() as second:
        assert first == second
        limiter.on_throttle(first)
        limiter.on_throttle(second)
    assert limiter.limit == 4

    with limiter.slot() as later:
        limiter.on_throttle(later)
    assert limiter.limit == 2


def test_slot_waits_while_the_lowered_limit_is_used() -> None:
    limiter = AdaptiveLimiter(4)
    with limiter.slot() as epoch:
        limiter.on_throttle(epoch)
    assert limiter.limit == 2
    got_slot = threading.Event()

    def third() -> None:
        with limiter.slot():
            got_slot.set()

    with limiter.slot():
        with limiter.slot():
            waiter = threading.Thread(target=third)
            waiter.start()
            assert not got_slot.wait(0.05)
            assert limiter.in_flight == 2
        assert got_slot.wait(2.0)
    waiter.join(2.0)
    assert limiter.in_flight == 0


def test_limiter_rejects_zero() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        AdaptiveLimiter(0)


def test_client_429_lowers_the_limit_and_successes_restore_it(make_client: MakeClient) -> None:
    client = make_client(FakeApi(Reply(429), OK), max_concurrency=8)

    client.get_agent("a1")
    assert client.limiter.limit == 4

    for _ in range(40):
        client.get_agent("a1")
    assert client.limiter.limit == 8


def test_client_errors_other_than_429_leave_the_limit(make_client: MakeClient) -> None:
    client = make_client(FakeApi(Reply(500), Reply(404)), max_concurrency=8, max_retries=1)

    with pytest.raises(Exception, match="404"):
        client.get_agent("a1")
    assert client.limiter.limit == 8


def test_threads_never_exceed_max_concurrency(make_client: MakeClient) -> None:
    gauge = InFlightGauge()
    client = make_client(gauge, max_concurrency=3)

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(lambda n: client.get_agent(f"a{n}"), range(36)))

    assert len(results) == gauge.served == 36
    assert gauge.peak == 3
    assert client.limiter.in_flight == 0


def test_threads_respect_a_limit_lowered_by_429(make_client: MakeClient) -> None:
    gauge = InFlightGauge()
    client = make_client(gauge, max_concurrency=8)
    with client.limiter.slot() as epoch:  # as if a 429 had come back twice
        client.limiter.on_throttle(epoch)
    with client.limiter.slot() as epoch:
        client.limiter.on_throttle(epoch)
    assert client.limiter.limit == 2

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda n: client.get_agent(f"a{n}"), range(4)))

    assert gauge.peak == 2


def test_retry_wait_does_not_hold_a_slot(make_client: MakeClient) -> None:
    held_while_sleeping: list[int] = []
    limiters: list[AdaptiveLimiter] = []

    def sleep(_: float) -> None:
        held_while_sleeping.append(limiters[0].in_flight)

    client = make_client(FakeApi(Reply(503), OK), sleep=sleep)
    limiters.append(client.limiter)

    client.get_agent("a1")

    assert held_while_sleeping == [0]
