"""The GitHub workflows and the pre-commit hook: actionlint, and their commands run end to end
against the emulator (see ``tests/ci/actions.py`` for how a job's steps are run)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import git
import httpx
import pytest
from ruamel.yaml import YAML

from convai_ops.emulator import EmulatorServer
from convai_ops.report import MARKER
from tests.ci.actions import ACTION, StepRun, load_workflow, run_job
from tests.ci.conftest import (
    KEY,
    PRODUCTION_KEY,
    PROJECT_FILES,
    STAGING_KEY,
    Environments,
    Runner,
    commit,
)

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"
BIN = Path(sys.executable).parent


def _actionlint() -> str | None:
    found = shutil.which("actionlint", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    return found


def _lint(*paths: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    binary = _actionlint()
    if binary is None:
        pytest.skip("actionlint is not installed: pip install -e '.[dev]'")
    command = [binary, "-no-color", *map(str, paths)]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_workflows_pass_actionlint() -> None:
    workflows = sorted(WORKFLOWS.glob("*.yml"))
    assert [p.name for p in workflows] == [
        "ci.yml",
        "convai-ops-check.yml",
        "convai-ops-promote.yml",
    ]
    done = _lint(*workflows, cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_reports_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    steps = "    steps:\n      - run: echo ${{ github.no_such_property }}\n"
    broken.write_text(f"on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n{steps}")
    done = _lint(broken, cwd=tmp_path)
    assert done.returncode == 1
    assert "no_such_property" in done.stdout


def _is_install(step: Mapping[str, Any]) -> bool:
    return "pip install" in str(step.get("run", ""))


def _base_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "CONVAI_OPS_POLL_INTERVAL": "0.05",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        **extra,
    }


def _by_name(runs: list[StepRun]) -> dict[str, StepRun]:
    return {run.name: run for run in runs}


def _check_job(
    server: EmulatorServer, project: Path, tmp_path: Path, key: str, base: str
) -> dict[str, StepRun]:
    env = _base_env(tmp_path, ELEVENLABS_BASE_URL=server.url, GITHUB_REF="refs/pull/9/merge")
    expressions = {
        "secrets.ELEVENLABS_API_KEY": key,
        "github.event.pull_request.base.sha": base,
    }
    workflow = load_workflow(WORKFLOWS / "convai-ops-check.yml")
    runs = run_job(
        workflow, "check", cwd=project, base_env=env, expressions=expressions, skip=_is_install
    )
    return _by_name(runs)


def test_check_workflow_reports_a_failing_pull_request(
    cli: Runner, server: EmulatorServer, project: Path, tmp_path: Path
) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    base = git.Repo(project).head.commit.hexsha
    prompt = PROJECT_FILES["agents/support/prompt.md"].replace("30 days", "14 days")
    commit(project, {"agents/support/prompt.md": prompt}, "a shorter refund window")
    steps = _check_job(server, project, tmp_path, KEY, base)
    assert {name: run.code for name, run in steps.items() if run.ran} == {
        "actions/checkout@v4": None,
        "Validate": 0,  # action.yml, without its install step: the tests use this package
        "API key": 0,
        "Plan": 0,
        "Check": 3,
        "Comment on the pull request": None,
        "Upload JUnit XML": None,
    }
    assert (
        "Agent branch: convai-ops-pr-9 (from pull request #9 (GITHUB_REF))" in steps["Check"].output
    )
    report = (project / "convai-ops-check.md").read_text()
    assert report.startswith(MARKER) and "`refund-window`" in report
    assert 'tests="1"' in (project / "convai-ops-check.xml").read_text()
    summary = (tmp_path / "summary.md").read_text()
    assert MARKER in summary
    everything = summary + report + "".join(run.output for run in steps.values())
    assert KEY not in everything


def test_check_workflow_without_the_secret_runs_only_validate(
    server: EmulatorServer, project: Path, tmp_path: Path
) -> None:
    steps = _check_job(server, project, tmp_path, "", "HEAD")
    assert {name: run.code for name, run in steps.items() if run.code is not None} == {
        "Validate": 0,
        "API key": 0,
    }
    assert not any(steps[name].ran for name in ("Plan", "Check", "Comment on the pull request"))
    assert "only validate ran" in steps["API key"].output
    assert "pull requests from forks get no secrets" in (tmp_path / "summary.md").read_text()
    assert server.emulator.request_log == []


def test_closing_the_pull_request_archives_its_branches(
    cli: Runner, server: EmulatorServer, project: Path, tmp_path: Path
) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    base = git.Repo(project).head.commit.hexsha
    commit(
        project,
        {"agents/support/prompt.md": PROJECT_FILES["agents/support/prompt.md"] + "Be kind.\n"},
        "kind",
    )
    assert _check_job(server, project, tmp_path, KEY, base)["Check"].code == 0
    workflow = load_workflow(WORKFLOWS / "convai-ops-check.yml")
    assert workflow["jobs"]["check"]["if"] == "github.event.action != 'closed'"
    assert workflow["jobs"]["close"]["if"] == "github.event.action == 'closed'"
    assert "closed" in workflow["on"]["pull_request"]["types"]
    env = _base_env(tmp_path, ELEVENLABS_BASE_URL=server.url, GITHUB_REF="refs/pull/9/merge")
    runs = run_job(
        workflow,
        "close",
        cwd=project,
        base_env=env,
        expressions={"secrets.ELEVENLABS_API_KEY": KEY},
        skip=_is_install,
    )
    steps = _by_name(runs)
    archive = steps["Archive the pull request's agent branches"]
    assert archive.code == 0, archive.output
    assert "Close: 1 branch(es) archived, 0 kept." in archive.output
    support = next(
        a["agent_id"]
        for a in httpx.get(f"{server.url}/v1/convai/agents", headers={"xi-api-key": KEY}).json()[
            "agents"
        ]
        if "convai-ops:support" in a["tags"]
    )
    branches = httpx.get(
        f"{server.url}/v1/convai/agents/{support}/branches",
        params={"include_archived": True},
        headers={"xi-api-key": KEY},
    ).json()["results"]
    assert [b["is_archived"] for b in branches if b["name"] == "convai-ops-pr-9"] == [True]


NODE = shutil.which("node")
HARNESS = """
const fs = require('fs');
const script = fs.readFileSync(process.argv[2], 'utf8');
const existing = JSON.parse(process.argv[3]);
const calls = [];
const github = {
  paginate: async (method, params) => existing,
  rest: { issues: {
    listComments: {},
    createComment: async (p) => { calls.push(['create', p.issue_number, p.body]); },
    updateComment: async (p) => { calls.push(['update', p.comment_id, p.body]); },
  } },
};
const context = { repo: { owner: 'o', repo: 'r' }, issue: { number: 9 },
                  serverUrl: 'https://github.example', runId: 4 };
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
new AsyncFunction('require', 'github', 'context', script)(require, github, context)
  .then(() => console.log(JSON.stringify(calls)));
"""


def _comment_script() -> str:
    steps = load_workflow(WORKFLOWS / "convai-ops-check.yml")["jobs"]["check"]["steps"]
    [step] = [s for s in steps if s.get("name") == "Comment on the pull request"]
    return str(step["with"]["script"])


@pytest.mark.skipif(NODE is None, reason="node is not installed")
@pytest.mark.parametrize(
    ("report", "existing", "expected"),
    [
        (True, [], ["create", 9]),
        (
            True,
            [
                {"id": 5, "user": {"type": "User"}, "body": f"quoting {MARKER}"},
                {"id": 6, "user": {"type": "Bot"}, "body": f"{MARKER}\nold report"},
            ],
            ["update", 6],
        ),
        (False, [], ["create", 9]),
    ],
)
def test_comment_script_keeps_one_sticky_comment(
    tmp_path: Path, report: bool, existing: list[dict[str, Any]], expected: list[Any]
) -> None:
    (tmp_path / "script.js").write_text(_comment_script())
    (tmp_path / "harness.js").write_text(HARNESS)
    if report:
        (tmp_path / "convai-ops-check.md").write_text(f"{MARKER}\n## the report\n")
    command = [str(NODE), "harness.js", "script.js", json.dumps(existing)]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    [call] = json.loads(done.stdout)
    assert call[:2] == expected
    assert call[2].startswith(MARKER)
    assert "## the report" in call[2] if report else "stopped before writing" in call[2]
    assert call[2].endswith("[Job log](https://github.example/o/r/actions/runs/4)\n")


def test_promote_workflow_applies_staging_then_production(
    environments: Environments, project: Path, tmp_path: Path
) -> None:
    workflow = load_workflow(WORKFLOWS / "convai-ops-promote.yml")
    assert workflow["jobs"]["production"]["needs"] == "staging"
    assert workflow["concurrency"]["cancel-in-progress"] is False
    expressions = {
        "secrets.ELEVENLABS_API_KEY": STAGING_KEY,
        "secrets.ELEVENLABS_API_KEY_PRODUCTION": PRODUCTION_KEY,
    }
    env = _base_env(tmp_path)
    for job in ("staging", "production"):
        runs = run_job(
            workflow, job, cwd=project, base_env=env, expressions=expressions, skip=_is_install
        )
        ran = [run for run in runs if run.code is not None]
        assert ran and all(run.code == 0 for run in ran), [r.output for r in ran]
    code, out, _ = environments.cli("plan", "--env", "production", "--detailed-exitcode")
    assert code == 0, out


@pytest.mark.parametrize("environment", ["staging", "production"])
@pytest.mark.parametrize("status", [0, 1, 2])
def test_drift_job_fails_on_drift_and_on_errors(
    tmp_path: Path, status: int, environment: str
) -> None:
    fake = tmp_path / "bin" / "convai-ops"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho "convai-ops $*"\nexit {status}\n')
    fake.chmod(0o755)
    workflow = load_workflow(WORKFLOWS / "convai-ops-promote.yml")
    assert workflow["on"]["schedule"]
    env = _base_env(tmp_path)
    env["PATH"] = f"{fake.parent}{os.pathsep}{env['PATH']}"
    expressions = {
        "secrets.ELEVENLABS_API_KEY": STAGING_KEY,
        "secrets.ELEVENLABS_API_KEY_PRODUCTION": PRODUCTION_KEY,
    }
    job = f"drift-{environment}"
    runs = run_job(
        workflow, job, cwd=tmp_path, base_env=env, expressions=expressions, skip=_is_install
    )
    [drift] = [run for run in runs if run.code is not None]
    assert drift.code == status
    assert f"convai-ops drift --env {environment}" in drift.output
    assert ("::error title=convai-ops drift::" in drift.output) == (status == 2)


def test_ci_workflow_runs_the_project_checks_on_each_python() -> None:
    job = load_workflow(WORKFLOWS / "ci.yml")["jobs"]["checks"]
    assert job["strategy"]["matrix"]["python-version"] == ["3.11", "3.12", "3.13"]
    commands = [str(step.get("run", "")) for step in job["steps"]]
    for expected in ("ruff format --check", "ruff check", "mypy convai_ops", "pytest"):
        assert any(command.startswith(expected) for command in commands), expected


def test_run_scripts_never_interpolate_expressions() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        for job in load_workflow(path)["jobs"].values():
            for step in job["steps"]:
                assert "${{" not in str(step.get("run", "")), (path.name, step)
    for step in load_workflow(ACTION)["runs"]["steps"]:
        assert "${{" not in str(step.get("run", "")), ("action.yml", step)


_SECRET = re.compile(r"secrets\.([A-Za-z_][A-Za-z0-9_]*)")
PRODUCTION_SECRET = "ELEVENLABS_API_KEY_PRODUCTION"
# What each job may read: the secrets it needs and the GITHUB_TOKEN permissions it has.
JOB_RIGHTS: dict[tuple[str, str], tuple[set[str], dict[str, str]]] = {
    ("ci.yml", "checks"): (set(), {"contents": "read"}),
    ("convai-ops-check.yml", "check"): (
        {"ELEVENLABS_API_KEY"},
        {"contents": "read", "pull-requests": "write"},
    ),
    ("convai-ops-check.yml", "close"): ({"ELEVENLABS_API_KEY"}, {"contents": "read"}),
    ("convai-ops-promote.yml", "staging"): ({"ELEVENLABS_API_KEY"}, {"contents": "read"}),
    ("convai-ops-promote.yml", "production"): (
        {"ELEVENLABS_API_KEY", PRODUCTION_SECRET},
        {"contents": "read"},
    ),
    ("convai-ops-promote.yml", "drift-staging"): ({"ELEVENLABS_API_KEY"}, {"contents": "read"}),
    ("convai-ops-promote.yml", "drift-production"): ({PRODUCTION_SECRET}, {"contents": "read"}),
    ("convai-ops-promote.yml", "canary"): ({PRODUCTION_SECRET}, {"contents": "read"}),
}


def _jobs() -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (path.name, name): job
        for path in sorted(WORKFLOWS.glob("*.yml"))
        for name, job in load_workflow(path)["jobs"].items()
    }


def _secrets(node: Any) -> set[str]:
    return set(_SECRET.findall(json.dumps(node)))


def test_production_secret_only_in_jobs_bound_to_production() -> None:
    jobs = _jobs()
    readers = {key for key, job in jobs.items() if PRODUCTION_SECRET in _secrets(job)}
    assert readers == {
        ("convai-ops-promote.yml", "production"),
        ("convai-ops-promote.yml", "drift-production"),
        ("convai-ops-promote.yml", "canary"),
    }
    for key in readers:
        assert jobs[key].get("environment") == "production", key


def test_each_job_gets_only_the_secrets_and_permissions_it_needs() -> None:
    jobs = _jobs()
    assert set(jobs) == set(JOB_RIGHTS)
    for path in WORKFLOWS.glob("*.yml"):
        workflow = load_workflow(path)
        assert workflow["permissions"] == {}, path.name
        assert not _secrets(workflow.get("env")), path.name
    for key, job in jobs.items():
        secrets, permissions = JOB_RIGHTS[key]
        assert (_secrets(job), job.get("permissions")) == (secrets, permissions), key


def test_secrets_reach_only_steps_that_run_convai_ops() -> None:
    for key, job in _jobs().items():
        assert not _secrets(job.get("env")), key
        for step in job["steps"]:
            if _secrets(step) and "uses" in step:
                assert step["uses"] == "./", (key, step)  # this repository's action
                assert _secrets(step) == _secrets(step["with"]["api-keys"]), (key, step)
                assert not _secrets(step.get("env")), (key, step)
            elif _secrets(step):
                assert "convai-ops" in str(step["run"]), (key, step)


def test_the_action_sets_api_keys_only_in_the_step_that_runs_convai_ops() -> None:
    steps = load_workflow(ACTION)["runs"]["steps"]
    readers = [s for s in steps if "inputs.api-keys" in json.dumps(s)]
    assert [s.get("id") for s in readers] == ["run"]
    [run] = readers
    assert "uses" not in run and 'convai-ops "${args[@]}"' in run["run"]
    assert "unset API_KEYS" in run["run"]


def test_pre_commit_hook_runs_validate(project: Path, tmp_path: Path) -> None:
    [hook] = YAML(typ="safe").load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert (hook["id"], hook["entry"], hook["language"]) == (
        "convai-ops-validate",
        "convai-ops validate",
        "python",
    )
    assert hook["pass_filenames"] is False
    files = re.compile(hook["files"])
    assert files.search("agents/support/prompt.md") and files.search("convai-ops.yaml")
    assert not files.search("README.md")
    env = _base_env(tmp_path)
    done = subprocess.run(
        hook["entry"].split(), cwd=project, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "OK: 3 agent(s)" in done.stdout
    (project / "agents" / "sales" / "agent.yaml").write_text("name: [unclosed\n")
    broken = subprocess.run(
        hook["entry"].split(), cwd=project, env=env, capture_output=True, text=True, timeout=60
    )
    assert broken.returncode == 1
    assert "agent.yaml" in broken.stderr
