"""The scheduled canary job of the promote workflow: it runs `canary analyse` for production
and fails when a canary was rolled back (exit 3) or on an error; only on its schedule."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ci.actions import load_workflow, run_job
from tests.ci.conftest import PRODUCTION_KEY, STAGING_KEY
from tests.ci.test_workflows import WORKFLOWS, _base_env, _is_install

PROMOTE = WORKFLOWS / "convai-ops-promote.yml"


@pytest.mark.parametrize("status", [0, 1, 3])
def test_the_canary_job_analyses_production_and_fails_on_a_rollback(
    tmp_path: Path, status: int
) -> None:
    fake = tmp_path / "bin" / "convai-ops"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho "convai-ops $*"\nexit {status}\n')
    fake.chmod(0o755)
    env = _base_env(tmp_path)
    env["PATH"] = f"{fake.parent}:{env['PATH']}"
    expressions = {
        "secrets.ELEVENLABS_API_KEY": STAGING_KEY,
        "secrets.ELEVENLABS_API_KEY_PRODUCTION": PRODUCTION_KEY,
    }
    workflow = load_workflow(PROMOTE)
    runs = run_job(
        workflow, "canary", cwd=tmp_path, base_env=env, expressions=expressions, skip=_is_install
    )
    [analyse] = [run for run in runs if run.code is not None]
    assert analyse.code == status
    assert "convai-ops canary analyse --env production" in analyse.output


def test_the_canary_schedule_runs_neither_drift_check_nor_the_drift_checks_it() -> None:
    workflow = load_workflow(PROMOTE)
    crons = [entry["cron"] for entry in workflow["on"]["schedule"]]
    assert "*/15 * * * *" in crons
    jobs = workflow["jobs"]
    assert "'*/15 * * * *'" in jobs["canary"]["if"]
    for drift in ("drift-staging", "drift-production"):
        assert "'17 6 * * *'" in jobs[drift]["if"] and "*/15" not in jobs[drift]["if"]
