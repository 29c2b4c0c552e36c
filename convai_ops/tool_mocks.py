"""Tool mocks of simulation tests: every tool mocked by default, and mocks from a recording.

BEHAVIOUR.md "Tests and test runs": ``mocking_strategy`` defaults to ``none``, so a test without
mocks may call the real webhook (an order really placed, a ticket really opened). convai-ops
therefore sends every simulation test with :data:`MOCK_ALL` unless its file says otherwise:

- no ``tool_mock_config`` in the test file: ``{"mocking_strategy": "all",
  "fallback_strategy": "raise_error"}`` (``SimulationToolMockBehaviorConfig``): a tool call
  answers the tool's response mocks, or an error when none matches; nothing real runs.
- an explicit ``tool_mock_config`` (e.g. ``{mocking_strategy: none}`` to opt in to real tools,
  or ``selected`` with ``mocked_tool_ids``) is sent as written.

``llm`` and ``tool`` tests have no ``tool_mock_config`` in the create-test request (their
requests do not run tools), so they are left alone.

A simulation test drafted from a conversation gets ``tool_mock_overrides`` (keyed by tool id,
``ToolResponseMockConfig`` items) answering what each tool answered in that conversation
(:func:`mocks_from_transcript`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

__all__ = ["MOCK_ALL", "mocks_from_transcript", "with_default_mocks"]

MOCK_ALL: Mapping[str, str] = {"mocking_strategy": "all", "fallback_strategy": "raise_error"}


def with_default_mocks(body: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` (a create-test request) with :data:`MOCK_ALL` as ``tool_mock_config`` when it
    is a simulation test that names none; other bodies unchanged (copied)."""
    out = dict(body)
    if out.get("type") == "simulation" and "tool_mock_config" not in out:
        out["tool_mock_config"] = dict(MOCK_ALL)
    return out


def mocks_from_transcript(
    transcript: Sequence[Mapping[str, Any]], tool_ids: Mapping[str, str]
) -> dict[str, list[dict[str, Any]]]:
    """``tool_mock_overrides`` answering each tool as it answered in ``transcript`` (a
    conversation's ``transcript``): per tool id (``tool_ids`` maps names to workspace ids; a
    name without an id is kept as the key), one mock per call with its ``result_value`` and
    ``is_error``. A tool called once answers that always; a tool called several times answers
    each call only for the same parameters (``exact`` conditions)."""
    calls: dict[str, list[tuple[Any, Mapping[str, Any]]]] = {}
    for params, result in _calls_with_results(transcript):
        name = str(result.get("tool_name") or "")
        calls.setdefault(tool_ids.get(name, name), []).append((params, result))
    overrides: dict[str, list[dict[str, Any]]] = {}
    for tool_id, seen in calls.items():
        overrides[tool_id] = [
            _mock(params, result, conditioned=len(seen) > 1) for params, result in seen
        ]
    return overrides


def _calls_with_results(
    transcript: Sequence[Mapping[str, Any]],
) -> Iterator[tuple[Any, Mapping[str, Any]]]:
    """``(call parameters, result)`` for each tool result, matched by ``request_id``."""
    params: dict[str, Any] = {}
    for turn in transcript:
        for call in turn.get("tool_calls") or []:
            params[str(call.get("request_id"))] = _decoded(call.get("params_as_json"))
        for result in turn.get("tool_results") or []:
            yield params.get(str(result.get("request_id")), {}), result


def _decoded(text: Any) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else {}
    except json.JSONDecodeError:
        return {}


def _mock(params: Any, result: Mapping[str, Any], *, conditioned: bool) -> dict[str, Any]:
    mock: dict[str, Any] = {
        "mock_result": str(result.get("result_value") or ""),
        "is_error": bool(result.get("is_error", False)),
    }
    mock["parameter_conditions"] = _conditions(params) if conditioned else []
    return mock


def _conditions(params: Any, prefix: str = "") -> list[dict[str, Any]]:
    if not isinstance(params, Mapping):
        return []
    found: list[dict[str, Any]] = []
    for key, value in params.items():
        if isinstance(value, Mapping):
            found += _conditions(value, f"{prefix}{key}.")
        else:
            text = value if isinstance(value, str) else json.dumps(value)
            found.append(
                {"path": f"{prefix}{key}", "eval": {"type": "exact", "expected_value": text}}
            )
    return found
