"""Response bodies for recorded conversations, shaped per the OpenAPI document.

A record's agent is resolved on every request (rule in :mod:`convai_ops.emulator.conversations`):
the agent tagged ``convai-ops:<slug>``, else the placeholder id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from convai_ops.emulator.conversations import ConversationRecord, TurnRecord, placeholder_agent_id
from convai_ops.emulator.core import Emulator
from convai_ops.emulator.store import Agent

__all__ = [
    "MANAGED_TAG_PREFIX",
    "ResolvedAgent",
    "conversation_response",
    "conversation_summary",
    "resolve_agent",
]

MANAGED_TAG_PREFIX = "convai-ops:"


@dataclass(frozen=True)
class ResolvedAgent:
    """The agent a conversation is answered with (``branch_id``/``version_id`` of its main)."""

    agent_id: str
    agent_name: str | None
    branch_id: str | None = None
    version_id: str | None = None


def resolve_agent(emu: Emulator, record: ConversationRecord) -> ResolvedAgent:
    """Return the agent of ``record`` as the store holds it now (call under ``emu.lock``); a
    record naming its ``branch_id`` keeps its branch and version."""
    agent = _stored_agent(emu, record)
    if record.branch_id is not None:
        name = agent.name if agent else record.agent_name
        agent_id = agent.id if agent else str(record.agent_id)
        return ResolvedAgent(agent_id, name, record.branch_id, record.version_id)
    if agent is None:
        agent_id = record.agent_id or placeholder_agent_id(str(record.agent))
        return ResolvedAgent(agent_id, record.agent_name)
    branch = emu.store.branches.get(agent.main_branch_id)
    version_id = branch.tip_version_id if branch and agent.versioned else None
    branch_id = agent.main_branch_id if agent.versioned else None
    return ResolvedAgent(agent.id, agent.name, branch_id, version_id)


def _stored_agent(emu: Emulator, record: ConversationRecord) -> Agent | None:
    if record.agent_id:
        return emu.store.agents.get(record.agent_id)
    tag = MANAGED_TAG_PREFIX + str(record.agent)
    tagged = [agent for agent in emu.store.agents.values() if tag in agent.tags]
    return max(tagged, key=lambda agent: agent.created_at, default=None)


def conversation_summary(
    record: ConversationRecord,
    started: int,
    agent: ResolvedAgent,
    *,
    with_summary: bool,
    criteria: list[str] | None = None,
) -> dict[str, Any]:
    """``ConversationSummaryResponseModel``; ``transcript_summary`` only ``with_summary``;
    ``evaluation_criteria_results`` (id -> ``{"result", "score", "max_score"}``) only for the
    ``criteria`` ids asked for (the spec: "When omitted, evaluation_criteria_results is not
    returned")."""
    analysis = record.analysis
    body: dict[str, Any] = {
        "agent_id": agent.agent_id,
        "branch_id": agent.branch_id,
        "version_id": agent.version_id,
        "agent_name": agent.agent_name,
        "conversation_id": record.conversation_id,
        "start_time_unix_secs": started,
        "call_duration_secs": record.call_duration_secs,
        "message_count": len(record.transcript),
        "status": record.status,
        "termination_reason": record.termination_reason,
        "call_successful": analysis.call_successful if analysis else "unknown",
        "call_summary_title": analysis.call_summary_title if analysis else None,
        "main_language": record.main_language,
        "tool_names": tool_names(record),
        "tag_ids": [],
    }
    if with_summary:
        body["transcript_summary"] = analysis.transcript_summary if analysis else None
    if criteria:
        results = analysis.evaluation_criteria_results if analysis else {}
        body["evaluation_criteria_results"] = {
            key: {"result": value.get("result", "unknown"), "score": None, "max_score": None}
            for key, value in results.items()
            if key in criteria
        }
    return body


def tool_names(record: ConversationRecord) -> list[str]:
    """The distinct tools called during ``record``, in call order."""
    names = [call.get("tool_name") for turn in record.transcript for call in turn.tool_calls]
    return list(dict.fromkeys(str(name) for name in names if name))


def conversation_response(
    record: ConversationRecord, started: int, agent: ResolvedAgent
) -> dict[str, Any]:
    """``GetConversationResponseModel``: metadata, the transcript and the analysis."""
    return {
        "agent_id": agent.agent_id,
        "agent_name": agent.agent_name,
        "status": record.status,
        "user_id": record.user_id,
        "branch_id": agent.branch_id,
        "version_id": agent.version_id,
        "metadata": {
            "start_time_unix_secs": started,
            "call_duration_secs": record.call_duration_secs,
            "cost_fiat": None,
            "termination_reason": record.termination_reason,
            "main_language": record.main_language,
            "text_only": False,
        },
        "analysis": _analysis(record),
        "conversation_id": record.conversation_id,
        "has_audio": False,
        "has_user_audio": False,
        "has_response_audio": False,
        "has_auxiliary_audio": False,
        "transcript": [_turn(turn, agent) for turn in record.transcript],
        "tag_ids": [],
        "conversation_initiation_client_data": _client_data(record, agent),
    }


def _client_data(record: ConversationRecord, agent: ResolvedAgent) -> dict[str, Any]:
    """``conversation_initiation_client_data``: the recorded dynamic variables with the system
    variables the platform sets in every conversation (agent and conversation ids)."""
    system = {
        "system__agent_id": agent.agent_id,
        "system__conversation_id": record.conversation_id,
        "system__call_duration_secs": record.call_duration_secs,
    }
    return {"dynamic_variables": {**system, **record.dynamic_variables}}


def _turn(turn: TurnRecord, agent: ResolvedAgent) -> dict[str, Any]:
    body: dict[str, Any] = {"role": turn.role}
    if turn.role == "agent":
        body["agent_metadata"] = {
            "agent_id": agent.agent_id,
            "branch_id": agent.branch_id,
            "version_id": agent.version_id,
        }
    body.update(
        message=turn.message,
        tool_calls=[dict(call) for call in turn.tool_calls],
        tool_results=[dict(result) for result in turn.tool_results],
        time_in_call_secs=turn.time_in_call_secs,
        interrupted=False,
    )
    return body


def _analysis(record: ConversationRecord) -> dict[str, Any] | None:
    analysis = record.analysis
    if analysis is None:
        return None
    criteria = {key: dict(value) for key, value in analysis.evaluation_criteria_results.items()}
    collected = {key: dict(value) for key, value in analysis.data_collection_results.items()}
    return {
        "evaluation_criteria_results": criteria,
        "data_collection_results": collected,
        "evaluation_criteria_results_list": list(criteria.values()),
        "data_collection_results_list": list(collected.values()),
        "call_successful": analysis.call_successful,
        "transcript_summary": analysis.transcript_summary,
        "call_summary_title": analysis.call_summary_title,
    }
