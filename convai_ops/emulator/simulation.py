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
   ``extra_evaluation_criteria`` is judged on the new agent messages joined by spaces with
   :func:`convai_ops.emulator.llm.judge` (as simulation test conditions are). ``call_successful``
   is ``failure`` when a criterion failed, ``success`` when all passed, ``unknown`` without
   criteria. Data collection is not emulated (empty results).

The stream sends one JSON line per turn: a list of the turn's new messages (the greeting alone
first), then one line ``{"analysis": {...}}``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from convai_ops.emulator.agents import resolved_config, version_at
from convai_ops.emulator.core import Emulator
from convai_ops.emulator.invocations import snapshot_of
from convai_ops.emulator.llm import judge, sentences
from convai_ops.emulator.llm_tools import ToolCall, choose_tool
from convai_ops.emulator.runner import AgentSnapshot, run_test
from convai_ops.emulator.store import Agent

__all__ = ["Simulation", "simulate"]

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


def simulate(emu: Emulator, agent: Agent, body: Mapping[str, Any]) -> Simulation:
    """Run the simulation ``body`` (a validated request) against main; see the module doc."""
    version = version_at(emu, agent)
    config = resolved_config(version.config)
    snapshot = snapshot_of(emu, config)
    spec = body["simulation_specification"]
    history = [dict(entry) for entry in spec.get("partial_conversation_history") or []]
    script = _user_lines(spec.get("simulated_user_config") or {}, body.get("new_turns_limit"))
    test = {
        "chat_history": history,
        "simulation_scenario": "\n".join(script),
        "simulation_max_turns": max(1, len(script)),
        "dynamic_variables": spec.get("dynamic_variables"),
    }
    played = run_test("simulation", test, snapshot, run_tools=False).agent_responses
    mocks = spec.get("tool_mock_config") or {}
    grouped = _with_tool_calls(played, snapshot, mocks)
    metadata = {"agent_id": agent.id, "branch_id": version.branch_id, "version_id": version.id}
    turns = _decorated(grouped, metadata if agent.versioned else {"agent_id": agent.id}, history)
    criteria = [*_agent_criteria(config), *(body.get("extra_evaluation_criteria") or [])]
    return Simulation(turns, _analysis([m for t in turns for m in t], criteria))


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


def _analysis(transcript: Sequence[Message], criteria: Sequence[Mapping[str, Any]]) -> Message:
    spoken = " ".join(
        str(m["message"]) for m in transcript if m["role"] == "agent" and m["message"]
    )
    results = {}
    for criterion in criteria:
        verdict = judge(str(criterion.get("conversation_goal_prompt") or ""), spoken)
        results[str(criterion["id"])] = {
            "criteria_id": str(criterion["id"]),
            "result": "success" if verdict.success else "failure",
            "rationale": verdict.summary,
        }
    outcomes = {item["result"] for item in results.values()}
    successful = "failure" if "failure" in outcomes else "success" if outcomes else "unknown"
    return {
        "evaluation_criteria_results": results,
        "data_collection_results": {},
        "evaluation_criteria_results_list": list(results.values()),
        "data_collection_results_list": [],
        "call_successful": successful,
        "transcript_summary": _summary(transcript),
        "call_summary_title": _title(transcript),
    }


def _summary(transcript: Sequence[Message]) -> str:
    said = [m for m in transcript if m["message"]]
    users = sum(1 for m in said if m["role"] == "user")
    agents = [m for m in said if m["role"] == "agent"]
    text = f"The simulated user sent {users} message(s); the agent answered {len(agents)} time(s)."
    return f'{text} Last agent message: "{agents[-1]["message"]}"' if agents else text


def _title(transcript: Sequence[Message]) -> str:
    first = next((m["message"] for m in transcript if m["role"] == "user" and m["message"]), "")
    text = str(first) or "Simulated conversation"
    return text if len(text) <= 60 else text[:57] + "..."
