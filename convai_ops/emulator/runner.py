"""Run one test against a snapshot of an agent and produce its :class:`RunOutcome`.

- ``llm``: the agent replies to ``chat_history`` (:func:`llm.reply`); the reply is judged
  against ``success_condition`` and the examples (:func:`llm.judge`).
- ``tool``: as ``llm``, and the agent may call a tool (:func:`llm_tools.choose_tool`); the call
  is judged against ``tool_call_parameters`` (:func:`llm_tools.evaluate_tool_call`).
- ``simulation``: the simulated user says the sentences of ``simulation_scenario`` one per turn
  (at most ``simulation_max_turns``) after ``chat_history``; the agent greets with its first
  message when the history is empty and replies each turn. Every condition of
  ``success_conditions`` and ``success_condition`` is judged against all agent messages joined
  by spaces; the run passes when all do. ``agent_responses`` holds the simulated transcript.
  After each user line the agent may call a tool (:func:`llm_tools.choose_tool`); the call
  runs per the test's ``tool_mock_config`` (:mod:`convai_ops.emulator.tool_runs`) and its call
  and result enter the transcript; a client tool that is not mocked fails the run.
- A ``tool`` test judges the call the agent decides on; the call is not executed
  (``tool_has_been_called`` false: the document gives tool tests no ``tool_mock_config``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from convai_ops.emulator import llm
from convai_ops.emulator.llm_tools import ToolCall, ToolSpec, choose_tool, evaluate_tool_call
from convai_ops.emulator.store import RunOutcome
from convai_ops.emulator.tool_runs import MockPolicy, run_tool

__all__ = ["AgentSnapshot", "run_test"]

_TOOL_TYPES = frozenset(
    {
        "system",
        "webhook",
        "client",
        "mcp",
        "workflow",
        "api_integration_webhook",
        "api_integration_mcp",
        "smb",
    }
)


@dataclass(frozen=True)
class AgentSnapshot:
    """What an agent was when tests were started on it."""

    prompt: str
    first_message: str = ""
    documents: tuple[str, ...] = ()
    tools: tuple[ToolSpec, ...] = ()
    temperature: float = 0.0
    placeholders: Mapping[str, Any] = field(default_factory=dict)

    def context(self, variables: Mapping[str, Any] | None) -> llm.AgentContext:
        """Return the agent's context with ``{{placeholders}}`` filled from ``variables``."""
        merged = {**self.placeholders, **(variables or {})}
        return llm.AgentContext(
            prompt=llm.substitute(self.prompt, merged),
            first_message=llm.substitute(self.first_message, merged),
            documents=self.documents,
        )


def run_test(
    test_type: str,
    body: Mapping[str, Any],
    snapshot: AgentSnapshot,
    *,
    rank: int = 0,
    run_tools: bool = True,
) -> RunOutcome:
    """Run a test of ``test_type`` (``llm``, ``tool``, ``simulation``) with request ``body``;
    ``rank`` 1 makes every agent reply the second-best one. ``run_tools`` False leaves tool
    calls out of a simulation (the caller adds its own)."""
    if test_type == "simulation":
        return _run_simulation(body, snapshot, rank, run_tools)
    context = snapshot.context(body.get("dynamic_variables"))
    history: list[Mapping[str, Any]] = list(body.get("chat_history") or [])
    text = llm.reply(context, history, rank=rank)
    if test_type == "tool":
        return _run_tool(body, snapshot, history, text)
    verdict = llm.judge(
        str(body.get("success_condition") or ""),
        text,
        success_examples=[item["response"] for item in body.get("success_examples") or []],
        failure_examples=[item["response"] for item in body.get("failure_examples") or []],
    )
    return _outcome(verdict, [_entry("agent", text, _next_time(history))])


def _run_tool(
    body: Mapping[str, Any],
    snapshot: AgentSnapshot,
    history: Sequence[Mapping[str, Any]],
    text: str,
) -> RunOutcome:
    message = llm.last_user_message(history)
    call = choose_tool(snapshot.prompt, snapshot.tools, message) if message else None
    calls = [call] if call else []
    verdict = evaluate_tool_call(
        body.get("tool_call_parameters"), calls, check_any=body.get("check_any_tool_matches")
    )
    entry = _entry("agent", text, _next_time(history))
    entry["tool_calls"] = [_tool_call_entry(call, index) for index, call in enumerate(calls)]
    return _outcome(verdict, [entry])


def _run_simulation(
    body: Mapping[str, Any], snapshot: AgentSnapshot, rank: int, run_tools: bool
) -> RunOutcome:
    context = snapshot.context(body.get("dynamic_variables"))
    history: list[dict[str, Any]] = [dict(entry) for entry in body.get("chat_history") or []]
    transcript: list[dict[str, Any]] = []
    if not history and context.first_message:
        transcript.append(_entry("agent", context.first_message, 0))
    policy = MockPolicy.of_test(body) if run_tools else None
    turns = llm.sentences(str(body.get("simulation_scenario") or ""))
    for said in turns[: int(body.get("simulation_max_turns") or 5)]:
        transcript.append(_entry("user", said, _next_time([*history, *transcript])))
        failure = _tool_turn(snapshot, policy, said, [*history], transcript)
        if failure is not None:
            return _outcome(llm.Verdict(False, (failure,), failure), transcript)
        answer = llm.reply(context, [*history, *transcript], rank=rank)
        transcript.append(_entry("agent", answer, _next_time([*history, *transcript])))
    spoken = " ".join(e["message"] for e in transcript if e["role"] == "agent" and e["message"])
    return _outcome(_all_conditions(_conditions(body), spoken), transcript)


def _tool_turn(
    snapshot: AgentSnapshot,
    policy: MockPolicy | None,
    said: str,
    history: list[dict[str, Any]],
    transcript: list[dict[str, Any]],
) -> str | None:
    """Let the agent call a tool after the user line ``said`` (rules of
    :mod:`convai_ops.emulator.tool_runs`); append the call and its result to ``transcript``;
    return why the run fails, if it does."""
    call = choose_tool(snapshot.prompt, snapshot.tools, said) if policy else None
    if call is None or policy is None:
        return None
    done = run_tool(call, policy, f"{call.tool.name}_{len(transcript)}")
    for key, item in (("tool_calls", done.call), ("tool_results", done.result)):
        entry = _entry("agent", None, _next_time([*history, *transcript]))
        entry[key] = [item]
        transcript.append(entry)
    return done.failure


def _conditions(body: Mapping[str, Any]) -> list[str]:
    found = [str(item) for item in body.get("success_conditions") or []]
    if body.get("success_condition"):
        found.append(str(body["success_condition"]))
    return found


def _all_conditions(conditions: Sequence[str], spoken: str) -> llm.Verdict:
    verdicts = [llm.judge(condition, spoken) for condition in conditions]
    messages = tuple(f"{c!r}: {v.summary}" for c, v in zip(conditions, verdicts, strict=True))
    failed = [c for c, v in zip(conditions, verdicts, strict=True) if not v.success]
    if failed:
        listed = "; ".join(repr(condition) for condition in failed)
        return llm.Verdict(
            False,
            messages,
            f"Failure: {len(failed)} of {len(conditions)} conditions not met: {listed}.",
        )
    return llm.Verdict(True, messages, f"Success: all {len(conditions)} conditions met.")


def _outcome(verdict: llm.Verdict, responses: list[dict[str, Any]]) -> RunOutcome:
    return RunOutcome(
        passed=verdict.success,
        condition_result={
            "result": "success" if verdict.success else "failure",
            "rationale": {"messages": list(verdict.messages), "summary": verdict.summary},
        },
        agent_responses=responses,
    )


def _entry(role: str, message: str | None, time_in_call_secs: int) -> dict[str, Any]:
    return {"role": role, "message": message, "time_in_call_secs": time_in_call_secs}


def _next_time(history: Sequence[Mapping[str, Any]]) -> int:
    times = [int(entry.get("time_in_call_secs") or 0) for entry in history]
    return max(times, default=-1) + 1


def _tool_call_entry(call: ToolCall, index: int) -> dict[str, Any]:
    return {
        "type": call.tool.type if call.tool.type in _TOOL_TYPES else None,
        "request_id": f"toolcall_{index}",
        "tool_name": call.tool.name,
        "params_as_json": json.dumps(call.params),
        "tool_has_been_called": False,  # a tool test judges the call; nothing runs
    }
