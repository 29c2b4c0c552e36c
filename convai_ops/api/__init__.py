"""The ElevenLabs ``/v1/convai`` API client: httpx, auth, retries, pagination, typed errors.

``ConvaiClient`` is the entry point; the other names are its parts, exported for tests,
benchmarks and callers that need the raw ``request`` core.
"""

from __future__ import annotations

from . import _no_httpx_cli  # noqa: F401  (first: before anything imports httpx)
from .base import DEFAULT_BASE_URL, DEFAULT_USER_AGENT
from .client import ConvaiClient
from .conversations import decode_stream_line
from .error_mapping import error_for_no_answer, error_for_response, message_from_body
from .limiter import AdaptiveLimiter
from .pagination import iter_pages
from .retry import (
    RETRYABLE_STATUSES,
    RETRYABLE_TRANSPORT_ERRORS,
    RetryWait,
    backoff_delay,
    is_retryable_response,
    retry_hint_seconds,
)
from .routing import Route
from .stats import ClientStats

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_USER_AGENT",
    "RETRYABLE_STATUSES",
    "RETRYABLE_TRANSPORT_ERRORS",
    "AdaptiveLimiter",
    "ClientStats",
    "ConvaiClient",
    "RetryWait",
    "Route",
    "backoff_delay",
    "decode_stream_line",
    "error_for_no_answer",
    "error_for_response",
    "is_retryable_response",
    "iter_pages",
    "message_from_body",
    "retry_hint_seconds",
]
