"""Turn a moment of a recorded conversation into a repeatable test, and check tool-call tests.

A *moment* is an agent turn ``N`` of a transcript (turns counted from 1, one per transcript
entry). From it :func:`write_test` drafts ``agents/<slug>/tests/<name>.yaml``:

- ``llm`` / ``tool``: ``chat_history`` = turns 1..N-1 (roles, messages, tool calls and results
  kept); the agent's original reply (turn N and the agent turns right after it) goes into
  ``from_conversation_metadata.original_agent_reply``. An ``llm`` test gets that reply as its
  failure example and a ``success_condition`` holding the ``TODO:`` placeholder, which
  ``convai-ops validate`` refuses until it is replaced. A ``tool`` test gets
  ``tool_call_parameters`` naming the tool the agent called there, one ``llm`` check per
  parameter whose description holds the placeholder.
- ``simulation``: the moment is replayed from the user message it answered: ``chat_history`` =
  the turns before that message, ``simulation_scenario`` = the caller's messages from there on
  (one per line, after a line naming the conversation's language when it is not English, since
  simulation tests have no language field), ``success_conditions`` = one placeholder; every
  tool is mocked, answering as it did in the conversation (``tool_mock_overrides`` from
  :func:`convai_ops.tool_mocks.mocks_from_transcript`).

Every type copies the call's dynamic variables
(``conversation_initiation_client_data.dynamic_variables``) into ``dynamic_variables`` when
the agent has a placeholder of that name
(:func:`convai_ops.spec.dynamic_variables.call_variables`); system variables (set by
the platform), ``secret__`` ones (kept out of files) and names without a placeholder are left
out, each named in the file's header.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convai_ops.errors import UsageError
from convai_ops.spec import PLACEHOLDER, SCHEMA_HEADER, dump_yaml, openapi
from convai_ops.tool_mocks import MOCK_ALL, mocks_from_transcript

if TYPE_CHECKING:
    from convai_ops.api import ConvaiClient
    from convai_ops.spec import AgentSpec, Project

__all__ = [
    "LANGUAGES",
    "Moment",
    "NewTest",
    "chat_entry",
    "check_test_name",
    "conversation_metadata",
    "draft_test",
    "language_line",
    "moment_at",
    "new_test",
    "tool_ids_by_name",
    "write_test",
]

MAX_CHAT_HISTORY = 200  # the API's maxItems for chat_history
LANGUAGES = {"en": "English", "ro": "Romanian", "de": "German", "fr": "French", "es": "Spanish"}
LANGUAGES.update(it="Italian", pt="Portuguese", nl="Dutch", pl="Polish", hu="Hungarian")
_CHAT_KEYS = ("role", "message", "time_in_call_secs", "tool_calls", "tool_results")
_CHAT_SCHEMA = {
    "$ref": openapi.OPENAPI_REF_PREFIX + "ConversationHistoryTranscriptCommonModel-Input"
}
_TOOL_TYPES = ("system", "webhook", "client", "workflow", "api_integration_webhook", "mcp", "code")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
Entry = dict[str, Any]


@dataclass(frozen=True)
class Moment:
    """Agent turn ``turn`` of ``conversation`` (a ``GET /v1/convai/conversations/{id}`` body).

    ``history`` holds turns before it and ``reply`` the agent turns from it to the next user
    turn, both as ``chat_history`` entries.
    """

    conversation: Mapping[str, Any]
    turn: int
    history: tuple[Entry, ...]
    reply: tuple[Entry, ...]

    @property
    def reply_text(self) -> str:
        """The agent's spoken reply (its messages joined), ``""`` when it only called tools."""
        return " ".join(str(e["message"]) for e in self.reply if e.get("message")).strip()

    @property
    def tool_call(self) -> Mapping[str, Any] | None:
        """The first tool call of the reply, if any."""
        return next((call for e in self.reply for call in e.get("tool_calls") or []), None)

    @property
    def language(self) -> str | None:
        """The conversation's main language code (``ro``), when known."""
        meta = self.conversation.get("metadata") or {}
        return meta.get("main_language")

    def opening(self) -> tuple[tuple[Entry, ...], list[str]]:
        """``(history, caller lines)`` to replay the moment as a simulation: the turns before
        the user message the reply answers, and the caller's messages from that one on."""
        turns = [chat_entry(t) for t in self.conversation.get("transcript") or []]
        start = max((i for i in range(self.turn - 1) if turns[i]["role"] == "user"), default=0)
        lines = [
            str(t["message"]) for t in turns[start:] if t["role"] == "user" and t.get("message")
        ]
        return tuple(turns[:start]), lines


def chat_entry(turn: Mapping[str, Any]) -> Entry:
    """A transcript entry as a ``chat_history`` entry: role, message, time and tool calls and
    results, with only the keys the create-test request accepts."""
    kept = {key: turn[key] for key in _CHAT_KEYS if turn.get(key) not in (None, [])}
    kept.setdefault("time_in_call_secs", 0)
    pruned: Entry = _prune(kept, _CHAT_SCHEMA)
    return pruned


def _prune(value: Any, schema: Any) -> Any:
    if isinstance(value, dict):
        known = openapi.properties_of(schema, value)
        if known is None:
            return value
        return {k: _prune(v, known[k]) for k, v in value.items() if k in known}
    if isinstance(value, list):
        item = openapi.items_of(schema)
        return value if item is None else [_prune(v, item) for v in value]
    return value


def moment_at(conversation: Mapping[str, Any], turn: int) -> Moment:
    """Return the moment at agent turn ``turn`` (1-based).

    Raises :class:`UsageError` when the turn does not exist or is the user's.
    """
    turns = list(conversation.get("transcript") or [])
    conversation_id = conversation.get("conversation_id")
    if not 1 <= turn <= len(turns):
        raise UsageError(
            f"--at-turn {turn}: conversation {conversation_id} has turns 1-{len(turns)}"
        )
    if turns[turn - 1].get("role") != "agent":
        agent_turns = [str(i) for i, t in enumerate(turns, 1) if t.get("role") == "agent"]
        raise UsageError(
            f"--at-turn {turn} is the user's; name the agent reply to reproduce "
            f"(agent turns: {', '.join(agent_turns) or 'none'})"
        )
    end = next((i for i in range(turn, len(turns)) if turns[i].get("role") == "user"), len(turns))
    history = [chat_entry(t) for t in turns[: turn - 1]][-MAX_CHAT_HISTORY:]
    reply = [chat_entry(t) for t in turns[turn - 1 : end]]
    return Moment(conversation, turn, tuple(history), tuple(reply))


def language_line(language: str | None) -> str | None:
    """The scenario line naming a non-English ``language`` (``Speak Romanian (ro) ...``)."""
    if not language or language == "en":
        return None
    return f"Speak {LANGUAGES.get(language, language)} ({language}) throughout, as the caller did."


def draft_test(
    moment: Moment,
    test_type: str,
    tool: Mapping[str, str] | None = None,
    tool_ids: Mapping[str, str] | None = None,
) -> Entry:
    """The test file's body for ``test_type`` (``llm``, ``tool``, ``simulation``); ``tool`` is
    the ``referenced_tool`` of a ``tool`` test (default: the called tool, by name);
    ``tool_ids`` maps tool names to workspace ids for a simulation's mocks (default: names).

    Raises :class:`UsageError` for a ``tool`` test of a moment without a tool call.
    """
    if test_type == "simulation":
        return _simulation_body(moment, tool_ids or {})
    body: Entry = {"type": test_type}
    if test_type == "tool":
        body["tool_call_parameters"] = _tool_check(moment, tool)
    else:
        body["success_condition"] = (
            f"{PLACEHOLDER} say what a good reply does, quoting in double quotes the words it "
            "must contain; the original reply is the failure example"
        )
        if moment.reply_text:
            body["failure_examples"] = [moment.reply_text]
    body["chat_history"] = list(moment.history)
    body["from_conversation_metadata"] = conversation_metadata(moment)
    return body


def _simulation_body(moment: Moment, tool_ids: Mapping[str, str]) -> Entry:
    history, lines = moment.opening()
    persona = language_line(moment.language)
    script = [persona, *lines] if persona else lines
    body: Entry = {
        "type": "simulation",
        "simulation_scenario": "\n".join(script),
        "simulation_max_turns": max(1, min(len(script), 50)),
        "success_conditions": [f"{PLACEHOLDER} say what a good conversation achieves"],
        "chat_history": list(history),
        "from_conversation_metadata": conversation_metadata(moment),
        "tool_mock_config": dict(MOCK_ALL),
    }
    overrides = mocks_from_transcript(moment.conversation.get("transcript") or [], tool_ids)
    if overrides:
        body["tool_mock_overrides"] = overrides
    return body


def _tool_check(moment: Moment, tool: Mapping[str, str] | None) -> Entry:
    call = moment.tool_call
    if call is None:
        raise UsageError(
            f"turn {moment.turn} made no tool call: use --type llm, or pick the agent turn "
            "that calls the tool"
        )
    kind = str(call.get("type") or "client")
    reference = dict(tool or {"id": str(call["tool_name"]), "type": kind})
    if "name" not in reference and reference["type"] not in _TOOL_TYPES:
        reference["type"] = "client"
    params = _flatten(json.loads(call.get("params_as_json") or "{}"))
    checks = [
        {"path": path, "eval": {"type": "llm", "description": _param_placeholder(path, value)}}
        for path, value in params
    ]
    return {"referenced_tool": reference, "parameters": checks}


def _param_placeholder(path: str, value: Any) -> str:
    shown = json.dumps(value, ensure_ascii=False)
    return f"{PLACEHOLDER} say what a correct {path} is (the agent passed {shown})"


def _flatten(params: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if not isinstance(params, dict):
        return []
    found: list[tuple[str, Any]] = []
    for key, value in params.items():
        if isinstance(value, dict):
            found += _flatten(value, f"{prefix}{key}.")
        else:
            found.append((f"{prefix}{key}", value))
    return found


def conversation_metadata(moment: Moment) -> Entry:
    """``from_conversation_metadata`` for ``moment``: ids and the original agent reply."""
    conversation = moment.conversation
    first = (moment.conversation.get("transcript") or [{}])[moment.turn - 1]
    node = (first.get("agent_metadata") or {}).get("workflow_node_id")
    metadata: Entry = {
        "conversation_id": str(conversation["conversation_id"]),
        "agent_id": str(conversation["agent_id"]),
        "branch_id": conversation.get("branch_id"),
    }
    if node:
        metadata["workflow_node_id"] = node
    metadata["original_agent_reply"] = list(moment.reply)
    return metadata


def check_test_name(name: str, flag: str = "--name") -> None:
    """Raise :class:`UsageError` unless ``name`` is usable as a test file name (letters,
    digits, ``.``, ``-``, ``_``; not starting with ``.``)."""
    if not _NAME.fullmatch(name):
        raise UsageError(f"{flag} {name!r}: use letters, digits, '.', '-' and '_' only")


@dataclass(frozen=True)
class NewTest:
    """A test file written from a conversation: its ``path``, the agent ``slug``, the test
    ``body`` and ``todo`` (True when a placeholder must be filled in)."""

    path: Path
    slug: str
    body: Entry
    todo: bool


def write_test(
    agent: AgentSpec,
    moment: Moment,
    test_type: str,
    *,
    name: str | None = None,
    tool: Mapping[str, str] | None = None,
    overwrite: bool = False,
    tool_ids: Mapping[str, str] | None = None,
) -> NewTest:
    """Write ``agents/<slug>/tests/<name>.yaml`` for ``moment`` (see the module docstring).

    ``name`` defaults to ``<conversation id>-turn-<N>``. Raises :class:`UsageError` when the
    file exists (unless ``overwrite``) or the name is not usable, ``OSError`` when writing fails.
    """
    stem = name or f"{moment.conversation['conversation_id']}-turn-{moment.turn}"
    check_test_name(stem)
    path = agent.dir / "tests" / f"{stem}.yaml"
    if path.exists() and not overwrite:
        raise UsageError(f"{path} already exists: choose another --name (or --force)")
    from convai_ops.spec.dynamic_variables import call_variables, declared_placeholders

    body = draft_test(moment, test_type, tool, tool_ids)
    variables, left_out = call_variables(moment.conversation, declared_placeholders(agent))
    if variables:
        body = {"type": body["type"], "dynamic_variables": variables, **body}
    header = _header(moment, test_type, agent.slug)
    if left_out:
        header += "\n# Not copied from the call's dynamic variables: " + ", ".join(left_out)
    dump_yaml(body, path, header=header)
    return NewTest(path, agent.slug, body, todo=PLACEHOLDER in json.dumps(body))


def new_test(
    client: ConvaiClient,
    project: Project,
    env: str,
    conversation_id: str,
    turn: int,
    test_type: str,
    *,
    name: str | None = None,
    slug: str | None = None,
    overwrite: bool = False,
) -> NewTest:
    """Write a test reproducing agent turn ``turn`` of a conversation (see
    :func:`write_test`).

    The agent folder is ``slug``'s, else the repository agent whose id in ``env`` is the
    conversation's. Calls ``GET /v1/convai/conversations/{id}``, ``GET /v1/convai/agents`` (to
    find agents by tag, without ``slug``) and ``GET /v1/convai/tools`` (``tool`` tests, and
    simulation tests of a conversation with tool calls). Raises
    :class:`UsageError` (unknown slug, agent not in the repository, bad turn) or
    :class:`ApiError`.
    """
    from convai_ops.conversations import agent_slugs

    if name is not None:
        check_test_name(name)
    agent = project.agent(slug) if slug else None
    conversation = client.get_conversation(conversation_id)
    moment = moment_at(conversation, turn)
    if agent is None:
        found = agent_slugs(client, project, env).get(str(conversation["agent_id"]))
        if found is None:
            raise UsageError(
                f"conversation {conversation_id} belongs to agent {conversation['agent_id']}, "
                "which is not an agent of this repository: pass --agent SLUG"
            )
        agent = project.agent(found)
    tool = _referenced_tool(client, moment, project) if test_type == "tool" else None
    ids = tool_ids_by_name(client) if test_type == "simulation" and _calls_tools(moment) else None
    return write_test(
        agent, moment, test_type, name=name, tool=tool, overwrite=overwrite, tool_ids=ids
    )


def _calls_tools(moment: Moment) -> bool:
    return any(turn.get("tool_results") for turn in moment.conversation.get("transcript") or [])


def tool_ids_by_name(client: ConvaiClient) -> dict[str, str]:
    """Map each workspace tool's name to its id (``GET /v1/convai/tools``)."""
    return {str(t["tool_config"].get("name")): str(t["id"]) for t in client.iter_tools()}


def _referenced_tool(
    client: ConvaiClient, moment: Moment, project: Project
) -> dict[str, str] | None:
    """The called tool by name when the repository has ``tools/<name>.yaml`` (resolved in each
    environment when synced), else by id when the workspace has a tool of that name, else by
    name."""
    call = moment.tool_call
    if call is None:
        return None
    name = str(call["tool_name"])
    if (project.root / "tools" / f"{name}.yaml").is_file():
        return {"name": name}
    return {
        "id": tool_ids_by_name(client).get(name, name),
        "type": str(call.get("type") or "client"),
    }


def _header(moment: Moment, test_type: str, slug: str) -> str:
    conversation_id = moment.conversation["conversation_id"]
    what = {
        "llm": "Fill in success_condition (the agent's reply there is the failure example)",
        "tool": "Fill in each parameter check of tool_call_parameters",
        "simulation": "Fill in success_conditions",
    }[test_type]
    lines = [
        SCHEMA_HEADER["test"],
        f"# From conversation {conversation_id}, agent turn {moment.turn}.",
        f"# {what},",
        f"# then run: convai-ops validate && convai-ops test {slug}",
    ]
    if test_type == "simulation" and moment.language:
        lines.append(f"# Language: {moment.language}")
    return "\n".join(lines)
