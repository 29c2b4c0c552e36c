"""Agent tests: sync them to the API, run them on a branch, poll, and judge the runs.

- ``sync_tests`` creates each YAML test as a remote test named ``<slug>/<name> #<hash>``
  (``POST /v1/convai/agent-testing/create``) unless one with that name exists.
- ``run_agent_tests`` starts one invocation per distinct ``repeat`` value
  (``POST /v1/convai/agents/{id}/run-tests`` with ``branch_id`` and ``repeat_count``), polls
  ``GET /v1/convai/test-invocations/{id}`` with exponential backoff until no run is ``pending``,
  and returns a verdict per test: passed when at least ``min_pass`` of its runs passed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import TYPE_CHECKING, Any

from tenacity import RetryError, Retrying, retry_if_result, stop_after_delay, wait_exponential

from convai_ops.errors import TestRunError
from convai_ops.state import RemoteIndex, remote_test_name

if TYPE_CHECKING:
    from convai_ops.api import ConvaiClient
    from convai_ops.spec import TestSpec

__all__ = [
    "PollPolicy",
    "SyncedTest",
    "TestReport",
    "TestVerdict",
    "run_agent_tests",
    "sync_tests",
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
    """The outcome of one test: ``passed`` of ``runs`` runs passed; ok when >= ``min_pass``."""

    __test__ = False

    name: str
    type: str
    test_id: str
    passed: int
    runs: int
    min_pass: int
    rationales: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when enough runs passed."""
        return self.runs > 0 and self.passed >= self.min_pass


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
    client: ConvaiClient, slug: str, tests: Sequence[TestSpec], index: RemoteIndex
) -> list[SyncedTest]:
    """Make sure each test exists remotely under its content-addressed name; return the ids.

    Existing tests (found in ``index``) are never modified, so concurrent pull requests that
    change the same YAML test differently each get their own remote test.
    """
    synced = []
    for test in tests:
        name = remote_test_name(slug, test)
        test_id = index.test_ids.get(name) or client.create_test({**test.body, "name": name})
        synced.append(SyncedTest(test, test_id, name))
    return synced


def run_agent_tests(
    client: ConvaiClient,
    agent_id: str,
    tests: Sequence[SyncedTest],
    *,
    branch_id: str | None,
    policy: PollPolicy | None = None,
    progress: Progress | None = None,
) -> TestReport:
    """Run ``tests`` on ``branch_id`` (main when None) and wait for every verdict.

    Raises ``TestRunError`` when an invocation stays ``pending`` past the policy's timeout, or
    an ``ApiError`` from the client.
    """
    policy = policy or PollPolicy()
    ordered = sorted(tests, key=lambda t: t.spec.repeat)
    invocations: list[str] = []
    verdicts: list[TestVerdict] = []
    for repeat, group in groupby(ordered, key=lambda t: t.spec.repeat):
        batch = list(group)
        ids = [t.test_id for t in batch]
        started = client.run_tests(agent_id, ids, branch_id=branch_id, repeat_count=repeat)
        _say(progress, f"started {len(ids)} test(s) x{repeat} (invocation {started['id']})")
        done = wait_for_invocation(client, started["id"], policy, progress)
        invocations.append(started["id"])
        verdicts.extend(_verdict(t, done["test_runs"]) for t in batch)
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


def _has_pending(invocation: Mapping[str, Any]) -> bool:
    return any(run["status"] == "pending" for run in invocation["test_runs"])


def _verdict(test: SyncedTest, runs: Sequence[Mapping[str, Any]]) -> TestVerdict:
    mine = [r for r in runs if r["test_id"] == test.test_id]
    passed = sum(1 for r in mine if r["status"] == "passed")
    rationales = tuple(_rationale(r) for r in mine if r["status"] != "passed")
    spec = test.spec
    return TestVerdict(
        spec.name, spec.type, test.test_id, passed, len(mine), spec.min_pass, rationales
    )


def _rationale(run: Mapping[str, Any]) -> str:
    result = run.get("condition_result") or {}
    rationale = result.get("rationale") or {}
    text = rationale.get("summary") or " ".join(rationale.get("messages") or [])
    return text or f"run {run.get('test_run_id', '?')} {run['status']} without a rationale"


def _say(progress: Progress | None, message: str) -> None:
    if progress:
        progress(message)
