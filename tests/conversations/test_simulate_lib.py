"""The simulation library without a server: request bodies, criteria, reading the stream
incrementally (``httpx.MockTransport`` with a lazy body) and per-criterion verdicts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from convai_ops.api import ConvaiClient
from convai_ops.errors import ApiError, UsageError
from convai_ops.simulate import (
    Criterion,
    SimulationRequest,
    render_result,
    simulate,
    simulation_test_body,
)
from convai_ops.simulate import _from_run as from_run

HISTORY = ({"role": "user", "message": "Hi", "time_in_call_secs": 0},)


def test_criterion_parses_id_and_prompt() -> None:
    assert Criterion.parse(' canada :  Says "Canada" ') == Criterion("canada", 'Says "Canada"')
    assert Criterion("a", "b").api() == {"id": "a", "name": "a", "conversation_goal_prompt": "b"}
    for bad in ("no colon", ": no id", "id:", "bad id: x"):
        with pytest.raises(UsageError, match="--criterion"):
            Criterion.parse(bad)


def test_endpoint_body_carries_every_option() -> None:
    request = SimulationRequest(
        scenario="Where is my order?",
        first_message="Alo, da?",
        language="ro",
        turns=3,
        history=HISTORY,
        criteria=(Criterion("c", "p"),),
    )
    assert request.endpoint_body(["lookup_order"]) == {
        "simulation_specification": {
            "simulated_user_config": {
                "prompt": {"prompt": "Where is my order?"},
                "first_message": "Alo, da?",
                "language": "ro",
            },
            "tool_mock_config": {"lookup_order": {}},
            "partial_conversation_history": list(HISTORY),
        },
        "extra_evaluation_criteria": [{"id": "c", "name": "c", "conversation_goal_prompt": "p"}],
        "new_turns_limit": 3,
    }
    assert SimulationRequest(scenario="x").endpoint_body([]) == {
        "simulation_specification": {"simulated_user_config": {"prompt": {"prompt": "x"}}}
    }


def test_test_body_puts_language_and_first_message_in_the_scenario() -> None:
    request = SimulationRequest(scenario="Where is it?", first_message="Alo?", language="ro")
    body = simulation_test_body(request, ["p"], [])
    assert body["simulation_scenario"].splitlines() == [
        "Speak Romanian (ro) throughout, as the caller did.",
        "Alo?",
        "Where is it?",
    ]
    assert body["success_conditions"] == ["p"] and "tool_mock_config" not in body
    assert simulation_test_body(request, ["p"], None)["tool_mock_config"] == {
        "mocking_strategy": "all"
    }
    selected = simulation_test_body(SimulationRequest(turns=4, history=HISTORY), ["p"], ["t1"])
    assert selected["tool_mock_config"] == {
        "mocking_strategy": "selected",
        "mocked_tool_ids": ["t1"],
    }
    assert selected["simulation_max_turns"] == 4 and selected["chat_history"] == list(HISTORY)


def message(role: str, text: str) -> dict[str, Any]:
    return {"role": role, "message": text, "time_in_call_secs": 0}


class LazyStream:
    """Streams lines one by one, counting how many the client has pulled."""

    def __init__(self, *items: Any) -> None:
        self.lines = [json.dumps(item).encode() + b"\n" for item in items]
        self.sent = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path.endswith("/simulate-conversation/stream")
        return httpx.Response(200, content=self._body())

    def _body(self) -> Iterator[bytes]:
        for line in self.lines:
            self.sent += 1
            yield line


ANALYSIS = {
    "call_successful": "failure",
    "transcript_summary": "Short.",
    "evaluation_criteria_results": {
        "c": {"criteria_id": "c", "result": "failure", "rationale": "Missing."}
    },
}


def test_stream_turns_reach_the_printer_before_the_rest_is_read() -> None:
    api = LazyStream(
        [message("agent", "Hello")],
        [message("user", "Hi"), message("agent", "Bye")],
        {"analysis": ANALYSIS},
    )
    seen: list[tuple[int, str, int]] = []

    def printer(item: Any, number: int) -> None:
        seen.append((number, item["message"], api.sent))

    with ConvaiClient(
        "https://api.test", "key-1234-abcdef-5678", transport=httpx.MockTransport(api)
    ) as client:
        result = simulate(
            client,
            "agent_1",
            SimulationRequest(scenario="x", history=HISTORY),
            stream=True,
            on_turn=printer,
        )
    assert seen == [(2, "Hello", 1), (3, "Hi", 2), (4, "Bye", 2)]
    assert [m["message"] for m in result.transcript] == ["Hello", "Hi", "Bye"]
    assert (result.call_successful, result.summary, result.ok) == ("failure", "Short.", False)
    assert result.via == "simulate-conversation/stream"
    assert "  c: failure - Missing." in render_result(result)


def test_a_stream_without_its_analysis_is_an_error() -> None:
    api = LazyStream([message("agent", "Hello")])
    with (
        ConvaiClient(
            "https://api.test", "key-1234-abcdef-5678", transport=httpx.MockTransport(api)
        ) as client,
        pytest.raises(ApiError, match="without its analysis"),
    ):
        simulate(client, "agent_1", SimulationRequest(scenario="x"), stream=True)


def test_run_rationale_is_split_per_condition_when_it_can_be() -> None:
    run = {
        "status": "failed",
        "condition_result": {
            "result": "failure",
            "rationale": {
                "messages": ["'a': Success: fine.", "'b': Failure: lacks it."],
                "summary": "Failure: 1 of 2 conditions not met.",
            },
        },
    }
    result = from_run([], run, ["a", "b"], "simulation test on main")
    assert [(c.id, c.result) for c in result.criteria] == [("a", "success"), ("b", "failure")]
    assert result.call_successful == "failure" and result.summary.startswith("Failure: 1 of 2")
    whole = from_run([], {"status": "passed", "condition_result": None}, ["x", "y"], "t")
    assert [(c.id, c.result, c.rationale) for c in whole.criteria] == [
        ("x", "success", ""),
        ("y", "success", ""),
    ]
