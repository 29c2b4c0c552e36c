"""``ConvaiClient``: every ElevenLabs ``/v1/convai`` call convai-ops makes, in one object."""

from __future__ import annotations

from .agent_tests import AgentTestsMixin
from .agents import AgentsMixin
from .branches import AgentBranchesMixin
from .conversations import ConversationsMixin
from .knowledge_base import KnowledgeBaseMixin
from .tools import ToolsMixin

__all__ = ["ConvaiClient"]


class ConvaiClient(
    AgentsMixin,
    AgentBranchesMixin,
    AgentTestsMixin,
    KnowledgeBaseMixin,
    ToolsMixin,
    ConversationsMixin,
):
    """Synchronous client of the ElevenLabs Agents API; one instance may be shared by threads.

    ``ConvaiClient(base_url, api_key, *, transport=None, timeout=30.0, max_retries=5,
    backoff_base=0.5, backoff_max=30.0, max_concurrency=8, sleep=time.sleep,
    user_agent="convai-ops/<version>")``

    - ``api_key`` is sent as the ``xi-api-key`` header and registered with
      :func:`convai_ops.errors.register_secret`; it never appears in messages, logs or ``repr``.
      A non-empty key shorter than ``MIN_API_KEY_LENGTH`` (16) raises ``UsageError``.
    - ``transport`` replaces the network (``httpx.MockTransport`` in tests); ``timeout`` is in
      seconds per request.
    - 408, 429, 5xx and lost connections are retried (not 409) up to ``max_retries`` times, waiting
      the server's ``retry-after-ms`` / ``Retry-After`` / ``x-ratelimit-reset`` hint or
      ``backoff_base * 2 ** n`` seconds with jitter, never more than ``backoff_max``; waiting
      calls ``sleep``. A 429 with a hint is retried on its own budget (120 s, 50 attempts), so
      it does not use up ``max_retries``.
    - At most ``max_concurrency`` requests are in flight; a 429 halves that limit and successes
      raise it back (:attr:`limiter`). :attr:`stats` counts requests, retries and statuses.
    - Errors are :class:`convai_ops.errors.ApiError` subclasses; see
      :mod:`convai_ops.api.error_mapping`. ``UsageError`` is raised for invalid settings.

    Use as a context manager, or call :meth:`close`.
    """
