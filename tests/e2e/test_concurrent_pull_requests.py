"""Two pull requests change the same test YAML differently: two remote tests, each run on its
own branch, neither overwriting the other (nor attached to the agent: a check never writes the
agent-wide attached tests)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import KEY, agent_ids
from tests.helpers import copy_example, make_runner


def _pull_request(root: Path, condition: str) -> Path:
    project = copy_example(root)
    test = project / "agents/support/tests/refund-window.yaml"
    test.write_text(
        test.read_text().replace('The agent confirms the refund window of "30 days".', condition)
    )
    return project


def test_two_pull_requests_get_two_tests_on_two_branches(
    cli: Any, server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    first = _pull_request(tmp_path / "pr1", 'The agent mentions "30 days".')
    second = _pull_request(tmp_path / "pr2", 'The agent mentions "unused or faulty items".')
    codes: dict[str, int] = {}

    runs = [make_runner(p, capsys) for p in (first, second)]
    threads = [
        threading.Thread(
            target=lambda r=r, n=n: codes.__setitem__(n, r("check", "--branch-name", n)[0])
        )
        for r, n in zip(runs, ("pr-1", "pr-2"), strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert codes == {"pr-1": 0, "pr-2": 0}
    headers = {"xi-api-key": KEY}
    tests = httpx.get(
        f"{server.url}/v1/convai/agent-testing", headers=headers, params={"page_size": 100}
    ).json()["tests"]
    refund = {t["id"]: t["name"] for t in tests if t["name"].startswith("support/refund-window #")}
    assert len(refund) == 3  # main's, and one per pull request
    agent_id = agent_ids(server)["support"]
    branches = httpx.get(
        f"{server.url}/v1/convai/agents/{agent_id}/branches", headers=headers
    ).json()["results"]
    ran = {}  # attached tests are agent-wide: a check names its tests in run-tests instead
    for branch in branches:
        if branch["name"] in ("convai-ops-pr-1", "pr-1", "convai-ops-pr-2", "pr-2"):
            ids = {
                t["test_id"]
                for e in server.emulator.request_log
                if e.path.endswith("/run-tests") and e.body.get("branch_id") == branch["id"]
                for t in e.body["tests"]
            }
            ran[branch["name"]] = ids & set(refund)
    assert len(ran) == 2
    first_ids, second_ids = ran.values()
    assert len(first_ids) == len(second_ids) == 1 and first_ids != second_ids
