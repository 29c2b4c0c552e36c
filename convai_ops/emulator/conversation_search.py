"""Text search over the transcripts of recorded conversations, for
``GET /v1/convai/conversations/messages/text-search`` (``MessagesSearchResponse``).

The document promises "full-text and fuzzy matching" without saying how; the emulator is
stricter and predictable:

- *Terms* of ``text_query``: its lowercase words with the trivial plural stem
  (:func:`convai_ops.emulator.llm.stem`) minus stopwords (all its words when that leaves none).
- A transcript message *matches* when every term is one of its (stemmed) words: ``refund
  policy`` finds "Our refund policy is 30 days" and "what are your refund policies?", not
  "refunds are accepted" (no "policy") nor "refundable".
- One result per matching message: ``transcript_index`` (0-based, so the ``--at-turn`` of
  ``convai-ops conversations show`` is index + 1), ``chunk_text`` (the whole message),
  ``chunk_highlights`` (the text cut into hit / non-hit segments that join back to it) and
  ``score`` (share of the message's words that are hits, 0..1, 4 decimals).
- Order: ``sort_by=search_score`` (the default) by score, then newer conversation, then
  transcript order; ``created_at``: newer conversation first, then transcript order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from convai_ops.emulator.conversations import ConversationRecord
from convai_ops.emulator.llm import STOPWORDS, stem, words
from convai_ops.emulator.views_conversations import ResolvedAgent

__all__ = ["Candidate", "query_terms", "search_messages"]

SortBy = Literal["search_score", "created_at"]
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Candidate:
    """A conversation that passed the filters, with its resolved agent and start (Unix s)."""

    record: ConversationRecord
    agent: ResolvedAgent
    started: int


def query_terms(text_query: str) -> frozenset[str]:
    """The stemmed terms a message must all contain (module docstring)."""
    tokens = words(text_query)
    content = [token for token in tokens if token not in STOPWORDS] or tokens
    return frozenset(stem(token) for token in content)


def search_messages(
    candidates: Iterable[Candidate], text_query: str, sort_by: SortBy = "search_score"
) -> list[dict[str, Any]]:
    """``MessagesSearchResult`` items for every message of ``candidates`` matching
    ``text_query``, ordered by ``sort_by``; none when the query has no word."""
    terms = query_terms(text_query)
    if not terms:
        return []
    found = [result for candidate in candidates for result in _matches(candidate, terms)]
    found.sort(key=lambda r: (-r["conversation_start_time_unix_secs"], r["transcript_index"]))
    if sort_by == "search_score":
        found.sort(key=lambda result: -result["score"])  # stable: ties stay newest first
    return found


def _matches(candidate: Candidate, terms: frozenset[str]) -> Iterator[dict[str, Any]]:
    for index, turn in enumerate(candidate.record.transcript):
        text = turn.message or ""
        stems = [stem(word) for word in words(text)]
        if not terms <= set(stems):
            continue
        hits = sum(1 for word in stems if word in terms)
        yield {
            "conversation_id": candidate.record.conversation_id,
            "agent_id": candidate.agent.agent_id,
            "agent_name": candidate.agent.agent_name,
            "transcript_index": index,
            "chunk_text": text,
            "chunk_highlights": highlights(text, terms),
            "score": round(hits / len(stems), 4),
            "conversation_start_time_unix_secs": candidate.started,
        }


def highlights(text: str, terms: frozenset[str]) -> list[dict[str, Any]]:
    """``text`` as ``SearchHighlightSegment`` items: each word whose stem is a term is a hit
    segment; the text between hits is one non-hit segment. The values join back to ``text``."""
    segments: list[dict[str, Any]] = []
    done = 0
    for match in _WORD.finditer(text):
        if stem(match.group().lower()) not in terms:
            continue
        if match.start() > done:
            segments.append({"value": text[done : match.start()], "is_hit": False})
        segments.append({"value": match.group(), "is_hit": True})
        done = match.end()
    if done < len(text):
        segments.append({"value": text[done:], "is_hit": False})
    return segments
