"""Conversations: find the calls where an agent underperformed and read them turn by turn.

- :func:`list_conversations` pages ``GET /v1/convai/conversations`` lazily (newest first) and
  stops at the limit; :func:`render_table` prints them.
- :func:`render_conversation` prints one ``GET /v1/convai/conversations/{id}`` answer: the
  transcript with turn numbers (turn *n* is the *n*-th transcript entry, counted from 1), tool
  calls and results, then the evaluation-criteria results and data collection.
- :func:`resolve_agent_id` / :func:`agent_slugs` map between a repository slug and the agent id
  (``agent.yaml`` ``environments.<env>``, else the agent tagged ``convai-ops:<slug>``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from io import StringIO
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convai_ops.errors import UsageError
from convai_ops.state import find_agent_ids

if TYPE_CHECKING:
    from convai_ops.api import ConvaiClient
    from convai_ops.spec import Project, ProjectConfig

__all__ = [
    "ConversationQuery",
    "agent_slugs",
    "format_duration",
    "format_time",
    "list_conversations",
    "parse_since",
    "render_conversation",
    "render_search_table",
    "render_table",
    "render_turn",
    "repository_agents",
    "resolve_agent_id",
]

Row = dict[str, Any]
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNIT_SECS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_TITLE_WIDTH = 60


@dataclass(frozen=True)
class ConversationQuery:
    """Which conversations to list: of ``agent`` (a repository slug or an agent id), only
    failed calls (``call_successful`` = ``failure``), started after ``since_unix`` (Unix
    seconds), with transcript messages matching ``search`` (the API's text search); at most
    ``limit``."""

    agent: str | None = None
    failed: bool = False
    since_unix: int | None = None
    search: str | None = None
    limit: int = 20


def list_conversations(
    client: ConvaiClient,
    query: ConversationQuery,
    *,
    project: Project | None = None,
    env: str = "",
) -> list[dict[str, Any]]:
    """Return up to ``query.limit`` conversation summaries, newest first.

    A slug in ``query.agent`` is resolved with ``project`` in ``env``
    (:func:`resolve_agent_id`). Calls ``GET /v1/convai/conversations`` page by page, only as
    many pages as the limit needs. With ``query.search``, calls
    ``GET /v1/convai/conversations/messages/text-search`` instead (the list's ``search`` query
    is deprecated) and returns one row per conversation with its matching messages (shape in
    :func:`_search`; :func:`render_search_table` prints them). Raises :class:`UsageError` for
    an unknown agent or a blank search, :class:`ApiError` from the client.
    """
    if query.search is not None and not query.search.strip():
        raise UsageError("--search needs some text to look for")
    agent_id = query.agent
    if agent_id and project is not None:
        agent_id = resolve_agent_id(client, project, env, agent_id)
    if query.search is not None:
        return _search(client, query, agent_id)
    pages = client.iter_conversations(
        agent_id=agent_id,
        call_successful="failure" if query.failed else None,
        call_start_after_unix=query.since_unix,
        page_size=max(1, min(query.limit, 100)),
    )
    return list(islice(pages, query.limit))


def _search(client: ConvaiClient, query: ConversationQuery, agent_id: str | None) -> list[Row]:
    assert query.search is not None
    """One row per conversation with messages matching ``query.search``, newest first:
    ``{"conversation_id", "agent_id", "agent_name", "start_time_unix_secs", "matches":
    [{"turn", "text"}]}`` (``turn`` counted from 1, as ``conversations show`` numbers them)."""
    results = client.iter_message_search(
        query.search,
        agent_id=agent_id,
        call_successful="failure" if query.failed else None,
        call_start_after_unix=query.since_unix,
        sort_by="created_at",
        page_size=max(1, min(query.limit, 50)),
    )
    rows: dict[str, Row] = {}
    for result in results:
        key = str(result["conversation_id"])
        if key not in rows and len(rows) == query.limit:
            break
        row = rows.setdefault(key, _search_row(result))
        row["matches"].append(
            {"turn": int(result["transcript_index"]) + 1, "text": result.get("chunk_text", "")}
        )
    return list(rows.values())


def _search_row(result: Mapping[str, Any]) -> Row:
    return {
        "conversation_id": result["conversation_id"],
        "agent_id": result.get("agent_id"),
        "agent_name": result.get("agent_name"),
        "start_time_unix_secs": result.get("conversation_start_time_unix_secs"),
        "matches": [],
    }


def parse_since(text: str, *, now: float) -> int:
    """Return the Unix time ``text`` names: a duration back from ``now`` (``90s``, ``30m``,
    ``24h``, ``7d``, ``2w``) or a UTC date/time (``2025-06-01``, ``2025-06-01T14:00``).

    Raises :class:`UsageError` for anything else.
    """
    match = _DURATION.match(text)
    if match:
        return int(now) - int(match[1]) * _UNIT_SECS[match[2]]
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"--since {text!r}: expected a duration like 7d, 24h, 30m or a date like 2025-06-01"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def agent_slugs(client: ConvaiClient, project: Project, env: str) -> dict[str, str]:
    """Map agent id -> slug for the repository's agents that exist in ``env``.

    Ids written in ``agent.yaml`` win; the others are found by their ``convai-ops:<slug>`` tag
    (``state.find_agent_ids``: ``GET /v1/convai/agents``, only when some agent has no written
    id). Raises ``AmbiguousAgentError`` when two agents carry one agent's tag.
    """
    ids = find_agent_ids(client, project.agents, env)
    return {agent_id: slug for slug, agent_id in ids.items()}


def repository_agents(root: Path, config: ProjectConfig) -> Project:
    """The repository's agents with only their slug, folder, name, ids per environment,
    ``conversation_config`` and ``overrides`` as written (for their dynamic variables).

    Unlike :func:`convai_ops.spec.load_project` it reads no prompt, knowledge or test file,
    so a test still holding a ``TODO:`` placeholder does not stop conversations being read or
    turned into tests. Raises :class:`SpecError` for an agent.yaml that is not YAML.
    """
    from convai_ops.spec import AgentSpec, Project
    from convai_ops.spec.yamlio import read_document

    agents = []
    for path in sorted((root / "agents").glob("*/agent.yaml")):
        data = read_document(path).data
        ids = data.get("environments")
        ids = ids if isinstance(ids, dict) else {}
        name = str(data.get("name") or path.parent.name)
        environments = {str(k): str(v) for k, v in ids.items()}
        agents.append(
            AgentSpec(
                slug=path.parent.name,
                dir=path.parent,
                name=name,
                environments=environments,
                previous_slugs=tuple(str(p) for p in data.get("previous_slugs") or ()),
                conversation_config=_mapping(data.get("conversation_config")),
                overrides={str(k): _mapping(v) for k, v in _mapping(data.get("overrides")).items()},
            )
        )
    return Project(root=root, config=config, agents=tuple(agents))


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def resolve_agent_id(client: ConvaiClient, project: Project, env: str, target: str) -> str:
    """Return the agent id for ``target``: a repository slug, or an agent id as it is.

    Raises :class:`UsageError` when ``target`` is a slug whose agent does not exist in ``env``,
    or neither a slug nor an id (ids contain ``_``).
    """
    if target not in {agent.slug for agent in project.agents}:
        if "_" in target:
            return target
        project.agent(target)  # raises UsageError with a suggestion
    written = project.agent(target).agent_id(env)
    if written:
        return written
    for agent_id, slug in agent_slugs(client, project, env).items():
        if slug == target:
            return agent_id
    raise UsageError(
        f"agent {target!r} does not exist in environment {env!r} yet: run `convai-ops apply`"
    )


def format_time(unix: int | float | None) -> str:
    """``2025-06-01 14:03`` (UTC) for a Unix time, ``-`` when unknown."""
    if unix is None:
        return "-"
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%d %H:%M")


def format_duration(seconds: int | float | None) -> str:
    """``m:ss`` (``1:05``), ``-`` when unknown."""
    if seconds is None:
        return "-"
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def render_table(conversations: Sequence[Mapping[str, Any]]) -> str:
    """A table of conversation summaries: id, start (UTC), duration, status, call result,
    summary title; ``No conversations.`` when empty."""
    if not conversations:
        return "No conversations.\n"
    header = ("CONVERSATION", "STARTED (UTC)", "DURATION", "STATUS", "RESULT", "TITLE")
    rows = [header, *(_row(item) for item in conversations)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def render_search_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """The rows of a ``--search`` listing: conversation, start (UTC), agent, then one
    ``turn N: message`` line per matching message; ``No conversations.`` when empty."""
    if not rows:
        return "No conversations.\n"
    lines = []
    for row in rows:
        agent = row.get("agent_name") or row.get("agent_id") or "-"
        started = format_time(row.get("start_time_unix_secs"))
        lines.append(f"{row['conversation_id']}  {started}  {agent}")
        for match in row.get("matches") or ():
            text = " ".join(str(match.get("text", "")).split())
            lines.append(f"  turn {match.get('turn')}: {text}")
    return "\n".join(lines) + "\n"


def _row(item: Mapping[str, Any]) -> tuple[str, ...]:
    title = str(item.get("call_summary_title") or item.get("transcript_summary") or "")
    if len(title) > _TITLE_WIDTH:
        title = title[: _TITLE_WIDTH - 3] + "..."
    return (
        str(item["conversation_id"]),
        format_time(item.get("start_time_unix_secs")),
        format_duration(item.get("call_duration_secs")),
        str(item.get("status", "-")),
        str(item.get("call_successful", "-")),
        title,
    )


def render_conversation(conversation: Mapping[str, Any], fmt: str = "text") -> str:
    """``conversation`` (a ``GET /v1/convai/conversations/{id}`` answer) as ``text`` (header
    with the agent and the branch and version the call ran on, numbered transcript, evaluation
    criteria, data collection, summary), ``json`` or ``yaml``.

    Raises :class:`UsageError` for another format.
    """
    if fmt == "json":
        return json.dumps(conversation, indent=2, ensure_ascii=False) + "\n"
    if fmt == "yaml":
        return _yaml(conversation)
    if fmt != "text":
        raise UsageError(f"unknown format {fmt!r} (expected text, json or yaml)")
    parts = [_header(conversation), _transcript(conversation.get("transcript") or [])]
    parts.append(_analysis(conversation.get("analysis") or {}))
    return "\n".join(part for part in parts if part)


def _yaml(data: Mapping[str, Any]) -> str:
    from convai_ops.spec.yamlio import round_trip_yaml

    buffer = StringIO()
    round_trip_yaml().dump(json.loads(json.dumps(data)), buffer)
    return buffer.getvalue()


def _header(conversation: Mapping[str, Any]) -> str:
    meta = conversation.get("metadata") or {}
    analysis = conversation.get("analysis") or {}
    agent = str(conversation.get("agent_id"))
    if conversation.get("agent_name"):
        agent = f"{conversation['agent_name']} ({agent})"
    lines = [
        f"Conversation {conversation['conversation_id']}",
        f"  agent:    {agent}",
        f"  ran on:   branch {conversation.get('branch_id') or '-'}, "
        f"version {conversation.get('version_id') or '-'}",
        f"  started:  {format_time(meta.get('start_time_unix_secs'))} UTC, "
        f"{format_duration(meta.get('call_duration_secs'))} long, "
        f"status {conversation.get('status')}, language {meta.get('main_language') or '-'}",
        f"  result:   {analysis.get('call_successful', '-')}"
        + (f" - {analysis['call_summary_title']}" if analysis.get("call_summary_title") else ""),
    ]
    return "\n".join(lines) + "\n"


def _transcript(turns: Sequence[Mapping[str, Any]]) -> str:
    lines = [f"Transcript ({len(turns)} turns)"]
    width = len(str(len(turns)))
    lines += [render_turn(turn, number, width) for number, turn in enumerate(turns, 1)]
    return "\n".join(lines) + "\n"


def render_turn(turn: Mapping[str, Any], number: int, width: int = 2) -> str:
    """One transcript entry: ``[ 3] 0:07 agent  text``, then one line per tool call
    (``-> name {params}``) and tool result (``<- name: value``, ``[error]`` when it failed)."""
    clock = format_duration(turn.get("time_in_call_secs"))
    prefix = f"  [{number:>{width}}] {clock:>5} {turn.get('role', '?'):<5}  "
    pad = " " * len(prefix)
    lines = []
    message = turn.get("message")
    if message:
        lines.append(prefix + str(message).replace("\n", "\n" + pad))
    for call in turn.get("tool_calls") or []:
        lines.append(
            f"{pad if lines else prefix}-> {call.get('tool_name')} {call.get('params_as_json', '')}"
        )
    for result in turn.get("tool_results") or []:
        flag = "  [error]" if result.get("is_error") else ""
        lines.append(
            f"{pad if lines else prefix}<- {result.get('tool_name')}: "
            f"{result.get('result_value', '')}{flag}"
        )
    return "\n".join(lines) if lines else prefix + "(no message)"


def _analysis(analysis: Mapping[str, Any]) -> str:
    if not analysis:
        return "No analysis.\n"
    lines = ["Evaluation criteria"]
    criteria = analysis.get("evaluation_criteria_results") or {}
    lines += [
        f"  {key}: {item.get('result')} - {item.get('rationale', '')}"
        for key, item in criteria.items()
    ] or ["  (none)"]
    lines.append("Data collection")
    collected = analysis.get("data_collection_results") or {}
    lines += [
        f"  {key} = {json.dumps(item.get('value'), ensure_ascii=False)}"
        + (f" ({item['rationale']})" if item.get("rationale") else "")
        for key, item in collected.items()
    ] or ["  (none)"]
    if analysis.get("transcript_summary"):
        lines += ["Summary", f"  {analysis['transcript_summary']}"]
    return "\n".join(lines) + "\n"
