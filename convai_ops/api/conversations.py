"""Conversations (list, search messages, read) and simulated conversations (whole, or streamed)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

from convai_ops.errors import ApiError

from .base import BaseClient

__all__ = ["ConversationsMixin", "decode_stream_line"]

_CONVERSATIONS = "/v1/convai/conversations"
_TEXT_SEARCH = _CONVERSATIONS + "/messages/text-search"
_SIMULATE = "/v1/convai/agents/{agent_id}/simulate-conversation"
CallSuccessful = Literal["success", "failure", "unknown"]
SortBy = Literal["search_score", "created_at"]


class ConversationsMixin(BaseClient):
    """Conversation and simulation calls of :class:`ConvaiClient`."""

    def iter_conversations(
        self,
        *,
        agent_id: str | None = None,
        call_successful: CallSuccessful | None = None,
        call_start_after_unix: int | None = None,
        page_size: int = 100,
        branch_id: str | None = None,
        evaluation_criteria_ids: Sequence[str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield conversation summaries (``conversation_id``, ``agent_id``, ``branch_id``,
        ``version_id``, ``start_time_unix_secs``, ``call_duration_secs``, ``status``,
        ``call_successful``, ...) newest first, fetching pages lazily.

        ``call_start_after_unix`` is a Unix time in seconds; ``page_size`` is 1-100;
        ``branch_id`` keeps the conversations that ran on that branch;
        ``evaluation_criteria_ids`` adds those criteria's results
        (``evaluation_criteria_results``: id -> ``{"result"}``) to each summary. Calls
        ``GET /v1/convai/conversations`` (cursor pages); its deprecated ``search`` query is
        never sent: see :meth:`iter_message_search`.
        """
        params = {
            "agent_id": agent_id,
            "call_successful": call_successful,
            "call_start_after_unix": call_start_after_unix,
            "page_size": page_size,
            "branch_id": branch_id,
            "evaluation_criteria_ids": list(evaluation_criteria_ids or ()) or None,
        }
        return self._paginate(_CONVERSATIONS, "conversations", params)

    def iter_message_search(
        self,
        text_query: str,
        *,
        agent_id: str | None = None,
        call_successful: CallSuccessful | None = None,
        call_start_after_unix: int | None = None,
        sort_by: SortBy = "created_at",
        page_size: int = 50,
    ) -> Iterator[dict[str, Any]]:
        """Yield the transcript messages matching ``text_query`` (full-text and fuzzy, as the
        API decides), each ``{"conversation_id", "agent_id", "agent_name", "transcript_index"
        (0-based), "chunk_text", "chunk_highlights", "score",
        "conversation_start_time_unix_secs"}``, fetching pages lazily.

        ``sort_by`` is ``created_at`` (newest conversation first) or ``search_score``;
        ``page_size`` is 1-50; ``call_start_after_unix`` is in Unix seconds. Calls
        ``GET /v1/convai/conversations/messages/text-search`` (cursor pages). Raises
        :class:`RequestValidationError` for an empty query.
        """
        params = {
            "text_query": text_query,
            "agent_id": agent_id,
            "call_successful": call_successful,
            "call_start_after_unix": call_start_after_unix,
            "sort_by": sort_by,
            "page_size": page_size,
        }
        return self._paginate(_TEXT_SEARCH, "results", params)

    def get_conversation(self, conversation_id: str) -> dict[str, Any]:
        """Return a conversation with its ``transcript``, ``metadata`` and ``analysis``.

        Calls ``GET /v1/convai/conversations/{conversation_id}``. Raises :class:`NotFoundError`.
        """
        path_params = {"conversation_id": conversation_id}
        return self._object("GET", _CONVERSATIONS + "/{conversation_id}", path_params=path_params)

    def simulate_conversation(
        self, agent_id: str, body: Mapping[str, Any], *, timeout: float | None = None
    ) -> dict[str, Any]:
        """Run a conversation between the agent and a simulated user; return
        ``{"simulated_conversation": [...], "analysis": {...}}``.

        ``body`` holds ``simulation_specification`` (and optionally ``extra_evaluation_criteria``,
        ``new_turns_limit``). ``timeout`` (seconds) replaces the client's for this long call.
        Calls ``POST /v1/convai/agents/{agent_id}/simulate-conversation``. Raises
        :class:`NotFoundError` or :class:`RequestValidationError`.
        """
        path_params = {"agent_id": agent_id}
        return self._object("POST", _SIMULATE, path_params=path_params, json=body, timeout=timeout)

    def simulate_conversation_stream(
        self, agent_id: str, body: Mapping[str, Any], *, timeout: float | None = None
    ) -> Iterator[dict[str, Any]]:
        """Like :meth:`simulate_conversation`, but yield each streamed object as it arrives.

        The request is sent when iteration starts. The answer is read line by line as
        newline-delimited JSON (a ``data:`` prefix is tolerated); a line holding a list of
        messages yields each message. The last object carries the conversation analysis.
        Calls ``POST /v1/convai/agents/{agent_id}/simulate-conversation/stream``. Raises
        :class:`ApiError` on an error status or a malformed line, and
        :class:`ApiConnectionError` when the connection drops mid-stream.
        """
        template = _SIMULATE + "/stream"
        path_params = {"agent_id": agent_id}
        with self.stream(
            "POST", template, path_params=path_params, json=body, timeout=timeout
        ) as response:
            for line in response.iter_lines():
                yield from decode_stream_line(line, path=response.request.url.path)


def decode_stream_line(line: str, *, path: str = "") -> list[dict[str, Any]]:
    """Return the objects one line of a newline-delimited JSON stream holds (none if blank).

    Raises :class:`ApiError` (naming ``POST path``) when the line is not a JSON object or a list
    of objects.
    """
    text = line.strip()
    if text.startswith("data:"):
        text = text[len("data:") :].strip()
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise _bad_line(text, path) from exc
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(item, dict) for item in items):
        raise _bad_line(text, path)
    return items


def _bad_line(text: str, path: str) -> ApiError:
    shown = text if len(text) <= 80 else text[:77] + "..."
    return ApiError(f"malformed line in the stream: {shown!r}", method="POST", path=path)
