"""Recorded conversations the emulator serves: the fixture format and its loader.

The emulator has no live calls, so its conversation history is a fixture: by default the bundled
``data/conversations.json`` (calls to the example agents ``support`` and ``assistant``), or the
file named by ``EmulatorConfig.conversations_file`` instead. The file holds
``{"conversations": [record, ...]}``; a record::

    {
      "conversation_id": "conv_...",
      "agent": "support",               # the agent's slug, or
      "agent_id": "agent_...",          # a literal agent id (wins over "agent")
      "agent_name": "Acme Support",     # shown while the agent does not exist
      "started_ago_secs": 7200,         # start relative to when the emulator starts, or
      "start_time_unix_secs": 1760000000,
      "call_duration_secs": 95,
      "status": "done",                 # initiated | in-progress | processing | done | failed
      "main_language": "en",
      "termination_reason": "Call ended by remote party",
      "dynamic_variables": {"customer_name": "Dana"},   # what the call was started with
      "transcript": [{"role": "agent", "message": "...", "time_in_call_secs": 0,
                      "tool_calls": [...], "tool_results": [...]}, ...],
      "analysis": {"call_successful": "failure", "transcript_summary": "...",
                   "call_summary_title": "...", "evaluation_criteria_results": {...},
                   "data_collection_results": {...}}
    }

**Which agent a conversation belongs to.** Agent ids exist only once agents are created, so a
record names its agent by slug. On every request the emulator resolves the slug to the agent
carrying the tag ``convai-ops:<slug>`` (the newest such agent; the tag ``convai-ops apply``
puts on the agents it creates), and answers that agent's id, name and main branch. A record
whose agent does not exist (yet) is still listed, with the placeholder id
``unresolved:<slug>`` (see :func:`placeholder_agent_id`).

**Which branch and version.** A record may name the ``branch_id`` and ``version_id`` it ran on
(the synthetic live conversations of :mod:`convai_ops.emulator.traffic` do); without them it
is answered with its agent's main branch and main's current version.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

__all__ = [
    "BUNDLED_CONVERSATIONS",
    "AnalysisRecord",
    "ConversationRecord",
    "TurnRecord",
    "load_conversations",
    "placeholder_agent_id",
]

BUNDLED_CONVERSATIONS = Path(__file__).parent / "data" / "conversations.json"
Result = Literal["success", "failure", "unknown"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TurnRecord(_Record):
    """One transcript entry; ``tool_calls``/``tool_results`` use the API's transcript shapes."""

    role: Literal["user", "agent"]
    message: str | None = None
    time_in_call_secs: int = 0
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)
    tool_results: list[dict[str, Any]] = Field(default_factory=list)


class AnalysisRecord(_Record):
    """The post-call analysis; criteria and data collection results are keyed by their id."""

    call_successful: Result
    transcript_summary: str
    call_summary_title: str | None = None
    evaluation_criteria_results: dict[str, dict[str, Any]] = Field(default_factory=dict)
    data_collection_results: dict[str, dict[str, Any]] = Field(default_factory=dict)


class ConversationRecord(_Record):
    """One recorded conversation (format in the module docstring)."""

    conversation_id: str = Field(min_length=1)
    agent: str | None = None
    agent_id: str | None = None
    agent_name: str | None = None
    started_ago_secs: int | None = Field(None, ge=0)
    start_time_unix_secs: int | None = None
    call_duration_secs: int = Field(ge=0)
    status: Literal["initiated", "in-progress", "processing", "done", "failed"] = "done"
    main_language: str | None = "en"
    termination_reason: str = ""
    user_id: str | None = None
    dynamic_variables: dict[str, str | int | float | bool] = Field(default_factory=dict)
    transcript: list[TurnRecord]
    analysis: AnalysisRecord | None = None
    branch_id: str | None = None
    version_id: str | None = None

    @model_validator(mode="after")
    def _one_agent_and_start(self) -> ConversationRecord:
        if not (self.agent or self.agent_id):
            raise ValueError("name the agent: 'agent' (slug) or 'agent_id'")
        if (self.started_ago_secs is None) == (self.start_time_unix_secs is None):
            raise ValueError("give exactly one of 'started_ago_secs', 'start_time_unix_secs'")
        return self

    def started_at(self, loaded_at: int) -> int:
        """Unix seconds the call started, given when the file was loaded."""
        if self.start_time_unix_secs is not None:
            return self.start_time_unix_secs
        return loaded_at - (self.started_ago_secs or 0)


class _File(_Record):
    conversations: list[ConversationRecord]


def placeholder_agent_id(slug: str) -> str:
    """The id answered for a conversation whose agent ``slug`` does not exist yet."""
    return f"unresolved:{slug}"


def load_conversations(
    path: Path | None, *, now: float | None = None
) -> tuple[tuple[ConversationRecord, int], ...]:
    """Return each record of ``path`` (the bundled fixture when ``None``) with its start time
    in Unix seconds, newest first.

    Raises ``ValueError`` naming the file when it is not JSON or not in the format above, or
    when two records share a ``conversation_id``.
    """
    source = path or BUNDLED_CONVERSATIONS
    loaded_at = int(time.time() if now is None else now)
    try:
        records = _File.model_validate(json.loads(source.read_text("utf-8"))).conversations
    except (ValueError, ValidationError) as error:
        raise ValueError(f"{source} is not a conversations file: {error}") from None
    ids = [record.conversation_id for record in records]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{source}: conversation ids must be unique")
    dated = [(record, record.started_at(loaded_at)) for record in records]
    dated.sort(key=lambda pair: -pair[1])
    return tuple(dated)
