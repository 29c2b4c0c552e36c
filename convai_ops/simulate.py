"""Simulated conversations: play a scripted caller against an agent and judge the result.

Two routes, printed the same way (:func:`render_result`):

- **The simulate endpoints** (main only, the endpoints take no branch):
  ``POST /v1/convai/agents/{id}/simulate-conversation``, or ``.../stream`` whose turns are
  handed to ``on_turn`` as they arrive. The API document marks both deprecated in favour of
  simulation tests.
- **A temporary simulation test** (:func:`simulate_as_test`; any branch):
  ``POST /v1/convai/agent-testing/create``, ``POST /v1/convai/agents/{id}/run-tests`` with
  ``branch_id``, polling ``GET /v1/convai/test-invocations/{id}``, and finally
  ``DELETE /v1/convai/agent-testing/{id}``. Simulation tests have no language field, so a
  language becomes the first line of the scenario (see
:func:`convai_ops.conversation_tests.language_line`).

A *turn* (``--turns``) is one caller message and the agent's answer.
:func:`convai_ops.simulate_run.run_simulation` drives a whole ``convai-ops simulate`` run.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from convai_ops.agent_branches import find_branch, not_found_message
from convai_ops.conversation_tests import language_line
from convai_ops.errors import ApiError, UsageError

if TYPE_CHECKING:
    from convai_ops.api import ConvaiClient
    from convai_ops.testing import PollPolicy

__all__ = [
    "Criterion",
    "CriterionResult",
    "SimulationRequest",
    "SimulationResult",
    "TurnPrinter",
    "branch_id_of",
    "parse_variables",
    "render_result",
    "simulate",
    "simulate_as_test",
    "simulation_test_body",
]

Entry = dict[str, Any]
TurnPrinter = Callable[[Mapping[str, Any], int], None]
Progress = Callable[[str], None]
_CRITERION_ID = re.compile(r"^[A-Za-z0-9_-]+$")
_VARIABLE = re.compile(r"^\w[\w.-]*$")  # the names ``{{name}}`` can reference
FALLBACK_CONDITION = "The agent replies to the user."


@dataclass(frozen=True)
class Criterion:
    """An extra evaluation criterion: ``id`` and the goal ``prompt`` judged on the
    conversation."""

    id: str
    prompt: str

    @classmethod
    def parse(cls, text: str) -> Criterion:
        """Parse ``"id: prompt"``; raises :class:`UsageError` when malformed."""
        ident, colon, prompt = text.partition(":")
        if not colon or not _CRITERION_ID.match(ident.strip()) or not prompt.strip():
            raise UsageError(f'--criterion {text!r}: expected "id: what the agent must achieve"')
        return cls(ident.strip(), prompt.strip())

    def api(self) -> Entry:
        """As a ``PromptEvaluationCriteria`` object."""
        return {"id": self.id, "name": self.id, "conversation_goal_prompt": self.prompt}


def parse_variables(values: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """``--var NAME=VALUE`` values as ``(name, value)`` pairs (values are strings).

    Raises :class:`UsageError` for a value without ``=``, a name ``{{name}}`` cannot
    reference, a ``system__`` name (the platform sets those) or a name given twice.
    """
    pairs: dict[str, str] = {}
    for text in values:
        name, equals, value = text.partition("=")
        name = name.strip()
        if not equals or not _VARIABLE.match(name):
            raise UsageError(f"--var {text!r}: expected NAME=VALUE (NAME: letters, digits, _)")
        if name.startswith("system__"):
            raise UsageError(f"--var {name}: system variables are set by the platform")
        if name in pairs:
            raise UsageError(f"--var {name}: given twice")
        pairs[name] = value
    return tuple(pairs.items())


@dataclass(frozen=True)
class SimulationRequest:
    """What to simulate: the caller's ``scenario`` (one line per message for a scripted
    caller), optional ``first_message`` and ``language``, at most ``turns`` turns (None: the
    API's default), the ``history`` to start from (``chat_history`` entries), the tools to mock
    (``("all",)``, names, or none), extra ``criteria`` and the dynamic ``variables`` filling
    the agent's ``{{name}}`` references (``(name, value)`` pairs)."""

    scenario: str = ""
    first_message: str | None = None
    language: str | None = None
    turns: int | None = None
    history: tuple[Entry, ...] = ()
    mock_tools: tuple[str, ...] = ()
    criteria: tuple[Criterion, ...] = ()
    variables: tuple[tuple[str, str], ...] = ()

    def script(self) -> str:
        """The scenario as a simulation test holds it: language line, first message, scenario."""
        lines = [language_line(self.language), self.first_message, self.scenario]
        return "\n".join(line for line in lines if line)

    def endpoint_body(self, mock_names: Sequence[str]) -> Entry:
        """The ``simulate-conversation`` request body; ``mock_names`` are the tools to mock."""
        user: Entry = {"prompt": {"prompt": self.scenario}}
        if self.first_message:
            user["first_message"] = self.first_message
        if self.language:
            user["language"] = self.language
        spec: Entry = {"simulated_user_config": user}
        if mock_names:
            spec["tool_mock_config"] = {name: {} for name in mock_names}
        if self.history:
            spec["partial_conversation_history"] = list(self.history)
        if self.variables:
            spec["dynamic_variables"] = dict(self.variables)
        body: Entry = {"simulation_specification": spec}
        if self.criteria:
            body["extra_evaluation_criteria"] = [c.api() for c in self.criteria]
        if self.turns is not None:
            body["new_turns_limit"] = self.turns
        return body


def simulation_test_body(
    request: SimulationRequest, conditions: Sequence[str], mocked_ids: Sequence[str] | None
) -> Entry:
    """A simulation test (create-test body without ``name``) playing ``request``;
    ``mocked_ids`` None mocks every tool, ``[]`` none."""
    body: Entry = {"type": "simulation", "simulation_scenario": request.script()}
    if request.turns is not None:
        body["simulation_max_turns"] = request.turns
    body["success_conditions"] = list(conditions)
    if request.history:
        body["chat_history"] = list(request.history)
    if request.variables:
        body["dynamic_variables"] = dict(request.variables)
    if mocked_ids is None:
        body["tool_mock_config"] = {"mocking_strategy": "all"}
    elif mocked_ids:
        body["tool_mock_config"] = {
            "mocking_strategy": "selected",
            "mocked_tool_ids": list(mocked_ids),
        }
    return body


@dataclass(frozen=True)
class CriterionResult:
    """One criterion's verdict: ``result`` is ``success``, ``failure`` or ``unknown``."""

    id: str
    result: str
    rationale: str


@dataclass(frozen=True)
class SimulationResult:
    """The new messages of a simulated conversation and their judgement; ``via`` names how it
    ran (``simulate-conversation``, ``... /stream``, ``simulation test on branch ...``)."""

    transcript: tuple[Entry, ...]
    criteria: tuple[CriterionResult, ...]
    call_successful: str
    summary: str
    via: str

    @property
    def ok(self) -> bool:
        """False when the call was judged a failure."""
        return self.call_successful != "failure"


def branch_id_of(client: ConvaiClient, agent_id: str, branch: str) -> str:
    """The id of the agent's branch ``branch`` (a name or an id).

    Calls ``GET /v1/convai/agents/{id}/branches/{branch_id}`` for an id, else ``GET
    .../branches`` (see :func:`convai_ops.agent_branches.find_branch`); raises
    :class:`UsageError` when none matches, saying so when the capped list could not show it.
    """
    lookup = find_branch(client, agent_id, branch)
    if lookup.found is None:
        raise UsageError(not_found_message(agent_id, branch, lookup))
    return str(lookup.found["id"])


def simulate(
    client: ConvaiClient,
    agent_id: str,
    request: SimulationRequest,
    *,
    mock_names: Sequence[str] = (),
    stream: bool = False,
    on_turn: TurnPrinter | None = None,
) -> SimulationResult:
    """Simulate on main through the (deprecated) simulate endpoints; ``on_turn(message,
    number)`` sees each new message, as it arrives when ``stream``.

    Calls ``POST /v1/convai/agents/{agent_id}/simulate-conversation[/stream]``. Raises
    :class:`ApiError` (a stream without the final analysis included).
    """
    body = request.endpoint_body(mock_names)
    first = len(request.history) + 1
    if not stream:
        answer = client.simulate_conversation(agent_id, body)
        transcript = list(answer.get("simulated_conversation") or [])
        _announce(transcript, first, on_turn)
        return _from_analysis(transcript, answer.get("analysis"), "simulate-conversation")
    transcript, analysis = _read_stream(
        client.simulate_conversation_stream(agent_id, body), first, on_turn
    )
    if analysis is None:
        raise ApiError(
            "the simulation stream ended without its analysis",
            method="POST",
            path=f"/v1/convai/agents/{agent_id}/simulate-conversation/stream",
        )
    return _from_analysis(transcript, analysis, "simulate-conversation/stream")


def _read_stream(
    items: Iterable[Mapping[str, Any]], first: int, on_turn: TurnPrinter | None
) -> tuple[list[Entry], Mapping[str, Any] | None]:
    """Collect streamed messages (objects with ``role``, or a ``simulated_conversation``
    chunk) and the final ``analysis``."""
    transcript: list[Entry] = []
    analysis: Mapping[str, Any] | None = None
    for item in items:
        new = [dict(item)] if "role" in item else list(item.get("simulated_conversation") or [])
        if "analysis" in item:
            analysis = item["analysis"]
            new = [] if transcript else new
        _announce(new, first + len(transcript), on_turn)
        transcript += new
    return transcript, analysis


def _announce(
    messages: Sequence[Mapping[str, Any]], first: int, on_turn: TurnPrinter | None
) -> None:
    if on_turn:
        for offset, message in enumerate(messages):
            on_turn(message, first + offset)


def _from_analysis(transcript: Sequence[Entry], analysis: Any, via: str) -> SimulationResult:
    analysis = analysis or {}
    results = analysis.get("evaluation_criteria_results") or {}
    criteria = tuple(
        CriterionResult(str(key), str(item.get("result")), str(item.get("rationale") or ""))
        for key, item in results.items()
    )
    return SimulationResult(
        tuple(transcript),
        criteria,
        str(analysis.get("call_successful", "unknown")),
        str(analysis.get("transcript_summary") or ""),
        via,
    )


def simulate_as_test(
    client: ConvaiClient,
    agent_id: str,
    request: SimulationRequest,
    *,
    branch_id: str | None,
    policy: PollPolicy,
    mocked_ids: Sequence[str] | None = (),
    on_turn: TurnPrinter | None = None,
    progress: Progress | None = None,
) -> SimulationResult:
    """Simulate on ``branch_id`` (main when None) as a temporary simulation test, removed
    afterwards. Its conditions are ``request.criteria``, else the agent's own evaluation
    criteria on that branch, else :data:`FALLBACK_CONDITION`.

    Calls ``GET /v1/convai/agents/{id}`` (only without criteria), then create-test, run-tests,
    the invocation polls and the delete (see the module docstring). Raises :class:`ApiError`
    or :class:`TestRunError`.
    """
    from convai_ops.testing import wait_for_invocation

    criteria = list(request.criteria) or _agent_criteria(client, agent_id, branch_id)
    conditions = [c.prompt for c in criteria] or [FALLBACK_CONDITION]
    body = simulation_test_body(request, conditions, mocked_ids)
    test_id = client.create_test({**body, "name": f"convai-ops simulate {uuid.uuid4().hex[:12]}"})
    try:
        started = client.run_tests(agent_id, [test_id], branch_id=branch_id)
        _say(progress, f"running as temporary test {test_id} (invocation {started['id']})")
        run = wait_for_invocation(client, started["id"], policy)["test_runs"][0]
    finally:
        _delete_quietly(client, test_id, progress)
    transcript = list(run.get("agent_responses") or [])
    _announce(transcript, len(request.history) + 1, on_turn)
    where = f"simulation test on branch {branch_id}" if branch_id else "simulation test on main"
    return _from_run(transcript, run, [c.id for c in criteria] or ["conditions"], where)


def _agent_criteria(client: ConvaiClient, agent_id: str, branch_id: str | None) -> list[Criterion]:
    agent = client.get_agent(agent_id, branch_id=branch_id)
    evaluation = (agent.get("platform_settings") or {}).get("evaluation") or {}
    found = evaluation.get("criteria") or []
    return [Criterion(str(c["id"]), str(c["conversation_goal_prompt"])) for c in found]


def _delete_quietly(client: ConvaiClient, test_id: str, progress: Progress | None) -> None:
    try:
        client.delete_test(test_id)
    except ApiError as error:
        _say(progress, f"could not remove temporary test {test_id}: {error}")


def _from_run(
    transcript: Sequence[Entry], run: Mapping[str, Any], ids: Sequence[str], via: str
) -> SimulationResult:
    """Per-criterion results from the run's rationale: one message per condition when the
    API gives that many (its verdict read from a leading Success/Failure), else the whole."""
    result = run.get("condition_result") or {}
    overall = str(
        result.get("result") or ("success" if run.get("status") == "passed" else "failure")
    )
    rationale = result.get("rationale") or {}
    messages = [str(m) for m in rationale.get("messages") or []]
    summary = str(rationale.get("summary") or "")
    if len(messages) != len(ids):
        messages = [summary or " ".join(messages)] * len(ids)
    criteria = tuple(
        CriterionResult(i, _verdict(m, overall), m) for i, m in zip(ids, messages, strict=True)
    )
    return SimulationResult(tuple(transcript), criteria, overall, summary, via)


def _verdict(message: str, overall: str) -> str:
    if overall == "success":
        return "success"
    found = re.search(r"\b(Success|Failure)\b", message)
    return found[1].lower() if found else overall


def render_result(result: SimulationResult) -> str:
    """The judgement after the transcript: each criterion's result and rationale, the call's
    result and the summary."""
    lines = ["Evaluation criteria"]
    lines += [f"  {c.id}: {c.result} - {c.rationale}" for c in result.criteria] or ["  (none)"]
    lines.append(f"Call successful: {result.call_successful}")
    if result.summary:
        lines.append(f"Summary: {result.summary}")
    return "\n".join(lines) + "\n"


def _say(progress: Progress | None, message: str) -> None:
    if progress:
        progress(message)
