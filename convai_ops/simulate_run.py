"""One ``convai-ops simulate`` run: find the agent, start from a recorded moment when asked,
simulate (:mod:`convai_ops.simulate`) on main or a branch, and save the scenario as a test.

Calls, besides those of :mod:`convai_ops.simulate`: ``GET /v1/convai/agents`` (an agent found
by its ``convai-ops:<slug>`` tag), ``GET /v1/convai/conversations/{id}`` (``--from-conversation``),
``GET /v1/convai/agents/{id}/branches`` (``--branch``), ``GET /v1/convai/tools`` and
``GET /v1/convai/agents/{id}`` (``--mock-tools``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from convai_ops.agent_branches import require_branch_ref
from convai_ops.conversation_tests import (
    check_test_name,
    conversation_metadata,
    moment_at,
    tool_ids_by_name,
)
from convai_ops.conversations import resolve_agent_id
from convai_ops.errors import UsageError
from convai_ops.simulate import (
    Entry,
    Progress,
    SimulationRequest,
    SimulationResult,
    TurnPrinter,
    branch_id_of,
    simulate,
    simulate_as_test,
    simulation_test_body,
)

if TYPE_CHECKING:
    from convai_ops.api import ConvaiClient
    from convai_ops.spec import AgentSpec, Project
    from convai_ops.testing import PollPolicy

__all__ = [
    "MAX_TEST_TURNS",
    "SimulateOptions",
    "SimulationRun",
    "parse_mock_tools",
    "run_simulation",
]

MAX_TEST_TURNS = 50  # the API's maximum simulation_max_turns


def parse_mock_tools(values: Sequence[str]) -> tuple[str, ...]:
    """``--mock-tools`` values (repeated or comma-separated) as ``("all",)``, tool names or
    ``()`` for ``none``; raises :class:`UsageError` when ``all``/``none`` is not alone."""
    names = tuple(part.strip() for value in values for part in value.split(",") if part.strip())
    if len(names) > 1 and ({"all", "none"} & set(names)):
        raise UsageError("--mock-tools: 'all' and 'none' stand alone")
    return () if names == ("none",) else names


@dataclass(frozen=True)
class SimulateOptions:
    """One ``simulate`` run: the agent ``slug`` and ``request``; ``branch`` (name or id) or
    ``via_test`` run it as a temporary simulation test, else the simulate endpoints (``stream``
    or not); ``conversation_id`` + ``at_turn`` start it from a recorded moment; ``save_test``
    names the simulation test file to write."""

    slug: str
    request: SimulationRequest
    branch: str | None = None
    via_test: bool = False
    stream: bool = False
    conversation_id: str | None = None
    at_turn: int | None = None
    save_test: str | None = None

    def __post_init__(self) -> None:
        """Refuse options that do not go together (:class:`UsageError`, nothing sent)."""
        if self.branch is not None:
            require_branch_ref(self.branch, "--branch")
        if bool(self.conversation_id) != (self.at_turn is not None):
            raise UsageError("--from-conversation and --at-turn go together")
        request = self.request
        if not (request.scenario or request.first_message or self.conversation_id):
            raise UsageError(
                "say what the caller does: --scenario, --scenario-file, --first-message or "
                "--from-conversation"
            )
        if self.stream and self.as_test:
            raise UsageError("--stream works on main only: a simulation test is not streamed")
        if self.as_test and (request.turns or 0) > MAX_TEST_TURNS:
            raise UsageError(f"--turns: a simulation test allows at most {MAX_TEST_TURNS} turns")

    @property
    def as_test(self) -> bool:
        """True when the run goes through a temporary simulation test."""
        return bool(self.branch) or self.via_test


@dataclass(frozen=True)
class SimulationRun:
    """What :func:`run_simulation` did: the ``request`` as played, its ``result`` and the test
    file written (``saved``, None without ``save_test``)."""

    request: SimulationRequest
    result: SimulationResult
    saved: Path | None


def run_simulation(
    client: ConvaiClient,
    project: Project,
    env: str,
    options: SimulateOptions,
    *,
    policy: PollPolicy,
    on_turn: TurnPrinter | None = None,
    progress: Progress | None = None,
) -> SimulationRun:
    """Simulate ``options`` against agent ``options.slug`` in ``env``; see the module docstring
    for the calls. Raises :class:`UsageError` (unknown agent, branch, tool or turn; the test
    file exists, a ``--var`` that is not a placeholder of the agent) before the simulation
    starts, :class:`ApiError` or :class:`TestRunError`.
    """
    agent = project.agent(options.slug)
    _check_variables(agent, options.request.variables)
    path = _test_path(agent, options.save_test) if options.save_test else None
    agent_id = resolve_agent_id(client, project, env, options.slug)
    request, metadata = _starting_point(client, options)
    if options.as_test:
        result = _as_test(client, agent_id, request, options.branch, policy, on_turn, progress)
    else:
        names = _mock_names(client, agent_id, request.mock_tools)
        result = simulate(
            client, agent_id, request, mock_names=names, stream=options.stream, on_turn=on_turn
        )
    if path is not None:
        _save(path, request, _mocked_ids(client, request.mock_tools), metadata)
    return SimulationRun(request, result, path)


def _check_variables(agent: AgentSpec, variables: Sequence[tuple[str, str]]) -> None:
    """Each ``--var`` names one of the agent's placeholders; :class:`UsageError` otherwise."""
    from convai_ops.spec.dynamic_variables import declared_placeholders
    from convai_ops.spec.validate import did_you_mean

    declared = declared_placeholders(agent)
    for name, _ in variables:
        if name not in declared:
            hint = did_you_mean(name, declared) or (
                f" (placeholders: {', '.join(sorted(declared))})" if declared else ""
            )
            raise UsageError(f"--var {name}: agent {agent.slug} has no such placeholder{hint}")


def _as_test(
    client: ConvaiClient,
    agent_id: str,
    request: SimulationRequest,
    branch: str | None,
    policy: PollPolicy,
    on_turn: TurnPrinter | None,
    progress: Progress | None,
) -> SimulationResult:
    branch_id = branch_id_of(client, agent_id, branch) if branch else None
    mocked = _mocked_ids(client, request.mock_tools)
    return simulate_as_test(
        client,
        agent_id,
        request,
        branch_id=branch_id,
        policy=policy,
        mocked_ids=mocked,
        on_turn=on_turn,
        progress=progress,
    )


def _test_path(agent: AgentSpec, name: str) -> Path:
    check_test_name(name, "--save-test")
    path = agent.dir / "tests" / f"{name}.yaml"
    if path.exists():
        raise UsageError(f"{path} already exists: choose another --save-test name")
    return path


def _starting_point(
    client: ConvaiClient, options: SimulateOptions
) -> tuple[SimulationRequest, Entry | None]:
    """The request, started from the recorded moment when one is named: the history before
    the caller's message there, the caller's lines as the default scenario, its language."""
    request = options.request
    if not options.conversation_id or options.at_turn is None:
        return request, None
    moment = moment_at(client.get_conversation(options.conversation_id), options.at_turn)
    history, lines = moment.opening()
    started = replace(
        request,
        history=history,
        scenario=request.scenario or "\n".join(lines),
        language=request.language or moment.language,
    )
    return started, conversation_metadata(moment)


def _mock_names(client: ConvaiClient, agent_id: str, mocks: Sequence[str]) -> list[str]:
    """Tool names to mock on the endpoints: the agent's tools for ``all`` (``GET`` the agent
    and the workspace tools), each once (a GET answers ``tools`` for the ``tool_ids`` too)."""
    if tuple(mocks) != ("all",):
        return list(mocks)
    prompt = client.get_agent(agent_id)["conversation_config"]["agent"].get("prompt") or {}
    names = {tool_id: name for name, tool_id in tool_ids_by_name(client).items()}
    found = [names[i] for i in prompt.get("tool_ids") or [] if i in names]
    return list(dict.fromkeys([*found, *(str(tool["name"]) for tool in prompt.get("tools") or [])]))


def _mocked_ids(client: ConvaiClient, mocks: Sequence[str]) -> list[str] | None:
    """Tool ids to mock in a simulation test; None for ``all``. Raises :class:`UsageError`
    for a name no workspace tool has."""
    if tuple(mocks) == ("all",):
        return None
    if not mocks:
        return []
    ids = tool_ids_by_name(client)
    unknown = [name for name in mocks if name not in ids]
    if unknown:
        raise UsageError(f"--mock-tools: no workspace tool named {', '.join(unknown)}")
    return [ids[name] for name in mocks]


def _save(
    path: Path, request: SimulationRequest, mocked: list[str] | None, metadata: Entry | None
) -> None:
    from convai_ops.spec import PLACEHOLDER, SCHEMA_HEADER, dump_yaml

    conditions = [c.prompt for c in request.criteria]
    body = simulation_test_body(
        request, conditions or [f"{PLACEHOLDER} say what a good conversation achieves"], mocked
    )
    if metadata:
        body["from_conversation_metadata"] = metadata
    header = [SCHEMA_HEADER["test"], "# Saved by convai-ops simulate."]
    if request.language:
        header.append(f"# Language: {request.language}")
    dump_yaml(body, path, header="\n".join(header))
