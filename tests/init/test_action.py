"""The composite action (action.yml): its inputs, the pinned version, how it passes the command,
the environment and the API keys to convai-ops, and its exit codes. Its ``run:`` steps run with
bash as on GitHub (``tests/ci/actions.py``), with a stand-in ``convai-ops`` that prints its
arguments and the keys it sees."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from convai_ops import __version__
from tests.ci.actions import ACTION, load_workflow, run_job

FAKE = """#!/bin/sh
echo "args: $*"
echo "staging key: ${ELEVENLABS_API_KEY:-unset}"
echo "production key: ${ELEVENLABS_API_KEY_PRODUCTION:-unset}"
exit "${FAKE_STATUS:-0}"
"""


def _run(tmp_path: Path, inputs: dict[str, str], status: int = 0) -> tuple[int, str]:
    fake = tmp_path / "bin" / "convai-ops"
    fake.parent.mkdir(exist_ok=True)
    fake.write_text(FAKE)
    fake.chmod(0o755)
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    workflow: dict[str, Any] = {"jobs": {"job": {"steps": [{"uses": "./", "with": inputs}]}}}
    env = {
        "PATH": f"{fake.parent}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}/usr/bin:/bin",
        "FAKE_STATUS": str(status),
    }
    [step] = run_job(
        workflow,
        "job",
        cwd=work,
        base_env=env,
        expressions={"secrets.KEY": "s3cret-staging-0123"},
        skip=lambda s: "pip install" in str(s.get("run", "")),
    )
    return int(step.code or 0), step.output


def test_the_action_installs_the_current_version_pinned() -> None:
    action = load_workflow(ACTION)
    assert action["runs"]["using"] == "composite"
    assert action["inputs"]["version"]["default"] == __version__
    assert set(action["inputs"]) >= {"command", "environment", "version", "python-version"}
    [install] = [s for s in action["runs"]["steps"] if s.get("name") == "Install convai-ops"]
    assert 'pip install --disable-pip-version-check "convai-ops==$VERSION"' in install["run"]
    [setup] = [s for s in action["runs"]["steps"] if "uses" in s]
    assert setup["uses"].startswith("actions/setup-python@")
    assert setup["with"]["python-version"] == "${{ inputs.python-version }}"


def test_the_command_is_split_on_spaces_and_the_environment_added(tmp_path: Path) -> None:
    code, out = _run(tmp_path, {"command": "apply  --auto-approve", "environment": "staging"})
    assert code == 0
    assert "args: apply --auto-approve --env staging" in out
    code, out = _run(tmp_path, {"command": "validate"})
    assert "args: validate\n" in out
    code, out = _run(tmp_path, {"command": "check\n  --markdown report.md\n", "environment": "a"})
    assert "args: check --markdown report.md --env a\n" in out
    code, out = _run(tmp_path, {"command": "  "})
    assert code == 1 and "the command input is empty" in out


def test_api_keys_reach_convai_ops_under_their_variables(tmp_path: Path) -> None:
    keys = "ELEVENLABS_API_KEY=${{ secrets.KEY }}\nELEVENLABS_API_KEY_PRODUCTION=p=q-0123\n"
    code, out = _run(tmp_path, {"command": "promote --from a --to b", "api-keys": keys})
    assert code == 0
    assert "staging key: s3cret-staging-0123" in out
    assert "production key: p=q-0123" in out


def test_a_malformed_api_keys_line_stops_before_convai_ops_without_showing_it(
    tmp_path: Path,
) -> None:
    code, out = _run(tmp_path, {"command": "plan", "api-keys": "s3cret-staging-0123"})
    assert code == 1
    assert "api-keys: each line must be VARIABLE=value" in out
    assert "s3cret" not in out and "args:" not in out


@pytest.mark.parametrize(
    ("command", "status", "annotation"),
    [
        ("drift", 2, "::error title=convai-ops drift::the live agents in prod differ"),
        ("plan --detailed-exitcode", 2, "::error title=convai-ops plan::changes found (exit 2)"),
        ("check", 3, None),
        ("drift", 1, None),
    ],
)
def test_the_action_exits_with_convai_ops_code(
    tmp_path: Path, command: str, status: int, annotation: str | None
) -> None:
    code, out = _run(tmp_path, {"command": command, "environment": "prod"}, status)
    assert code == status
    assert ("::error" in out) == (annotation is not None)
    assert annotation is None or annotation in out
