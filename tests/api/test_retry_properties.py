"""Properties of the wait computation: server hints parsed exactly, backoff always bounded."""

from __future__ import annotations

import email.utils

import httpx
from hypothesis import given
from hypothesis import strategies as st

from convai_ops.api import backoff_delay, retry_hint_seconds

NOW = 1_760_000_000.0

seconds = st.integers(min_value=0, max_value=10**6)
unit = st.floats(min_value=0.0, max_value=1.0, exclude_max=True)


@given(delay=seconds)
def test_retry_after_seconds_round_trip(delay: int) -> None:
    assert retry_hint_seconds(httpx.Headers({"Retry-After": str(delay)}), lambda: NOW) == delay


@given(delay=seconds)
def test_retry_after_http_date_round_trip(delay: int) -> None:
    date = email.utils.formatdate(NOW + delay, usegmt=True)

    assert retry_hint_seconds(httpx.Headers({"Retry-After": date}), lambda: NOW) == delay


@given(past=st.integers(min_value=1, max_value=10**6))
def test_dates_in_the_past_mean_no_wait(past: int) -> None:
    date = email.utils.formatdate(NOW - past, usegmt=True)

    assert retry_hint_seconds({"retry-after": date}, lambda: NOW) == 0.0


@given(millis=st.integers(min_value=0, max_value=10**9))
def test_retry_after_ms_round_trip(millis: int) -> None:
    hint = retry_hint_seconds({"retry-after-ms": str(millis)}, lambda: NOW)

    assert hint == millis / 1000


@given(delay=seconds)
def test_x_ratelimit_reset_as_unix_time(delay: int) -> None:
    hint = retry_hint_seconds({"x-ratelimit-reset": str(int(NOW) + delay)}, lambda: NOW)

    assert hint == delay


@given(text=st.text(max_size=40))
def test_any_header_text_gives_none_or_a_finite_non_negative_wait(text: str) -> None:
    headers = {"retry-after": text, "retry-after-ms": text, "x-ratelimit-reset": text}
    hint = retry_hint_seconds(headers, lambda: NOW)

    assert hint is None or 0.0 <= hint < float("inf")


def test_unparsable_hints_are_ignored() -> None:
    headers = {"retry-after-ms": "soon", "retry-after": "nan", "x-ratelimit-reset": "later"}

    assert retry_hint_seconds(headers, lambda: NOW) is None


@given(
    attempt=st.integers(min_value=1, max_value=10_000),
    base=st.floats(min_value=0.0, max_value=100.0),
    cap=st.floats(min_value=0.0, max_value=3600.0),
    rand=unit,
)
def test_backoff_is_within_jitter_of_the_capped_exponential(
    attempt: int, base: float, cap: float, rand: float
) -> None:
    full = min(cap, base * 2.0 ** min(attempt - 1, 64))

    delay = backoff_delay(attempt, base, cap, lambda: rand)

    assert 0.0 <= delay <= cap
    assert 0.75 * full - 1e-9 <= delay <= full + 1e-9
    assert delay == full * (1.0 - 0.25 * rand)


@given(attempt=st.integers(min_value=1, max_value=30), rand=unit)
def test_backoff_never_shrinks_between_attempts(attempt: int, rand: float) -> None:
    low = backoff_delay(attempt, 0.5, 30.0, lambda: 0.0)
    high = backoff_delay(attempt + 1, 0.5, 30.0, lambda: 0.0)

    assert high >= low
    assert backoff_delay(attempt, 0.5, 30.0, lambda: rand) <= low
