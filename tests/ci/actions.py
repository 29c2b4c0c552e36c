"""A small runner of a GitHub Actions job's ``run:`` steps, for testing the workflows' commands.

It runs each ``run:`` step in order with ``bash --noprofile --norc -eo pipefail`` (what
``shell: bash`` means on GitHub), with the workflow's, job's and step's ``env`` and
``GITHUB_OUTPUT`` / ``GITHUB_STEP_SUMMARY`` files. ``${{ ... }}`` in an ``env`` value is looked
up in the expressions the test supplies; ``if:`` conditions must be among :data:`CONDITIONS`.
Either being unknown fails the test, so the workflow cannot grow past what is tested. ``uses:``
steps are not run (the runner records whether their condition held), except this repository's
composite action (``action.yml``, as ``uses: ./`` or at the names given in ``local_actions``):
its ``run:`` steps run in order with its inputs (``with:`` over the defaults), and the step
reports the last one's exit code and everyone's output under the calling step's name.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
ACTION = Path(__file__).resolve().parents[2] / "action.yml"
"""This repository's composite action."""


@dataclass
class JobState:
    """Outputs per step id, and whether a step has failed."""

    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    failed: bool = False

    def output(self, step: str, name: str) -> str:
        return self.outputs.get(step, {}).get(name, "")


CONDITIONS: dict[str, Callable[[JobState], bool]] = {
    "": lambda s: not s.failed,
    "steps.key.outputs.present == 'true'": lambda s: (
        not s.failed and s.output("key", "present") == "true"
    ),
    "!cancelled() && steps.key.outputs.present == 'true'": lambda s: (
        s.output("key", "present") == "true"
    ),
}


@dataclass(frozen=True)
class StepRun:
    """One step: ``ran`` (its condition held), the exit code of a ``run:`` step (None for a
    ``uses:`` step or one that did not run) and its output."""

    name: str
    ran: bool
    code: int | None = None
    output: str = ""


def load_workflow(path: Path) -> dict[str, Any]:
    """The workflow at ``path`` as plain dicts and lists."""
    data: dict[str, Any] = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    return data


def step_name(step: Mapping[str, Any]) -> str:
    """A step's ``name``, else its ``uses``, else its command."""
    return str(step.get("name") or step.get("uses") or step.get("run"))


def condition(raw: Any) -> str:
    """An ``if:`` value without its ``${{ }}`` wrapper."""
    text = str(raw or "").strip()
    match = _EXPRESSION.fullmatch(text)
    return match[1] if match else text


def _resolve(value: Any, expressions: Mapping[str, str]) -> str:
    def lookup(match: re.Match[str]) -> str:
        if match[1] not in expressions:
            raise AssertionError(f"the test does not know the expression ${{{{ {match[1]} }}}}")
        return expressions[match[1]]

    return _EXPRESSION.sub(lookup, str(value))


def _env(layers: list[Mapping[str, Any] | None], expressions: Mapping[str, str]) -> dict[str, str]:
    merged = {k: v for layer in layers for k, v in (layer or {}).items()}
    return {k: _resolve(v, expressions) for k, v in merged.items()}


def _read_outputs(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return dict(line.split("=", 1) for line in lines if "=" in line)


def run_job(
    workflow: Mapping[str, Any],
    job: str,
    *,
    cwd: Path,
    base_env: Mapping[str, str],
    expressions: Mapping[str, str],
    skip: Callable[[Mapping[str, Any]], bool],
    local_actions: Mapping[str, Path] | None = None,
) -> list[StepRun]:
    """Run ``job``'s ``run:`` steps in ``cwd`` (``skip`` leaves out e.g. the install step);
    the job's own ``if:`` is the caller's choice. ``local_actions`` maps a ``uses:`` value to
    the action.yml run in its place (``./`` is always this repository's)."""
    spec = workflow["jobs"][job]
    actions = {"./": ACTION, **(local_actions or {})}
    state, runs = JobState(), []
    for index, step in enumerate(spec["steps"]):
        test = condition(step.get("if"))
        if test not in CONDITIONS:
            raise AssertionError(f"the test does not know the condition {test!r}")
        action = actions.get(str(step.get("uses")))
        if not CONDITIONS[test](state) or (step.get("uses") and not action) or skip(step):
            runs.append(StepRun(step_name(step), CONDITIONS[test](state)))
            continue
        env = {
            **base_env,
            **_env([workflow.get("env"), spec.get("env"), step.get("env")], expressions),
        }
        if action is None:
            runs.append(_run_step(step, str(index), cwd, env, state))
        else:
            inputs = _inputs(action, step.get("with"), expressions)
            runs.append(_run_action(step, action, inputs, str(index), cwd, env, state, skip))
    return runs


def _inputs(
    action: Path, given: Mapping[str, Any] | None, expressions: Mapping[str, str]
) -> dict[str, str]:
    """The action's inputs as its steps see them: ``given`` (resolved) over the defaults."""
    declared = load_workflow(action)["inputs"]
    unknown = set(given or {}) - set(declared)
    if unknown:
        raise AssertionError(f"inputs not declared by {action.name}: {sorted(unknown)}")
    inputs = {name: str(spec.get("default", "")) for name, spec in declared.items()}
    inputs.update({name: _resolve(value, expressions) for name, value in (given or {}).items()})
    missing = [n for n, spec in declared.items() if spec.get("required") and n not in (given or {})]
    if missing:
        raise AssertionError(f"required inputs not given: {missing}")
    return inputs


def _run_action(
    step: Mapping[str, Any],
    action: Path,
    inputs: Mapping[str, str],
    index: str,
    cwd: Path,
    env: dict[str, str],
    state: JobState,
    skip: Callable[[Mapping[str, Any]], bool],
) -> StepRun:
    """Run the composite action's ``run:`` steps (not its ``uses:`` ones) as one step."""
    context = {f"inputs.{name}": value for name, value in inputs.items()}
    code, output = 0, ""
    for number, inner in enumerate(load_workflow(action)["runs"]["steps"]):
        if "uses" in inner or skip(inner):
            continue
        inner_env = {**env, **_env([inner.get("env")], context)}
        done = _run_step(inner, f"{index}-{number}", cwd, inner_env, state)
        code, output = done.code or 0, output + done.output
        if code:
            break
    return StepRun(step_name(step), True, code, output)


def _run_step(
    step: Mapping[str, Any], index: str, cwd: Path, env: dict[str, str], state: JobState
) -> StepRun:
    outputs = cwd.parent / f"github-output-{index}"
    script = cwd.parent / f"step-{index}.sh"
    script.write_text(str(step["run"]), encoding="utf-8")
    command = ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)]
    done = subprocess.run(
        command,
        cwd=cwd,
        env={**env, "GITHUB_OUTPUT": str(outputs)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if "id" in step:
        state.outputs[step["id"]] = _read_outputs(outputs)
    state.failed = state.failed or done.returncode != 0
    return StepRun(step_name(step), True, done.returncode, done.stdout + done.stderr)
