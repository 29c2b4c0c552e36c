"""``promote --to production`` honours production's ``canary:`` block: the promoted change
meets production's live callers first. With none calling (no traffic), its step's
max_duration ends the canary with a rollback: production's main is left as it was."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.ci.conftest import (  # noqa: F401  (fixtures)
    PRODUCTION_KEY,
    Environments,
    commit,
    environments,
    project,
)

PROMOTE = ("promote", "--from", "staging", "--to", "production", "--auto-approve")
CANARY = """\
    canary:
      steps: [20]
      min_conversations: 5
      max_duration: 1
      analysis_interval: 0.2
"""


def _support_main(environments: Environments) -> str:  # noqa: F811
    url = environments.production.url
    headers = {"xi-api-key": PRODUCTION_KEY}
    agents = httpx.get(f"{url}/v1/convai/agents", headers=headers).json()["agents"]
    [agent] = [a for a in agents if a["name"] == "Support"]
    body = httpx.get(f"{url}/v1/convai/agents/{agent['agent_id']}", headers=headers).json()
    return str(body["version_id"])


def test_promote_canaries_production_when_its_block_says_so(
    environments: Environments,  # noqa: F811
    project: Path,  # noqa: F811
) -> None:
    cli = environments.cli
    assert cli("apply", "--auto-approve", "--env", "staging")[0] == 0
    assert cli(*PROMOTE)[0] == 0  # new agents in production: no callers yet, no canary
    before = _support_main(environments)
    config = (project / "convai-ops.yaml").read_text()
    prompt = (project / "agents/support/prompt.md").read_text()
    commit(
        project,
        {
            "convai-ops.yaml": config.replace("  production:\n", "  production:\n" + CANARY),
            "agents/support/prompt.md": prompt.replace("business days", "working days"),
        },
        "production canaries its changes",
    )
    assert cli("apply", "--auto-approve", "--env", "staging")[0] == 0
    code, out, err = cli(*PROMOTE)
    assert code == 3, out + err
    assert "support: canary step 1: 20% of live traffic" in out
    assert "canary rolled back: max_duration reached" in out
    assert _support_main(environments) == before
