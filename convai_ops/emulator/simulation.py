"""Simulated conversations: ``POST /v1/convai/agents/{agent_id}/simulate-conversation`` and its
stream, run by the same deterministic agent and simulation runner as simulation tests.

Given a ``simulation_specification``:

1. The agent is its main branch's tip (the endpoints take no branch).
2. The simulated user's lines are the sentences of ``simulated_user_config.first_message``,
   then those of ``simulated_user_config.prompt.prompt`` (the scenario), at most
   ``new_turns_limit`` of them: a *turn* is one user line and the agent's answer, as
   ``simulation_max_turns`` counts for simulation tests. ``language`` does not change what the
   deterministic user says.
3. :func:`convai_ops.emulator.runner.run_test` plays them as a simulation test after
   ``partial_conversation_history`` (the agent greets with its first message when that history
   is empty), with ``dynamic_variables`` filling the agent's ``{{placeholders}}``.
4. Tool calls: after each user line the agent may call a tool
   (:func:`convai_ops.emulator.llm_tools.choose_tool`). A tool named in ``tool_mock_config``
   answers its ``default_return_value`` / ``default_is_error``; any other tool is not run (the
   emulator executes no tools) and its result is an error saying so. Replies never depend on a
   tool's result.
5. Analysis: every criterion of the agent's ``platform_settings.evaluation.criteria`` and of
   ``extra_evaluation_criteria`` is judged on the new agent messages
   (:mod:`convai_ops.emulator.analysis`: a criterion starting "When/If ...," applies only when
   the caller raised it). ``call_successful`` is ``failure`` when a criterion failed,
   ``success`` when one passed, ``unknown`` otherwise. Data collection is not emulated.

:func:`converse` plays a :class:`Script` against any version (the synthetic live
conversations of :mod:`convai_ops.emulator.traffic` use it).

The stream sends one JSON line per turn: a list of the turn's new messages (the greeting alone
first), then one line ``{"analysis": {...}}``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from convai_ops.emulator.agents import resolved_config, version_at
from convai_ops.emulator.analysis import analyse
from convai_ops.emulator.core import Emulator
from convai_ops.emulator.invocations import snapshot_of
from convai_ops.emulator.llm import sentences
from convai_ops.emulator.llm_tools import ToolCall, choose_tool
from convai_ops.emulator.runner import AgentSnapshot, run_test
from convai_ops.emulator.store import Agent, Version

__all__ = ["Script", "Simulation", "converse", "simulate"]

_RESULT_TYPES = frozenset({"client", "webhook", "mcp", "system"})
_CALL_TYPES = frozenset({"system", "webhook", "client", "mcp", "workflow", "smb"})
Message = dict[str, Any]


@dataclass(frozen=True)
class Simulation:
    """A simulated conversation: its new messages grouped by turn, and the analysis."""

    turns: tuple[tuple[Message, ...], ...]
    analysis: dict[str, Any]

    @property
    def transcript(self) -> list[Message]:
        """Every new message, in order."""
        return [message for turn in self.turns for message in turn]

    def response(self) -> dict[str, Any]:
        """``AgentSimulatedChatTestResponseModel``."""
        return {"simulated_conversation": self.transcript, "analysis": self.analysis}

    def lines(self) -> Iterator[bytes]:
        """The stream: one JSON list per turn, then ``{"analysis": ...}``; newline-ended."""
        for turn in self.turns:
            yield json.dumps(list(turn)).encode() + b"\n"
        yield json.dumps({"analysis": self.analysis}).encode() + b"\n"


@dataclass(frozen=True)
class Script:
    """What the caller of a conversation says: ``lines`` one per turn after ``history``, with
    ``dynamic_variables``; ``tool_mocks`` answer tools by name (others fail: not run);
    ``extra_criteria`` are judged beside the agent's own."""

    lines: Sequence[str]
    history: Sequence[Message] = ()
    dynamic_variables: Mapping[str, Any] | None = None
    tool_mocks: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    extra_criteria: Sequence[Mapping[str, Any]] = ()


def simulate(emu: Emulator, agent: Agent, body: Mapping[str, Any]) -> Simulation:
    """Run the simulation ``body`` (a validated request) against main; see the module doc."""
    spec = body["simulation_specification"]
    script = Script(
        lines=_user_lines(spec.get("simulated_user_config") or {}, body.get("new_turns_limit")),
        history=[dict(entry) for entry in spec.get("partial_conversation_history") or []],
        dynamic_variables=spec.get("dynamic_variables"),
        tool_mocks=spec.get("tool_mock_config") or {},
        extra_criteria=body.get("extra_evaluation_criteria") or [],
    )
    return converse(emu, agent, version_at(emu, agent), script)


def converse(emu: Emulator, agent: Agent, version: Version, script: Script) -> Simulation:
    """Play ``script`` against the agent at ``version`` (the documents and tools it can use
    now) and analyse the new messages (:func:`convai_ops.emulator.analysis.analyse`)."""
    config = resolved_config(version.config)
    snapshot = snapshot_of(emu, config)
    test = {
        "chat_history": [dict(entry) for entry in script.history],
        "simulation_scenario": "\n".join(script.lines),
        "simulation_max_turns": max(1, len(script.lines)),
        "dynamic_variables": script.dynamic_variables,
    }
    played = run_test("simulation", test, snapshot, run_tools=False).agent_responses
    grouped = _with_tool_calls(played, snapshot, script.tool_mocks)
    metadata = {"agent_id": agent.id, "branch_id": version.branch_id, "version_id": version.id}
    shown = metadata if agent.versioned else {"agent_id": agent.id}
    turns = _decorated(grouped, shown, script.history)
    criteria = [*_agent_criteria(config), *script.extra_criteria]
    return Simulation(turns, analyse([m for t in turns for m in t], criteria))


def _user_lines(user: Mapping[str, Any], limit: int | None) -> list[str]:
    scenario = (user.get("prompt") or {}).get("prompt") or ""
    lines = sentences(str(user.get("first_message") or "")) + sentences(str(scenario))
    return lines[: max(0, limit)] if limit is not None else lines


def _agent_criteria(config: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    evaluation = config["platform_settings"].get("evaluation") or {}
    return list(evaluation.get("criteria") or [])


def _with_tool_calls(
    played: Sequence[Message], snapshot: AgentSnapshot, mocks: Mapping[str, Any]
) -> list[list[Message]]:
    """Group ``played`` by turn, adding the agent's tool call and its result after each user
    line."""
    turns: list[list[Message]] = []
    for message in played:
        if message["role"] == "user" or not turns:
            turns.append([dict(message)])
        else:
            turns[-1].append(dict(message))
        if message["role"] == "user":
            call = choose_tool(snapshot.prompt, snapshot.tools, str(message["message"]))
            if call is not None:
                turns[-1].extend(_tool_messages(call, len(turns), mocks.get(call.tool.name)))
    return turns


def _tool_messages(call: ToolCall, turn: int, mock: Mapping[str, Any] | None) -> list[Message]:
    name, kind = call.tool.name, call.tool.type
    request_id = f"{name}_{turn}"
    mocked = mock is not None
    request = {
        "type": kind if kind in _CALL_TYPES else None,
        "request_id": request_id,
        "tool_name": name,
        "params_as_json": json.dumps(call.params),
        "tool_has_been_called": mocked,
    }
    result = {
        "type": kind if kind in _RESULT_TYPES else "client",
        "request_id": request_id,
        "tool_name": name,
        **_mock_answer(name, mock),
        "tool_has_been_called": mocked,
        "tool_latency_secs": 0,
    }
    return [
        {"role": "agent", "message": None, "tool_calls": [request]},
        {"role": "agent", "message": None, "tool_results": [result]},
    ]


def _mock_answer(name: str, mock: Mapping[str, Any] | None) -> dict[str, Any]:
    """``result_value``, ``is_error`` and the error fields: the mock's (defaults ``"Tool
    Called."`` and false), or an error saying the tool did not run."""
    if mock is None:
        message = f"{name} is not mocked; the emulator runs no tools."
        return {
            "result_value": "",
            "is_error": True,
            "error_type": "not_mocked",
            "raw_error_message": message,
        }
    return {
        "result_value": str(mock.get("default_return_value", "Tool Called.")),
        "is_error": bool(mock.get("default_is_error", False)),
        "error_type": "",
        "raw_error_message": "",
    }


def _decorated(
    turns: list[list[Message]], metadata: Mapping[str, Any], history: Sequence[Message]
) -> tuple[tuple[Message, ...], ...]:
    """Fill each message's lists and agent metadata; number ``time_in_call_secs`` on from the
    history."""
    clock = max((int(entry.get("time_in_call_secs") or 0) for entry in history), default=-1) + 1
    out = []
    for turn in turns:
        shaped = []
        for message in turn:
            entry: Message = {"role": message["role"]}
            if message["role"] == "agent":
                entry["agent_metadata"] = dict(metadata)
            entry["message"] = message.get("message")
            entry["tool_calls"] = message.get("tool_calls", [])
            entry["tool_results"] = message.get("tool_results", [])
            entry["time_in_call_secs"] = clock
            clock += 1
            shaped.append(entry)
        out.append(tuple(shaped))
    return tuple(out)
