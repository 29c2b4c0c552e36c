"""``convai-ops demo --example DIR`` with a project other than the bundled one: the steps it
can show on any project, one line for the ones it cannot, and one line for a folder that is no
project. Runs the demo's own emulator on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import make_runner

CONFIG = """version: 1
default_environment: live
environments:
  live:
    api_key_env: HELPDESK_API_KEY
"""
AGENT = "name: Helpdesk\nprompt_file: prompt.md\nrequire_tests: false  # it has no tests\n"


def _project(root: Path) -> Path:
    (root / "agents" / "helpdesk").mkdir(parents=True)
    (root / "convai-ops.yaml").write_text(CONFIG)
    (root / "agents" / "helpdesk" / "agent.yaml").write_text(AGENT)
    (root / "agents" / "helpdesk" / "prompt.md").write_text("You answer questions.\n")
    return root


def _demo(example: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    return make_runner(example, capsys)("demo", "--example", str(example))


def test_demo_of_another_project_plans_and_applies_then_says_what_it_leaves_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _demo(_project(tmp_path / "other"), capsys)
    assert (code, err) == (0, "")
    assert "--- Step 1/2: convai-ops plan" in out
    assert "--- Step 2/2: convai-ops apply --auto-approve" in out
    assert "+ helpdesk: merged into main" in out
    assert out.rstrip().splitlines()[-1] == (
        "Steps 3-6 (a prompt edit that breaks a test) left out: "
        "this project has no agents/support/prompt.md."
    )


def test_demo_of_a_folder_that_is_no_project_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "agents").mkdir()
    code, out, err = _demo(tmp_path, capsys)
    assert (code, out) == (1, "")
    assert err == (
        f"error: {tmp_path}: not a convai-ops project, the demo needs convai-ops.yaml there\n"
    )
