"""Conversation routes: ``GET /v1/convai/conversations`` (list),
``GET /v1/convai/conversations/messages/text-search`` (rules in
:mod:`convai_ops.emulator.conversation_search`) and
``GET /v1/convai/conversations/{conversation_id}``, over the recorded conversations of
:mod:`convai_ops.emulator.conversations`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from convai_ops.emulator import views_conversations as views
from convai_ops.emulator.conversation_search import Candidate, SortBy, search_messages
from convai_ops.emulator.conversations import ConversationRecord
from convai_ops.emulator.http import Emu, page
from convai_ops.emulator.problems import not_found
from convai_ops.emulator.views_conversations import (
    conversation_response,
    conversation_summary,
    resolve_agent,
)

__all__ = ["router"]

router = APIRouter()
ResultFilter = Literal["success", "failure", "unknown", "error"]
Languages = Annotated[list[str] | None, Query()]


@router.get("/v1/convai/conversations")
def get_conversation_histories_route(
    emu: Emu,
    cursor: str | None = None,
    agent_id: str | None = None,
    call_successful: ResultFilter | None = None,
    call_start_before_unix: int | None = None,
    call_start_after_unix: int | None = None,
    call_duration_min_secs: int | None = None,
    call_duration_max_secs: int | None = None,
    main_languages: Languages = None,
    tool_names: Languages = None,
    page_size: Annotated[int, Query(ge=1, le=100)] = 30,
    summary_mode: Literal["exclude", "include"] = "exclude",
    search: str | None = None,
    sort_direction: Literal["asc", "desc"] = "desc",
    branch_id: str | None = None,
    version_id: str | None = None,
    evaluation_criteria_ids: Languages = None,
) -> dict[str, Any]:
    """``GetConversationsPageResponseModel``: newest first (``sort_direction``), filtered by
    agent, branch and version it ran on, call result, start time (Unix seconds, bounds
    exclusive), duration (inclusive), language, tools called and ``search`` (substring of any
    transcript message, any case); cursor pages; ``evaluation_criteria_ids`` adds those
    criteria's results to each summary. Other filters of the document are accepted
    and ignored."""
    with emu.lock:
        resolved = [
            (record, resolve_agent(emu, record), at) for record, at in emu.all_conversations()
        ]
    include = summary_mode == "include"
    wanted = [
        conversation_summary(
            record, at, agent, with_summary=include, criteria=evaluation_criteria_ids
        )
        for record, agent, at in resolved
        if (agent_id is None or agent.agent_id == agent_id)
        and (branch_id is None or agent.branch_id == branch_id)
        and (version_id is None or agent.version_id == version_id)
        and _result_and_time(
            record, at, call_successful, call_start_after_unix, call_start_before_unix
        )
        and _within(record.call_duration_secs, call_duration_min_secs, call_duration_max_secs)
        and (not main_languages or record.main_language in main_languages)
        and (not tool_names or bool(set(tool_names) & set(views.tool_names(record))))
        and (not search or _mentions(record, search))
    ]
    if sort_direction == "asc":
        wanted.reverse()
    items, next_cursor, has_more = page(wanted, cursor, page_size)
    return {"conversations": items, "next_cursor": next_cursor, "has_more": has_more}


@router.get("/v1/convai/conversations/messages/text-search")
def text_search_conversation_messages_route(
    emu: Emu,
    text_query: str,
    agent_id: str | None = None,
    visited_agent_ids: Languages = None,
    visited_agent_branch_ids: Languages = None,
    call_successful: ResultFilter | None = None,
    call_start_before_unix: int | None = None,
    call_start_after_unix: int | None = None,
    call_duration_min_secs: int | None = None,
    call_duration_max_secs: int | None = None,
    main_languages: Languages = None,
    tool_names: Languages = None,
    branch_id: str | None = None,
    version_id: str | None = None,
    page_size: Annotated[int, Query(ge=1, le=50)] = 20,
    sort_by: SortBy = "search_score",
    cursor: str | None = None,
) -> dict[str, Any]:
    """``MessagesSearchResponse``: the transcript messages of the conversations passing the
    filters (as the list route reads them; ``branch_id``/``version_id`` and the ``visited_*``
    lists compare with the conversation's agent, branch and version) that contain every term
    of ``text_query``; cursor pages of ``page_size`` (1-50). Other filters of the document are
    accepted and ignored."""
    agents = set(visited_agent_ids or ()) | ({agent_id} if agent_id else set())
    branches = set(visited_agent_branch_ids or ()) | ({branch_id} if branch_id else set())
    with emu.lock:
        resolved = [
            (record, resolve_agent(emu, record), at) for record, at in emu.all_conversations()
        ]
    candidates = [
        Candidate(record, agent, at)
        for record, agent, at in resolved
        if (not agents or agent.agent_id in agents)
        and (not branches or agent.branch_id in branches)
        and (version_id is None or agent.version_id == version_id)
        and _result_and_time(
            record, at, call_successful, call_start_after_unix, call_start_before_unix
        )
        and _within(record.call_duration_secs, call_duration_min_secs, call_duration_max_secs)
        and (not main_languages or record.main_language in main_languages)
        and (not tool_names or bool(set(tool_names) & set(views.tool_names(record))))
    ]
    found = search_messages(candidates, text_query, sort_by)
    items, next_cursor, has_more = page(found, cursor, page_size)
    meta = {"total": len(found), "page": None, "page_size": page_size}
    return {"meta": meta, "results": items, "next_cursor": next_cursor, "has_more": has_more}


def _result_and_time(
    record: ConversationRecord,
    started: int,
    result: str | None,
    after: int | None,
    before: int | None,
) -> bool:
    outcome = record.analysis.call_successful if record.analysis else "unknown"
    if result is not None and outcome != result:
        return False
    return (after is None or started > after) and (before is None or started < before)


def _within(value: int, low: int | None, high: int | None) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


def _mentions(record: ConversationRecord, text: str) -> bool:
    needle = text.lower()
    return any(needle in (turn.message or "").lower() for turn in record.transcript)


def _find(emu: Emu, conversation_id: str) -> tuple[ConversationRecord, int]:
    for record, started in emu.all_conversations():
        if record.conversation_id == conversation_id:
            return record, started
    raise not_found("conversation", conversation_id)


@router.get("/v1/convai/conversations/{conversation_id}")
def get_conversation_history_route(conversation_id: str, emu: Emu) -> dict[str, Any]:
    """``GetConversationResponseModel`` with the transcript and analysis; 404
    ``conversation_not_found`` for an unknown id. ``format=opentelemetry`` is not emulated
    (the JSON answer is given)."""
    with emu.lock:
        record, started = _find(emu, conversation_id)
        return conversation_response(record, started, resolve_agent(emu, record))
