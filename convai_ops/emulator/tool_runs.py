"""What happens when the agent calls a tool during a simulation test run.

A simulation test's ``tool_mock_config`` (``SimulationToolMockBehaviorConfig``) and
``tool_mock_overrides`` decide, per BEHAVIOUR.md "Tests and test runs" (mocking strategy
defaults to ``none``; the no-match behaviour can be ``call_real_tool``: a test without mocks
may call the real webhook):

1. The tool is *mocked* when ``mocking_strategy`` is ``all``, or ``selected`` and its id is in
   ``mocked_tool_ids``; ``none`` (the default) mocks nothing.
2. A mocked tool answers the first matching mock of ``tool_mock_overrides[tool_id]``, then of
   the workspace tool's ``response_mocks`` (a mock matches when each of its
   ``parameter_conditions`` holds, checked as tool-test parameters are; none: always). No mock
   matches: ``fallback_strategy`` ``raise_error`` (default) answers an error result and calls
   nothing; ``call_real_tool`` calls the tool for real.
3. A real call of a webhook tool is recorded: ``tool_has_been_called`` true and ``tool_details``
   (method, url, parameters) in the run's transcript, and an entry in the request log (see
   :func:`convai_ops.emulator.invocations.start_invocation`). The emulator reaches no network:
   the result says the answer is emulated.
4. A real call of a client tool fails the run: a test run has no client to run it.
5. Other tool types (system, MCP, ...) are called without a request-log entry.

``tool_has_been_called`` is true only when the real tool ran.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from convai_ops.emulator.llm_tools import ToolCall, ToolSpec, check_parameter

__all__ = ["EMULATED_WEBHOOK_ANSWER", "MockPolicy", "ToolRun", "run_tool"]

EMULATED_WEBHOOK_ANSWER = '{"emulated": true}'
"""The result of a real webhook call: the emulator sends nothing out."""

_CALL_TYPES = frozenset({"system", "webhook", "client", "mcp", "workflow", "smb"})
_RESULT_TYPES = frozenset({"client", "webhook", "mcp"})


@dataclass(frozen=True)
class MockPolicy:
    """A test's ``tool_mock_config`` and ``tool_mock_overrides`` (defaults as the document's)."""

    strategy: str = "none"
    fallback: str = "raise_error"
    mocked_ids: frozenset[str] = frozenset()
    overrides: Mapping[str, Sequence[Mapping[str, Any]]] = field(default_factory=dict)

    @classmethod
    def of_test(cls, body: Mapping[str, Any]) -> MockPolicy:
        """The policy of a simulation test's create-test ``body``."""
        config = body.get("tool_mock_config") or {}
        return cls(
            strategy=str(config.get("mocking_strategy") or "none"),
            fallback=str(config.get("fallback_strategy") or "raise_error"),
            mocked_ids=frozenset(config.get("mocked_tool_ids") or ()),
            overrides=dict(body.get("tool_mock_overrides") or {}),
        )

    def mocks(self, tool: ToolSpec) -> bool:
        """True when ``tool`` is mocked (rule 1)."""
        if self.strategy == "all":
            return True
        return self.strategy == "selected" and tool.id in self.mocked_ids


@dataclass(frozen=True)
class ToolRun:
    """One tool call of a run: the transcript's ``tool_calls`` and ``tool_results`` items,
    and ``failure`` (why the run fails) when a client tool had to run for real."""

    call: dict[str, Any]
    result: dict[str, Any]
    failure: str | None = None


def run_tool(call: ToolCall, policy: MockPolicy, request_id: str) -> ToolRun:
    """Execute ``call`` under ``policy`` (rules in the module doc)."""
    tool = call.tool
    if policy.mocks(tool):
        mock = _matching_mock(call, [*policy.overrides.get(tool.id, ()), *tool.response_mocks])
        if mock is not None:
            answer = str(mock.get("mock_result", ""))
            return _run(call, request_id, answer, bool(mock.get("is_error", False)))
        if policy.fallback != "call_real_tool":
            message = f"{tool.name} is mocked and no mock matches the call (fallback raise_error)."
            return _run(call, request_id, "", True, error=("mock_not_found", message))
    return _real(call, request_id)


def _matching_mock(call: ToolCall, mocks: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    for mock in mocks:
        conditions = mock.get("parameter_conditions") or []
        if all(check_parameter(check, call.params)[0] for check in conditions):
            return mock
    return None


def _real(call: ToolCall, request_id: str) -> ToolRun:
    tool = call.tool
    if tool.type == "client":
        failure = (
            f"Failure: the agent called the client tool {tool.name!r}, which is not mocked; a "
            "test run has no client to run it. Mock it in tool_mock_config."
        )
        message = f"{tool.name} is a client tool and no client is connected."
        run = _run(call, request_id, "", True, error=("client_tool_not_mocked", message))
        return ToolRun(run.call, run.result, failure)
    details = _webhook_details(call) if tool.type == "webhook" else None
    answer = EMULATED_WEBHOOK_ANSWER if details else "Tool Called."
    return _run(call, request_id, answer, False, called=True, details=details)


def _webhook_details(call: ToolCall) -> dict[str, Any]:
    """``ConversationHistoryTranscriptToolCallWebhookDetails`` of a real webhook call."""
    return {
        "type": "webhook",
        "method": call.tool.method,
        "url": call.tool.url,
        "headers": {},
        "path_params": {},
        "query_params": {},
        "body": json.dumps(call.params),
    }


def _run(
    call: ToolCall,
    request_id: str,
    answer: str,
    is_error: bool,
    *,
    called: bool = False,
    details: dict[str, Any] | None = None,
    error: tuple[str, str] = ("", ""),
) -> ToolRun:
    kind, name = call.tool.type, call.tool.name
    request: dict[str, Any] = {
        "type": kind if kind in _CALL_TYPES else None,
        "request_id": request_id,
        "tool_name": name,
        "params_as_json": json.dumps(call.params),
        "tool_has_been_called": called,
    }
    if details is not None:
        request["tool_details"] = details
    result = {
        "type": kind if kind in _RESULT_TYPES else "client",
        "request_id": request_id,
        "tool_name": name,
        "result_value": answer,
        "is_error": is_error,
        "error_type": error[0],
        "raw_error_message": error[1],
        "tool_has_been_called": called,
        "tool_latency_secs": 0,
    }
    return ToolRun(request, result)
