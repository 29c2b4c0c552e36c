"""JUnit ``time`` of each test case: the test's duration from the API's timestamps (the
invocation's ``created_at`` and each run's ``last_updated_at_unix``), through the client on an
``httpx.MockTransport``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from junitparser import JUnitXml

from convai_ops.api import ConvaiClient
from convai_ops.junit import write_test_runs_junit
from convai_ops.spec.models import TestSpec
from convai_ops.testing import AgentTestRun, PollPolicy, SyncedTest, run_agent_tests

STARTED = 1_760_000_000
# test_id -> the last_updated_at_unix of each of its runs
FINISHED = {"t_refund": [STARTED + 4, STARTED + 7], "t_greet": [STARTED + 2, STARTED + 1]}


def _run(test_id: str, index: int, status: str, updated: int) -> dict[str, Any]:
    return {
        "test_run_id": f"run_{test_id}_{index}",
        "test_invocation_id": "inv_1",
        "agent_id": "agent_1",
        "test_id": test_id,
        "status": status,
        "last_updated_at_unix": updated,
    }


def _invocation(done: bool) -> dict[str, Any]:
    runs = [
        _run(test_id, i, "passed" if done else "pending", end if done else STARTED)
        for test_id, ends in FINISHED.items()
        for i, end in enumerate(ends)
    ]
    return {"id": "inv_1", "agent_id": "agent_1", "created_at": STARTED, "test_runs": runs}


def _api(request: httpx.Request) -> httpx.Response:
    if request.method == "POST" and request.url.path == "/v1/convai/agents/agent_1/run-tests":
        assert json.loads(request.content)["repeat_count"] == 2
        return httpx.Response(200, json=_invocation(done=False))
    if request.url.path == "/v1/convai/test-invocations/inv_1":
        return httpx.Response(200, json=_invocation(done=True))
    return httpx.Response(404, json={"detail": "not found"})


def _synced(test_id: str, name: str) -> SyncedTest:
    body = {"type": "llm", "chat_history": []}
    spec = TestSpec(name=name, type="llm", path=Path(f"{name}.yaml"), repeat=2, body=body)
    return SyncedTest(spec, test_id, f"convai-ops:support:{name}")


def test_junit_time_is_each_tests_duration_from_the_api_timestamps(tmp_path: Path) -> None:
    tests = [_synced("t_refund", "refund-window"), _synced("t_greet", "greeting")]
    policy = PollPolicy(initial=0.01, cap=0.01, sleep=lambda _s: None)
    transport = httpx.MockTransport(_api)
    with ConvaiClient("https://api.test", "key-0123456789abcdef", transport=transport) as client:
        report = run_agent_tests(client, "agent_1", tests, branch_id=None, policy=policy)
    assert [v.duration_s for v in report.verdicts] == [7.0, 2.0]
    path = tmp_path / "test.xml"
    write_test_runs_junit([AgentTestRun("support", "main", report)], path)
    [suite] = JUnitXml.fromfile(str(path))
    assert {case.name: case.time for case in suite} == {"refund-window": 7.0, "greeting": 2.0}
    assert suite.time == 9.0
