"""The user's loop, end to end from the terminal: a failing call -> a test -> the test fails on
main -> a prompt fix on a branch -> the test passes there -> apply merges."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conversations.conftest import CANADA

FIX = "We ship to the United States and Canada.\n"
CONDITION = 'success_condition: The agent says Acme ships to "Canada".'


def test_failing_call_to_test_to_fix_to_merge(cli: Any, project: Path) -> None:
    assert cli("apply", "--auto-approve")[0] == 0

    code, out, _ = cli("conversations", "list", "--agent", "support", "--failed", "--since", "7d")
    assert code == 0 and CANADA in out
    code, out, _ = cli("conversations", "show", CANADA)
    assert "  [3]  0:07 agent  Orders ship within 2 business days" in out

    code, out, _ = cli(
        "tests", "new", "--from-conversation", CANADA, "--at-turn", "3", "--name", "ships-to-canada"
    )
    assert code == 0, out
    test_file = project / "agents/support/tests/ships-to-canada.yaml"
    assert cli("validate")[0] == 1
    lines = test_file.read_text().splitlines()
    test_file.write_text(
        "\n".join(CONDITION if line.startswith("success_condition:") else line for line in lines)
    )
    assert cli("validate")[0] == 0

    code, out, _ = cli("test", "support")
    assert code == 3 and "FAIL ships-to-canada" in out

    prompt = project / "agents/support/prompt.md"
    prompt.write_text(prompt.read_text() + FIX)
    code, out, _ = cli("check", "--branch-name", "fix-canada")
    assert code == 0, out
    code, out, _ = cli("test", "support", "--branch", "fix-canada")
    assert code == 0, out
    assert "pass ships-to-canada" in out
    code, out, _ = cli(
        "simulate",
        "support",
        "--branch",
        "fix-canada",
        "--from-conversation",
        CANADA,
        "--at-turn",
        "3",
        "--criterion",
        'canada: Says "Canada"',
    )
    assert code == 0 and "canada: success" in out

    code, out, _ = cli("apply", "--auto-approve")
    assert code == 0, out
    assert "Apply: 1 merged" in out
    code, out, _ = cli("test", "support")
    assert code == 0 and "pass ships-to-canada" in out
    assert cli("plan", "--detailed-exitcode")[0] == 0
