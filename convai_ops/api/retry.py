"""When to retry a call to the API, and how long to wait before the next attempt.

Retried: HTTP 408, 409, 429 and every 5xx, and the transport failures in
:data:`RETRYABLE_TRANSPORT_ERRORS` (refused or dropped connections, timeouts, a server that
hangs up mid-answer). The wait before attempt ``n + 1`` is the server's hint when it sends one
(``retry-after-ms``, then ``Retry-After`` in seconds or as an HTTP date, then
``x-ratelimit-reset``), otherwise ``backoff_base * 2 ** (n - 1)`` seconds less up to 25% jitter.
Either way the wait never exceeds ``backoff_max``.

A 429 that carries a hint has a budget of its own (:class:`RetryStop`): it neither uses up
``max_retries`` nor advances the backoff exponent, so five hinted 429s then a 500 are retried
like a lone 500.
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from collections.abc import Callable, Mapping
from datetime import UTC

import httpx
import tenacity

__all__ = [
    "RATE_LIMIT_ATTEMPTS",
    "RATE_LIMIT_BUDGET_S",
    "RETRYABLE_STATUSES",
    "RETRYABLE_TRANSPORT_ERRORS",
    "RetryStop",
    "RetryWait",
    "backoff_delay",
    "count_hinted_rate_limit",
    "is_retryable_response",
    "retry_hint_seconds",
]

# Not 409 (the official SDK retries it): on /v1/convai a 409 reports a state conflict (a branch
# name taken, a document in use) that waiting does not resolve.
RETRYABLE_STATUSES = frozenset({408, 429})
RETRYABLE_TRANSPORT_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)

RATE_LIMIT_BUDGET_S = 120.0
RATE_LIMIT_ATTEMPTS = 50
# Where a call's retry state keeps how many of its attempts were answered by a hinted 429.
_HINTED_COUNT = "convai_ops_hinted_429s"

# Above this, an ``x-ratelimit-reset`` value is a Unix time rather than a number of seconds.
_EPOCH_THRESHOLD = 1_000_000_000.0
_MAX_EXPONENT = 64


def is_retryable_response(response: httpx.Response) -> bool:
    """Return whether ``response`` has a status worth another attempt (408, 429, 5xx)."""
    return response.status_code in RETRYABLE_STATUSES or response.status_code >= 500


def backoff_delay(
    attempt: int, base: float, cap: float, rand: Callable[[], float] = random.random
) -> float:
    """Return the wait in seconds after failed attempt ``attempt`` (1-based) with no server hint.

    The exponential delay ``base * 2 ** (attempt - 1)`` is capped at ``cap`` and then reduced by
    up to 25% of itself (``rand()`` in ``[0, 1)``), so the result lies in ``[0.75 * d, d]``.
    """
    exponent = min(max(attempt - 1, 0), _MAX_EXPONENT)
    delay = min(cap, base * 2.0**exponent)
    return max(0.0, delay * (1.0 - 0.25 * rand()))


def retry_hint_seconds(
    headers: Mapping[str, str], now: Callable[[], float] = time.time
) -> float | None:
    """Return the wait in seconds the server asks for, or ``None`` when it gives no usable hint.

    Reads ``retry-after-ms`` (milliseconds), then ``Retry-After`` (seconds or an HTTP date),
    then ``x-ratelimit-reset`` (a Unix time, or seconds when the value is small). Header names
    are matched case-insensitively when ``headers`` is an :class:`httpx.Headers`. A time in the
    past gives 0; unparsable or non-finite values are ignored.
    """
    parsers: tuple[tuple[str, Callable[[str, float], float | None]], ...] = (
        ("retry-after-ms", _parse_milliseconds),
        ("retry-after", _parse_retry_after),
        ("x-ratelimit-reset", _parse_reset),
    )
    for name, parse in parsers:
        value = headers.get(name)
        seconds = parse(value.strip(), now()) if value else None
        if seconds is not None:
            return seconds
    return None


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _parse_milliseconds(text: str, now: float) -> float | None:
    value = _number(text)
    return None if value is None else max(0.0, value / 1000.0)


def _parse_retry_after(text: str, now: float) -> float | None:
    value = _number(text)
    if value is not None:
        return max(0.0, value)
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:  # a "-0000" zone: UTC
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, moment.timestamp() - now)


def _parse_reset(text: str, now: float) -> float | None:
    value = _number(text)
    if value is None:
        return None
    return max(0.0, value - now) if value >= _EPOCH_THRESHOLD else max(0.0, value)


class RetryWait(tenacity.wait.wait_base):
    """A tenacity wait: the server's hint when the last answer has one, else :func:`backoff_delay`.

    Both are capped at ``cap`` seconds.
    """

    def __init__(self, base: float, cap: float, now: Callable[[], float] = time.time) -> None:
        self.base = base
        self.cap = cap
        self.now = now

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        hint = self._hint(retry_state)
        if hint is not None:
            return min(hint, self.cap)
        return backoff_delay(_other_attempts(retry_state), self.base, self.cap)

    def _hint(self, retry_state: tenacity.RetryCallState) -> float | None:
        outcome = retry_state.outcome
        if outcome is None or outcome.failed:
            return None
        response = outcome.result()
        if not isinstance(response, httpx.Response):
            return None
        return retry_hint_seconds(response.headers, self.now)


class RetryStop(tenacity.stop.stop_base):
    """A tenacity stop: give up after ``max_retries`` retries of anything but a hinted 429.

    A 429 carrying a hint (see :func:`retry_hint_seconds`) is retried on a budget of its own,
    ``RATE_LIMIT_BUDGET_S`` seconds and at most ``RATE_LIMIT_ATTEMPTS`` attempts: the server said
    when to come back, and a rate limit shared by many threads can refuse one unlucky call many
    times in a row. Those attempts are not counted against ``max_retries``, so the 5xx and
    transport budget starts fresh after them. Needs :func:`count_hinted_rate_limit` as the
    ``after`` hook of the same :class:`tenacity.Retrying`.
    """

    def __init__(self, max_retries: int) -> None:
        self.attempts = max_retries + 1

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        if _is_hinted_rate_limit(retry_state):
            elapsed = retry_state.seconds_since_start or 0.0
            over_count = retry_state.attempt_number >= RATE_LIMIT_ATTEMPTS
            return over_count or elapsed >= RATE_LIMIT_BUDGET_S
        return _other_attempts(retry_state) >= self.attempts


def count_hinted_rate_limit(retry_state: tenacity.RetryCallState) -> None:
    """A tenacity ``after`` hook: count the attempt when it was answered by a hinted 429."""
    if _is_hinted_rate_limit(retry_state):
        setattr(retry_state, _HINTED_COUNT, _hinted_count(retry_state) + 1)


def _hinted_count(retry_state: tenacity.RetryCallState) -> int:
    return int(getattr(retry_state, _HINTED_COUNT, 0))


def _other_attempts(retry_state: tenacity.RetryCallState) -> int:
    """Attempts so far that were not answered by a hinted 429 (the current one included)."""
    return retry_state.attempt_number - _hinted_count(retry_state)


def _is_hinted_rate_limit(retry_state: tenacity.RetryCallState) -> bool:
    outcome = retry_state.outcome
    if outcome is None or outcome.failed:
        return False
    response = outcome.result()
    return (
        isinstance(response, httpx.Response)
        and response.status_code == 429
        and retry_hint_seconds(response.headers) is not None
    )
