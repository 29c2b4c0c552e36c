"""CPU time of ``make_plan`` (the pure diff, no HTTP) on 500 agents, in three states.

The agents are ``agents/support`` copied 500 times without their tests; the live side of each
is one real GET body of that agent (applied once to an in-process emulator), tagged per copy.
States: *in sync* (all no-op), *prompt edited* (every prompt differs: a text leaf) and
*criterion edited* (every agent's evaluation criterion goal differs: a list of objects,
matched by identity). Printed: the minimum and median process CPU time over 9 plans.

Not part of ``python -m bench``. To compare two checkouts, run it under each:

    PYTHONPATH=/path/to/checkout python -m bench.plan_diff_cpu /path/to/checkout
"""

from __future__ import annotations

import copy
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from convai_ops.cli import main as cli_main
from convai_ops.emulator import EmulatorConfig, run_in_thread
from convai_ops.plan import make_plan
from convai_ops.spec import Project, load_project
from convai_ops.state import RemoteAgent, RemoteIndex, Snapshot

COUNT = 500
RUNS = 9
KEY = "bench-key-0123456789"
GOAL = 'The agent greets the caller as "Ava from Acme Outdoor Gear".'


def _project_root(repo: Path, count: int) -> Path:
    root = Path(tempfile.mkdtemp(prefix="plan-diff-cpu-"))
    shutil.copy2(repo / "convai-ops.yaml", root / "convai-ops.yaml")
    for i in range(count):
        target = root / "agents" / f"agent-{i:04d}"
        shutil.copytree(repo / "agents" / "support", target)
        shutil.rmtree(target / "tests")
    return root


def _edit(root: Path, state: str) -> None:
    for i, folder in enumerate(sorted((root / "agents").iterdir())):
        if state == "prompt edited":
            prompt = folder / "prompt.md"
            prompt.write_text(prompt.read_text("utf-8") + f"\nRevision {i}.\n", "utf-8")
        elif state == "criterion edited":
            agent = folder / "agent.yaml"
            agent.write_text(agent.read_text("utf-8").replace(GOAL, f"Greets as Ava ({i})."))


def _live_config(repo: Path) -> dict[str, Any]:
    """One GET body of ``agents/support`` as apply leaves it."""
    root = _project_root(repo, 1)
    with run_in_thread(EmulatorConfig(test_delay_s=0.01, rag_index_delay_s=0.01)) as server:
        os.environ.update(ELEVENLABS_BASE_URL=server.url, ELEVENLABS_API_KEY=KEY)
        try:
            cli_main(["-C", str(root), "apply", "--auto-approve"])
        except SystemExit as done:
            assert not done.code, "apply failed"
        headers = {"xi-api-key": KEY}
        [agent] = httpx.get(f"{server.url}/v1/convai/agents", headers=headers).json()["agents"]
        url = f"{server.url}/v1/convai/agents/{agent['agent_id']}"
        body: dict[str, Any] = httpx.get(url, headers=headers).json()
    shutil.rmtree(root)
    return body


def _snapshot(project: Project, config: dict[str, Any]) -> Snapshot:
    agents: dict[str, RemoteAgent | None] = {}
    for spec in project.agents:
        live = copy.deepcopy(config)
        tags = [t for t in live["tags"] if not t.startswith("convai-ops:")]
        live["tags"] = [*tags, f"convai-ops:{spec.slug}"]
        agents[spec.slug] = RemoteAgent(agent_id=f"agent_{spec.slug}", config=live)
    return Snapshot(index=RemoteIndex(), agents=agents)


def main(repo: Path) -> None:
    """Print one line per state: plan actions and CPU seconds of ``make_plan``."""
    config = _live_config(repo)
    for state in ("in sync", "prompt edited", "criterion edited"):
        root = _project_root(repo, COUNT)
        _edit(root, state)
        project = load_project(root)
        snapshot = _snapshot(project, config)
        times = []
        for _ in range(RUNS):
            started = time.process_time()
            plan = make_plan(project, snapshot, "staging")
            times.append(time.process_time() - started)
        print(
            f"{state:17} update={plan.count('update')} no-op={plan.count('no-op')} "
            f"cpu min {min(times):.3f} s, median {statistics.median(times):.3f} s"
        )
        shutil.rmtree(root)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1])
