"""``apply plan.json --target SLUG``: the saved plan is applied for the targeted agents only; the
others are left alone, not reported as gone from the repository."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.conftest import agent_ids


def test_saved_plan_with_target_applies_only_that_agent(
    cli: Any, server: Any, project: Path
) -> None:
    plan_file = project / "plan.json"
    assert cli("plan", "--out", str(plan_file))[0] == 0

    code, out, err = cli("apply", str(plan_file), "--target", "support")

    assert code == 0, out + err
    assert "no longer in the repository" not in out + err
    assert set(agent_ids(server)) == {"support"}
    code, out, err = cli("apply", str(plan_file), "--target", "assistant")  # still fresh
    assert code == 0, out + err
    assert set(agent_ids(server)) == {"assistant", "support"}


def test_saved_plan_with_target_still_refuses_when_that_agent_moved(
    cli: Any, project: Path
) -> None:
    plan_file = project / "plan.json"
    assert cli("plan", "--out", str(plan_file))[0] == 0
    prompt = project / "agents/support/prompt.md"
    prompt.write_text(prompt.read_text() + "Always thank the caller.\n")

    code, _, err = cli("apply", str(plan_file), "--target", "support")

    assert code == 1
    assert "agents/support changed in the repository since the plan" in err
