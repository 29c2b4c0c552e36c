"""Crash safety: SIGKILL apply at random points, re-run it, and check the end state.

The emulator runs in this process; each apply is a real ``convai-ops`` subprocess talking to
it over loopback, killed with SIGKILL after a random delay, then re-run to completion.
"""

from __future__ import annotations

import collections
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from convai_ops.emulator import EmulatorConfig, run_in_thread
from tests.e2e.conftest import KEY

KILLS = 10


@pytest.fixture
def slow_server() -> Iterator[Any]:
    with run_in_thread(EmulatorConfig(rag_index_delay_s=0.05, test_delay_s=0.4)) as handle:
        yield handle


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ELEVENLABS_", "CONVAI_OPS_"))}
    env.update(ELEVENLABS_BASE_URL=url, ELEVENLABS_API_KEY=KEY, CONVAI_OPS_POLL_INTERVAL="0.1")
    return env


def _apply(project: Path, url: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "convai_ops", "-C", str(project), "apply", "--auto-approve"]
    return subprocess.Popen(
        command, env=_env(url), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _get(server: Any, path: str) -> Any:
    response = httpx.get(
        f"{server.url}{path}", headers={"xi-api-key": KEY}, params={"page_size": 100}
    )
    response.raise_for_status()
    return response.json()


def _edit(project: Path, round_number: int) -> None:
    prompt = project / "agents/support/prompt.md"
    lines = prompt.read_text().splitlines()
    lines[1] = f"Be warm and concise (revision {round_number}), and never invent order details."
    prompt.write_text("\n".join(lines) + "\n")


def _merges_follow_passed_invocations(server: Any) -> list[str]:
    passed_branches: set[str] = set()
    problems = []
    for entry in server.emulator.request_log:
        body = entry.response_body if isinstance(entry.response_body, dict) else {}
        runs = body.get("test_runs")
        if entry.method == "GET" and runs and all(r["status"] == "passed" for r in runs):
            passed_branches.add(str(body.get("branch_id")))
        if entry.method == "POST" and entry.path.endswith("/merge"):
            branch = entry.path.split("/branches/")[1].split("/")[0]
            if branch not in passed_branches:
                problems.append(f"merge of {branch} without a passed invocation before it")
    return problems


def test_sigkill_at_random_points_then_rerun_converges(slow_server: Any, project: Path) -> None:
    rng = random.Random(20261122)
    for round_number in range(KILLS):
        _edit(project, round_number)
        process = _apply(project, slow_server.url)
        time.sleep(rng.uniform(0.2, 2.5))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    _edit(project, KILLS)
    final = _apply(project, slow_server.url)
    assert final.wait(timeout=60) == 0
    check = subprocess.run(
        [sys.executable, "-m", "convai_ops", "-C", str(project), "plan", "--detailed-exitcode"],
        env=_env(slow_server.url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stdout + check.stderr  # main equals the repository
    agents = [a for a in _get(slow_server, "/v1/convai/agents")["agents"]]
    tags = collections.Counter(t for a in agents for t in a["tags"] if t.startswith("convai-ops:"))
    assert tags == {"convai-ops:support": 1, "convai-ops:assistant": 1}
    tests = collections.Counter(
        t["name"] for t in _get(slow_server, "/v1/convai/agent-testing")["tests"]
    )
    assert max(tests.values()) == 1, tests
    documents = collections.Counter(
        d["name"] for d in _get(slow_server, "/v1/convai/knowledge-base")["documents"]
    )
    assert max(documents.values()) == 1, documents
    assert _merges_follow_passed_invocations(slow_server) == []
