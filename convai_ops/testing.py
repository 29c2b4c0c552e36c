"""Agent tests: sync them to the API, run them on a branch, poll, and judge the runs.

- ``sync_tests`` creates each YAML test as a remote test named ``<slug>/<name> #<hash>``
  (``POST /v1/convai/agent-testing/create``) unless one with that name exists.
- ``run_agent_tests`` starts one invocation per distinct ``repeat`` value
  (``POST /v1/convai/agents/{id}/run-tests`` with ``branch_id`` and ``repeat_count``), polls
  ``GET /v1/convai/test-invocations/{id}`` with exponential backoff until no run is ``pending``,
  and returns a verdict per test: passed when at least ``min_pass`` of its runs passed. A
  ``repeat`` given by the caller (``test --repeat N``) needs all N runs unless the caller also
  gives ``min_pass`` (``--min-pass M``): the YAML ``min_pass`` belongs to the YAML ``repeat``.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import TYPE_CHECKING, Any

from tenacity import RetryError, Retrying, retry_if_result, stop_after_delay, wait_exponential

from convai_ops.agent_branches import find_branch, not_found_message, require_branch_ref
from convai_ops.errors import TestRunError, UsageError
from convai_ops.knowledge import wait_for_rag_indexes
from convai_ops.state import RemoteIndex, fetch_index, remote_test_name
from convai_ops.workspace_tools import main_tool_ids, resolve_tools

if TYPE_CHECKING:
    from convai_ops.api import ConvaiClient
    from convai_ops.spec import AgentSpec, TestSpec, ToolSpec

__all__ = [
    "AgentTestRun",
    "PollPolicy",
    "SyncedTest",
    "TestReport",
    "TestVerdict",
    "check_threshold",
    "run_agent_tests",
    "sync_tests",
    "test_agents",
    "wait_for_invocation",
]

Progress = Callable[[str], None]


@dataclass(frozen=True)
class PollPolicy:
    """Polling of a test invocation: first wait ``initial`` s, doubling up to ``cap`` s,
    giving up after ``timeout`` s. ``sleep`` is injectable for tests."""

    initial: float = 1.0
    cap: float = 15.0
    timeout: float = 1200.0
    sleep: Callable[[float], None] | None = None


@dataclass(frozen=True)
class SyncedTest:
    """A repository test and the id of its remote (content-addressed) copy."""

    spec: TestSpec
    test_id: str
    remote_name: str


@dataclass(frozen=True)
class TestVerdict:
    """The outcome of one test: ``passed`` of ``runs`` runs passed; ok when >= ``min_pass``.

    ``duration_s``: seconds from the invocation's ``created_at`` to the latest
    ``last_updated_at_unix`` of the test's finished runs (both whole unix seconds in the API),
    None when the API gave neither.
    """

    __test__ = False

    name: str
    type: str
    test_id: str
    passed: int
    runs: int
    min_pass: int
    rationales: tuple[str, ...] = ()
    duration_s: float | None = None

    @property
    def ok(self) -> bool:
        """True when enough runs passed."""
        return self.runs > 0 and self.passed >= self.min_pass

    @property
    def tally(self) -> str:
        """``passed 2/3 (needs 3)``: the runs that passed, the runs, the passes needed."""
        return f"passed {self.passed}/{self.runs} (needs {self.min_pass})"


@dataclass(frozen=True)
class TestReport:
    """All verdicts of one agent's test run on one branch (``branch_id`` None = main)."""

    __test__ = False

    agent_id: str
    branch_id: str | None
    invocation_ids: tuple[str, ...]
    verdicts: tuple[TestVerdict, ...]

    @property
    def ok(self) -> bool:
        """True when every test met its threshold."""
        return all(v.ok for v in self.verdicts)

    @property
    def failed(self) -> tuple[TestVerdict, ...]:
        """The verdicts that did not pass."""
        return tuple(v for v in self.verdicts if not v.ok)


def sync_tests(
    client: ConvaiClient,
    slug: str,
    tests: Sequence[TestSpec],
    index: RemoteIndex,
    tool_ids: Mapping[str, str] | None = None,
) -> list[SyncedTest]:
    """Make sure each test exists remotely under its content-addressed name; return the ids.

    Existing tests (found in ``index``) are never modified, so concurrent pull requests that
    change the same YAML test differently each get their own remote test. A tool test's
    ``referenced_tool: {name}`` is sent as ``{id, type}`` of ``tool_ids[name]`` (this
    environment's tool, ``workspace_tools.resolve_tools``). Calls
    ``POST /v1/convai/agent-testing/create``; raises ``UsageError`` for a tool name missing
    from ``tool_ids``.
    """
    synced = []
    for test in tests:
        name = remote_test_name(slug, test)
        test_id = index.test_ids.get(name)
        if test_id is None:
            body = _resolved_body(test, tool_ids or {}, index)
            test_id = client.create_test({**body, "name": name})
        synced.append(SyncedTest(test, test_id, name))
    return synced


def _resolved_body(
    test: TestSpec, tool_ids: Mapping[str, str], index: RemoteIndex
) -> dict[str, Any]:
    """The test's body with a tool named by ``{name}`` given by ``{id, type}``."""
    tool_name = test.tool_name
    if tool_name is None:
        return test.body
    if tool_name not in tool_ids:
        raise UsageError(f"{test.path}: tool {tool_name!r} has no id in this environment")
    tool_id = tool_ids[tool_name]
    config = index.tools.config(tool_id) or {}
    body = copy.deepcopy(test.body)
    reference = {"id": tool_id, "type": str(config.get("type", "webhook"))}
    body["tool_call_parameters"]["referenced_tool"] = reference
    return body


def run_agent_tests(
    client: ConvaiClient,
    agent_id: str,
    tests: Sequence[SyncedTest],
    *,
    branch_id: str | None,
    policy: PollPolicy | None = None,
    progress: Progress | None = None,
    repeat: int | None = None,
    min_pass: int | None = None,
) -> TestReport:
    """Run ``tests`` on ``branch_id`` (main when None) and wait for every verdict.

    ``repeat`` overrides each test's ``repeat`` and ``min_pass``: every one of the ``repeat``
    runs must pass unless ``min_pass`` (at most ``repeat``) is given too; ``min_pass`` without
    ``repeat`` raises ``UsageError`` (see :func:`check_threshold`). Runs still
    ``pending`` at the policy's timeout are resubmitted once
    (``POST /v1/convai/test-invocations/{id}/resubmit``); raises ``TestRunError`` if they stay
    pending, or an ``ApiError`` from the client.
    """
    policy = policy or PollPolicy()
    check_threshold(repeat, min_pass)

    def times(test: SyncedTest) -> int:
        return repeat or test.spec.repeat

    invocations: list[str] = []
    verdicts: list[TestVerdict] = []
    for count, group in groupby(sorted(tests, key=times), key=times):
        batch = list(group)
        ids = [t.test_id for t in batch]
        started = client.run_tests(agent_id, ids, branch_id=branch_id, repeat_count=count)
        _say(progress, f"started {len(ids)} test(s) x{count} (invocation {started['id']})")
        done = _wait_or_resubmit(client, started, policy, progress)
        invocations.append(started["id"])
        verdicts.extend(_verdict(t, done, _needed(t, repeat, min_pass)) for t in batch)
    order = {t.test_id: i for i, t in enumerate(tests)}
    verdicts.sort(key=lambda v: order[v.test_id])
    return TestReport(agent_id, branch_id, tuple(invocations), tuple(verdicts))


def wait_for_invocation(
    client: ConvaiClient,
    invocation_id: str,
    policy: PollPolicy,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Poll ``GET /v1/convai/test-invocations/{id}`` until no run is pending; return its body."""

    def report(state: Any) -> None:
        runs = state.outcome.result()["test_runs"]
        pending = sum(1 for r in runs if r["status"] == "pending")
        _say(progress, f"{len(runs) - pending}/{len(runs)} run(s) finished, waiting...")

    retrying = Retrying(
        retry=retry_if_result(_has_pending),
        wait=wait_exponential(multiplier=policy.initial, min=policy.initial, max=policy.cap),
        stop=stop_after_delay(policy.timeout),
        before_sleep=report,
        sleep=policy.sleep or time.sleep,
    )
    try:
        result: dict[str, Any] = retrying(client.get_test_invocation, invocation_id)
    except RetryError:
        raise TestRunError(
            f"test invocation {invocation_id} still has pending runs after {policy.timeout:g}s"
        ) from None
    return result


def _wait_or_resubmit(
    client: ConvaiClient, started: Mapping[str, Any], policy: PollPolicy, progress: Progress | None
) -> dict[str, Any]:
    try:
        return wait_for_invocation(client, started["id"], policy, progress)
    except TestRunError:
        current = client.get_test_invocation(started["id"])
        stuck = [r["test_run_id"] for r in current["test_runs"] if r["status"] == "pending"]
        _say(progress, f"{len(stuck)} run(s) stuck pending: resubmitting them once")
        client.resubmit_test_invocation(
            started["id"],
            test_run_ids=stuck,
            agent_id=str(started.get("agent_id") or current.get("agent_id")),
            branch_id=started.get("branch_id"),
        )
        return wait_for_invocation(client, started["id"], policy, progress)


def _has_pending(invocation: Mapping[str, Any]) -> bool:
    return any(run["status"] == "pending" for run in invocation["test_runs"])


def check_threshold(repeat: int | None, min_pass: int | None) -> None:
    """Raise ``UsageError`` (one line) for ``--min-pass`` without ``--repeat`` or above it."""
    if min_pass is not None and repeat is None:
        raise UsageError("--min-pass needs --repeat (it counts passes out of --repeat runs)")
    if min_pass is not None and repeat is not None and min_pass > repeat:
        raise UsageError(f"--min-pass {min_pass} is more than --repeat {repeat}")


def _needed(test: SyncedTest, repeat: int | None, min_pass: int | None) -> int:
    """Passes ``test`` needs: the YAML ``min_pass`` of the YAML ``repeat``; with a ``repeat``
    given by the caller, ``min_pass`` when given too, else every run."""
    if repeat is None:
        return test.spec.min_pass
    return min_pass if min_pass is not None else repeat


def _verdict(test: SyncedTest, invocation: Mapping[str, Any], minimum: int) -> TestVerdict:
    mine = [r for r in invocation["test_runs"] if r["test_id"] == test.test_id]
    passed = sum(1 for r in mine if r["status"] == "passed")
    rationales = tuple(_rationale(r) for r in mine if r["status"] != "passed")
    spec = test.spec
    duration = _duration(invocation.get("created_at"), mine)
    return TestVerdict(
        spec.name, spec.type, test.test_id, passed, len(mine), minimum, rationales, duration
    )


def _duration(started: Any, runs: Sequence[Mapping[str, Any]]) -> float | None:
    """Seconds from ``started`` (the invocation's ``created_at``) to the last run's
    ``last_updated_at_unix``; None when either is missing (both are optional in the API)."""
    ends = [
        r["last_updated_at_unix"] for r in runs if isinstance(r.get("last_updated_at_unix"), int)
    ]
    if not isinstance(started, int) or not ends:
        return None
    return float(max(0, max(ends) - started))


def _rationale(run: Mapping[str, Any]) -> str:
    result = run.get("condition_result") or {}
    rationale = result.get("rationale") or {}
    text = rationale.get("summary") or " ".join(rationale.get("messages") or [])
    return text or f"run {run.get('test_run_id', '?')} {run['status']} without a rationale"


def _say(progress: Progress | None, message: str) -> None:
    if progress:
        progress(message)


@dataclass(frozen=True)
class AgentTestRun:
    """The tests of one agent run on main or a branch (``report`` None: agent not found)."""

    __test__ = False

    slug: str
    target: str
    report: TestReport | None


def test_agents(
    client: ConvaiClient,
    agents: Sequence[AgentSpec],
    env: str,
    *,
    branch: str | None = None,
    repeat: int | None = None,
    min_pass: int | None = None,
    policy: PollPolicy | None = None,
    progress: Callable[[str, str], None] | None = None,
    project_tools: Sequence[ToolSpec] = (),
) -> list[AgentTestRun]:
    """Run each agent's repository tests on its main, or on ``branch`` (id or name), each
    ``repeat`` times needing ``min_pass`` passes when given (see :func:`run_agent_tests`).

    Reads ``GET /v1/convai/agents`` / ``agent-testing`` lists once, then per agent syncs the
    tests, waits for the RAG index of its documents (:func:`knowledge.wait_for_rag_indexes`)
    and runs them (``run_agent_tests``). A tool test's tool (one of ``project_tools``) is the
    workspace tool with its content, created if missing. Raises ``UsageError`` for an unknown
    branch, and
    before any call for a ``branch`` that is neither an id nor a valid branch name;
    ``KnowledgeIndexError`` for a document that cannot be indexed in time.
    """
    check_threshold(repeat, min_pass)
    if branch is not None:
        require_branch_ref(branch, "--branch")
    index = fetch_index(client, agents, env)
    runs = []
    for spec in agents:
        agent_id = spec.agent_id(env) or index.agent_ids.get(spec.slug)
        if agent_id is None or not spec.tests:
            runs.append(AgentTestRun(spec.slug, "", None))
            continue
        branch_id = _branch_id(client, agent_id, branch) if branch else None
        say = (lambda m, s=spec.slug: progress(s, m)) if progress else None
        tool_ids = _tool_ids(client, spec, agent_id, project_tools, index, say)
        tests = sync_tests(client, spec.slug, spec.tests, index, tool_ids)
        if spec.knowledge:  # documents may still be indexing: never test before they are
            wait_for_rag_indexes(client, agent_id, branch_id, policy or PollPolicy(), say)
        report = run_agent_tests(
            client,
            agent_id,
            tests,
            branch_id=branch_id,
            policy=policy,
            progress=say,
            repeat=repeat,
            min_pass=min_pass,
        )
        runs.append(AgentTestRun(spec.slug, f"branch {branch}" if branch else "main", report))
    return runs


test_agents.__test__ = False  # type: ignore[attr-defined]


def _tool_ids(
    client: ConvaiClient,
    spec: AgentSpec,
    agent_id: str,
    tools: Sequence[ToolSpec],
    index: RemoteIndex,
    say: Progress | None,
) -> dict[str, str]:
    """The tools ``spec``'s tests name, resolved (main's own first; see ``resolve_tools``)."""
    if spec.tools is None and not any(t.tool_name for t in spec.tests):
        return {}
    prefer = main_tool_ids(client.get_agent(agent_id))
    return resolve_tools(client, spec, tools, index.tools, prefer, say or (lambda _: None))


def _branch_id(client: ConvaiClient, agent_id: str, branch: str) -> str:
    lookup = find_branch(client, agent_id, branch)
    if lookup.found is None:
        raise UsageError(not_found_message(agent_id, branch, lookup))
    return str(lookup.found["id"])
