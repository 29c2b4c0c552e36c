"""The workflows ``init`` writes: actionlint passes (with the action's inputs checked), each job
reads only the keys it needs, and their jobs run end to end against the emulator through the
action (``tests/ci/actions.py`` runs its steps)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import git
import httpx
import pytest

from convai_ops import __version__
from convai_ops.emulator import EmulatorServer
from convai_ops.init import ACTION_REPOSITORY, Environment, project_files
from tests.ci.actions import ACTION, StepRun, load_workflow, run_job
from tests.helpers import Runner
from tests.init.conftest import KEY, create_agent

BIN = Path(sys.executable).parent
USES = f"{ACTION_REPOSITORY}@v{__version__}"
CHAINS = [["default"], ["staging", "production"], ["dev", "staging", "eu.production"]]
_SECRET = re.compile(r"secrets\.([A-Za-z_][A-Za-z0-9_]*)")


def _write(root: Path, names: list[str]) -> dict[str, dict[str, Any]]:
    """Write init's files for ``names`` under ``root``; each workflow by file name."""
    for relative, text in project_files([Environment(n) for n in names]).items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
    folder = root / ".github" / "workflows"
    return {p.name: load_workflow(p) for p in sorted(folder.glob("*.yml"))}


def _key(index: int, name: str) -> str:
    return "ELEVENLABS_API_KEY" + ("" if index == 0 else "_" + re.sub(r"\W", "_", name.upper()))


def _secrets(node: Any) -> set[str]:
    return set(_SECRET.findall(json.dumps(node)))


@pytest.mark.parametrize("names", CHAINS, ids=["+".join(c) for c in CHAINS])
def test_generated_workflows_pass_actionlint_with_the_action_inputs_checked(
    tmp_path: Path, names: list[str]
) -> None:
    _write(tmp_path, names)
    binary = shutil.which("actionlint", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if binary is None:
        pytest.skip("actionlint is not installed: pip install -e '.[dev]'")
    workflows = sorted((tmp_path / ".github" / "workflows").glob("*.yml"))
    assert [p.name for p in workflows] == [
        "convai-ops-check.yml",
        "convai-ops-drift.yml",
        "convai-ops-promote.yml",
    ]
    for path in workflows:  # the local copy of the action lets actionlint check its inputs
        path.write_text(path.read_text().replace(f"uses: {USES}", "uses: ./"))
    shutil.copy2(ACTION, tmp_path / "action.yml")
    command = [binary, "-no-color", *map(str, workflows)]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def _rights(names: list[str]) -> dict[tuple[str, str], tuple[set[str], str | None]]:
    """What each job may read: its secrets and the GitHub environment it is bound to."""
    keys = [_key(i, n) for i, n in enumerate(names)]
    jobs = {
        ("convai-ops-check.yml", "check"): ({keys[0]}, None),
        ("convai-ops-check.yml", "close"): ({keys[0]}, None),
        ("convai-ops-promote.yml", f"apply-{names[0]}"): ({keys[0]}, names[0]),
    }
    for i, name in enumerate(names):
        job = name.replace(".", "-")
        jobs["convai-ops-drift.yml", f"drift-{job}"] = ({keys[i]}, name if i else None)
        if i:
            jobs["convai-ops-promote.yml", f"promote-{job}"] = ({keys[i - 1], keys[i]}, name)
    return jobs


@pytest.mark.parametrize("names", CHAINS, ids=["+".join(c) for c in CHAINS])
def test_each_generated_job_reads_only_the_keys_it_needs(tmp_path: Path, names: list[str]) -> None:
    workflows = _write(tmp_path, names)
    jobs = {(f, name): job for f, w in workflows.items() for name, job in w["jobs"].items()}
    assert {k: (_secrets(j), j.get("environment")) for k, j in jobs.items()} == _rights(names)
    for file, workflow in workflows.items():
        assert workflow["permissions"] == {}, file
        assert not _secrets(workflow.get("env")), file
    for key, job in jobs.items():
        assert "contents" in job["permissions"] and not _secrets(job.get("env")), key
        for step in job["steps"]:
            assert "${{" not in str(step.get("run", "")), (key, step)
            if "uses" in step and _secrets(step):
                assert step["uses"] == USES, (key, step)
                assert _secrets(step) == _secrets(step["with"]["api-keys"]), (key, step)
            elif _secrets(step):
                assert step["name"] == "API key" and "exit 0" in step["run"], (key, step)


def test_promotion_jobs_follow_the_environments_in_order(tmp_path: Path) -> None:
    promote = _write(tmp_path, CHAINS[2])["convai-ops-promote.yml"]["jobs"]
    assert list(promote) == ["apply-dev", "promote-staging", "promote-eu-production"]
    assert promote["promote-staging"]["needs"] == "apply-dev"
    assert promote["promote-eu-production"]["needs"] == "promote-staging"
    [step] = [s for s in promote["promote-eu-production"]["steps"] if "with" in s]
    assert step["with"]["command"] == "promote --from staging --to eu.production --auto-approve"


# -- the generated jobs, run -----------------------------------------------------------------


def _run(workflow: Path, job: str, project: Path, tmp_path: Path, **extra: str) -> list[StepRun]:
    env = {
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "CONVAI_OPS_POLL_INTERVAL": "0.05",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
    }
    return run_job(
        load_workflow(workflow),
        job,
        cwd=project,
        base_env=env,
        expressions={"secrets.ELEVENLABS_API_KEY": KEY, **extra},
        skip=lambda step: "pip install" in str(step.get("run", "")),
        local_actions={USES: ACTION},
    )


def _codes(runs: list[StepRun]) -> dict[str, int | None]:
    return {run.name: run.code for run in runs if run.ran}


def _adopted(cli: Runner, api: httpx.Client, folder: Path, server: EmulatorServer) -> git.Repo:
    """init against the emulator, two agents imported, all committed on main."""
    create_agent(api, "Support")
    create_agent(api, "Sales")
    assert cli("init", "--env", f"staging={server.url}")[0] == 0
    assert cli("import", "--all")[0] == 0
    project_file = folder / "convai-ops.yaml"  # imported agents have no tests; not the gate here
    project_file.write_text(project_file.read_text() + "require_tests: false\n")
    repo = git.Repo.init(folder, initial_branch="main")
    with repo.config_writer() as config:
        config.set_value("user", "name", "Test")
        config.set_value("user", "email", "test@example.com")
    repo.git.add(A=True)
    repo.index.commit("convai-ops init and import --all")
    return repo


def test_generated_promote_and_drift_jobs_run_through_the_action(
    cli: Runner,
    api: httpx.Client,
    folder: Path,
    server: EmulatorServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ELEVENLABS_BASE_URL")
    repo = _adopted(cli, api, folder, server)
    workflows = folder / ".github" / "workflows"
    drift = _run(workflows / "convai-ops-drift.yml", "drift-staging", folder, tmp_path)
    assert _codes(drift) == {"actions/checkout@v4": None, "Drift in staging": 0}

    agent = load_workflow(folder / "agents" / "support" / "agent.yaml")
    agent_id = agent["environments"]["staging"]
    api.patch(f"/v1/convai/agents/{agent_id}", json={"name": "Edited on the dashboard"})
    [_, step] = _run(workflows / "convai-ops-drift.yml", "drift-staging", folder, tmp_path)
    assert step.code == 2
    assert "::error title=convai-ops drift::the live agents in staging differ" in step.output

    prompt = folder / "agents" / "sales" / "prompt.md"
    prompt.write_text("You sell tents, politely.\n")
    repo.git.add(A=True)
    repo.index.commit("a politer sales agent")
    promote = _run(workflows / "convai-ops-promote.yml", "apply-staging", folder, tmp_path)
    codes = _codes(promote)
    assert codes == {"actions/checkout@v4": None, "Validate": 0, "Apply to staging": 0}, [
        r.output for r in promote
    ]
    assert KEY not in "".join(r.output for r in promote)
    code, out, _ = cli("plan", "--detailed-exitcode", "--target", "sales")
    assert code == 0, out


def test_generated_check_job_runs_through_the_action(
    cli: Runner,
    api: httpx.Client,
    folder: Path,
    server: EmulatorServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ELEVENLABS_BASE_URL")
    repo = _adopted(cli, api, folder, server)
    base = repo.head.commit.hexsha
    (folder / "agents" / "sales" / "prompt.md").write_text("You sell tents, politely.\n")
    repo.git.add(A=True)
    repo.index.commit("a politer sales agent")
    workflow = folder / ".github" / "workflows" / "convai-ops-check.yml"
    extra = {"github.event.pull_request.base.sha": base}
    runs = _run(workflow, "check", folder, tmp_path, **extra)
    codes = _codes(runs)
    assert {k: codes[k] for k in ("Validate", "API key", "Plan")} == {
        "Validate": 0,
        "API key": 0,
        "Plan": 0,
    }, [r.output for r in runs]
    assert codes["Check"] is not None and codes["Check"] != 1, [r.output for r in runs]
    assert (folder / "convai-ops-check.md").is_file()
    assert KEY not in "".join(r.output for r in runs)
