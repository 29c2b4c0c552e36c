"""The project of the live-traffic canary tests: the example agents (the support agent states a
warranty no test covers, judged on live calls) with a canary block of small minimums."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.e2e.conftest import KEY
from tests.helpers import copy_example

RATE = 30.0
CANARY = """\
    canary:
      steps: [20]
      min_conversations: 10
      max_duration: 60
      margin: 0.25
      analysis_interval: 0.3
"""
GOOD = ("Be warm,", "Be warm and friendly,")
BAD = ("2-year warranty", "1-year warranty")


def canary_project(root: Path) -> Path:
    """The example project (its support agent states a warranty no test covers, judged by the
    criterion ``warranty_stated``) with the canary block on staging."""
    copy_example(root)
    config = root / "convai-ops.yaml"
    config.write_text(config.read_text().replace("  staging:\n", "  staging:\n" + CANARY, 1))
    assert "2-year warranty" in (root / "agents" / "support" / "prompt.md").read_text()
    return root


def edit_prompt(root: Path, change: tuple[str, str]) -> None:
    """Replace ``change[0]`` by ``change[1]`` in the support agent's prompt."""
    prompt = root / "agents" / "support" / "prompt.md"
    text = prompt.read_text()
    assert change[0] in text
    prompt.write_text(text.replace(*change))


def api(server: Any, path: str) -> Any:
    """GET ``path`` on the emulator; the decoded answer."""
    answer = httpx.get(f"{server.url}{path}", headers={"xi-api-key": KEY})
    answer.raise_for_status()
    return answer.json()


def branches(server: Any, agent_id: str) -> list[dict[str, Any]]:
    """Every branch of the agent, archived ones included."""
    path = f"/v1/convai/agents/{agent_id}/branches?include_archived=true"
    results: list[dict[str, Any]] = api(server, path)["results"]
    return results


def deployments(server: Any, agent_id: str) -> list[Any]:
    """The deployment requests the emulator answered for the agent."""
    log = server.emulator.request_log
    return [
        e.body for e in log if e.method == "POST" and e.path.endswith(f"{agent_id}/deployments")
    ]
