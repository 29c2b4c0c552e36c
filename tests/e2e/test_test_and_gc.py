"""`convai-ops test` and `convai-ops gc` end to end against the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from convai_ops.emulator import EmulatorConfig, run_in_thread
from tests.e2e.conftest import KEY


def test_test_runs_on_main_and_on_a_branch(cli: Any, server: Any, project: Path) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    code, out, _ = cli("test", "support")
    assert code == 0, out
    assert "support on main: all passed" in out
    assert "Tests: 3 passed, 0 failed." in out
    prompt = project / "agents/support/prompt.md"
    prompt.write_text(prompt.read_text().replace("within 30 days", "within 14 days"))
    code, out, _ = cli("apply", "--auto-approve", "--target", "support")
    assert code == 3
    [branch] = [w for w in out.split() if w.startswith("agtbrch_")][-1:]
    code, out, _ = cli("test", "support", "--branch", branch)
    assert code == 3
    assert f"support on branch {branch}: 1 failed" in out
    assert "FAIL refund-window" in out and 'lacks "30 days"' in out


def test_unknown_branch_is_a_one_line_error(cli: Any) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    code, _, err = cli("test", "support", "--branch", "no-such-branch")
    assert code == 1
    assert "has no branch 'no-such-branch'" in err
    assert len(err.strip().splitlines()) == 1


@pytest.fixture
def flaky_server() -> Iterator[Any]:
    config = EmulatorConfig(rag_index_delay_s=0.05, test_delay_s=0.05, nondeterminism=0.5, seed=7)
    with run_in_thread(config) as handle:
        yield handle


def test_repeat_honours_min_pass_with_a_seeded_nondeterministic_judge(
    flaky_server: Any,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from convai_ops.cli import main

    monkeypatch.setenv("ELEVENLABS_BASE_URL", flaky_server.url)
    monkeypatch.setenv("ELEVENLABS_API_KEY", KEY)
    monkeypatch.setenv("CONVAI_OPS_POLL_INTERVAL", "0.05")
    test_file = project / "agents/support/tests/refund-window.yaml"
    test_file.write_text(test_file.read_text() + "repeat: 6\nmin_pass: 1\n")
    (project / "agents/support/tests/delivery-time.yaml").unlink()  # only the test under study

    def run(*args: str) -> tuple[int, str]:
        with pytest.raises(SystemExit) as info:
            main(["-C", str(project), *args])
        return int(info.value.code or 0), capsys.readouterr().out

    assert run("apply", "--auto-approve", "--target", "support")[0] == 0  # temperature 0.1
    code, out = run("test", "support")  # the YAML's repeat 6 with its min_pass 1
    line = next(row for row in out.splitlines() if "refund-window" in row)
    passed = int(line.split("passed ")[1].split("/")[0])
    assert 0 < passed < 6, line  # the seeded judge is really nondeterministic here
    assert "/6 (needs 1)" in line and line.strip().startswith("pass")
    code, out = run("test", "support", "--repeat", "6", "--min-pass", "1")
    assert code == 0
    assert "/6 (needs 1)" in next(row for row in out.splitlines() if "refund-window" in row)
    test_file.write_text(test_file.read_text().replace("min_pass: 1", "min_pass: 6"))
    code, out = run("test", "support")
    assert code == 3
    assert "(needs 6)" in next(row for row in out.splitlines() if "refund-window" in row)


def test_gc_lists_then_deletes_only_unreferenced_owned_items(
    cli: Any, server: Any, project: Path
) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    test_file = project / "agents/assistant/tests/expense-deadline.yaml"
    example = "Expense reports are due on the 5th working day of each month."
    test_file.write_text(test_file.read_text() + f"success_examples: [{example}]\n")
    assert cli("apply", "--auto-approve")[0] == 0
    code, out, _ = cli("gc", "--min-age-days", "0")
    assert code == 0
    listed = [row for row in out.splitlines() if row.startswith("  test ")]
    assert len(listed) == 1 and "assistant/expense-deadline #" in listed[0]
    assert "1 unused item(s)" in out
    code, out, _ = cli("gc", "--min-age-days", "0", "--yes")
    assert "Deleted 1, kept 0." in out
    code, out, _ = cli("plan", "--detailed-exitcode")
    assert code == 0, out  # nothing main uses was deleted
    assert "0 unused item(s)" in cli("gc", "--min-age-days", "0")[1]


def test_gc_leaves_recent_items_alone(cli: Any) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    assert "0 unused item(s)" in cli("gc")[1]


def test_gc_keeps_a_document_a_branch_still_uses_naming_it(cli: Any, project: Path) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    parking = project / "agents/assistant/knowledge/parking.md"
    parking.write_text(parking.read_text().replace("P2 garage", "P3 garage"))
    code, out, err = cli("apply", "--auto-approve")
    assert code == 3, out + err  # staff-parking fails: the branch with the new document is kept
    code, out, _ = cli("gc", "--min-age-days", "0", "--yes")
    assert code == 0
    [kept] = [row for row in out.splitlines() if "kept, in use by" in row]
    assert "branch convai-ops-" in kept and "of Nova Helpdesk" in kept
    assert "document assistant/parking.md #" in kept
    assert "Deleted 0, kept 1." in out
