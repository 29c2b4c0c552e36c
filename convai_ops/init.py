"""``convai-ops init``: the files a new repository of agents starts with.

:func:`project_files` gives each file's text (no I/O beyond reading the package's templates,
``convai_ops/templates/``); :func:`init_project` writes them, never over an existing file unless
``force``. The files:

- ``convai-ops.yaml``: the named environments (base URL when not the default, ``api_key_env``:
  ``ELEVENLABS_API_KEY`` for the first, ``ELEVENLABS_API_KEY_<NAME>`` for the others);
- ``agents/.gitkeep``, ``tools/.gitkeep``;
- ``.github/workflows/convai-ops-check.yml`` (pull requests, against the first environment),
  ``convai-ops-promote.yml`` (after a merge: apply to the first, then promote along the others)
  and ``convai-ops-drift.yml`` (daily drift of each environment), all calling the convai-ops
  action (``action.yml`` of :data:`ACTION_REPOSITORY`) at this version;
- ``.pre-commit-config.yaml`` (this repository's ``convai-ops-validate`` hook) and ``.gitignore``.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from convai_ops import __version__
from convai_ops.errors import SpecError, UsageError
from convai_ops.settings import DEFAULT_BASE_URL, DEFAULT_ENVIRONMENT, DEFAULT_KEY_ENV

__all__ = [
    "ACTION_REPOSITORY",
    "Environment",
    "InitResult",
    "check_environments",
    "init_project",
    "parse_environment",
    "project_files",
]

ACTION_REPOSITORY = "convai-ops/convai-ops"
"""This project's GitHub ``owner/repo``: where the action (``action.yml``) and the pre-commit
hook live. A placeholder until the project's repository is published: the one place to change."""

WORKFLOWS = ".github/workflows"
_PLACEHOLDER = re.compile(r"__[A-Z_]+__")


@dataclass(frozen=True)
class Environment:
    """One environment for convai-ops.yaml: its name and base URL (None: the default one)."""

    name: str
    base_url: str | None = None


@dataclass(frozen=True)
class InitResult:
    """What :func:`init_project` did: files written and files left as they were (relative)."""

    written: tuple[str, ...]
    skipped: tuple[str, ...]


def parse_environment(text: str) -> Environment:
    """``NAME=URL`` or ``NAME`` (the default base URL) as an :class:`Environment`.

    Raises ``UsageError`` for an empty name or URL; :func:`check_environments` checks the rest.
    """
    name, _, url = text.partition("=")
    if not name.strip() or ("=" in text and not url.strip()):
        raise UsageError(f"--env {text!r}: expected NAME=URL (e.g. staging=https://...) or NAME")
    return Environment(name.strip(), url.strip() or None)


def check_environments(environments: Sequence[Environment]) -> None:
    """Check names and base URLs by the rules ``validate`` applies to convai-ops.yaml (the
    file is built and loaded in a temporary folder); names must be unique and give distinct
    key variables. Raises ``UsageError`` naming the field."""
    from convai_ops.spec import load_config

    if not environments:
        raise UsageError("at least one environment is needed")
    names = [env.name for env in environments]
    for name in names:
        if names.count(name) > 1:
            raise UsageError(f"environment {name!r} is given twice")
    keys = [key_variable(index, env.name) for index, env in enumerate(environments)]
    if len(set(keys)) < len(keys):
        raise UsageError(f"environment names {names} give the same key variable twice")
    if len({_job_id("", name) for name in names}) < len(names):
        raise UsageError(f"environment names {names} give the same job name twice")
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "convai-ops.yaml").write_text(config_text(environments), "utf-8")
        try:
            load_config(Path(folder))
        except SpecError as exc:
            raise UsageError(f"--env: {exc.field}: {exc.reason}") from None


def key_variable(index: int, name: str) -> str:
    """The variable (and GitHub secret) holding the API key of the ``index``-th environment:
    ``ELEVENLABS_API_KEY`` for the first, ``ELEVENLABS_API_KEY_<NAME>`` for the others."""
    if index == 0:
        return DEFAULT_KEY_ENV
    return f"{DEFAULT_KEY_ENV}_{re.sub(r'[^A-Z0-9]', '_', name.upper())}"


def config_text(environments: Sequence[Environment]) -> str:
    """convai-ops.yaml for ``environments`` (the first is the default), with comments."""
    lines = [
        "# yaml-language-server: $schema=.convai-ops/schema/project.schema.json",
        "# convai-ops project settings (`convai-ops init`). Every key is optional.",
        "version: 1",
        f"default_environment: {environments[0].name}",
        "environments:",
    ]
    for index, env in enumerate(environments):
        lines.append(f"  {env.name}:")
        if env.base_url:
            lines.append(f'    base_url: "{env.base_url}"')
        key = key_variable(index, env.name)
        lines.append(f"    api_key_env: {key} # the variable (and CI secret) holding its key")
    return "\n".join(lines) + "\n"


def project_files(environments: Sequence[Environment]) -> dict[str, str]:
    """Every file ``init`` writes: relative path -> text (see the module docstring)."""
    action = f"{ACTION_REPOSITORY}@v{__version__}"
    keyed = [(env.name, key_variable(i, env.name)) for i, env in enumerate(environments)]
    files = {
        "convai-ops.yaml": config_text(environments),
        "agents/.gitkeep": "",
        "tools/.gitkeep": "",
        ".gitignore": _template("gitignore"),
        ".pre-commit-config.yaml": _fill(
            _template("pre-commit-config.yaml"),
            REPOSITORY_URL=f"https://github.com/{ACTION_REPOSITORY}",
            VERSION=__version__,
        ),
    }
    first, key = keyed[0]
    check = _fill(_template("workflows/convai-ops-check.yml"), ACTION=action, ENV=first, KEY=key)
    files[f"{WORKFLOWS}/convai-ops-check.yml"] = check
    files[f"{WORKFLOWS}/convai-ops-promote.yml"] = _promote_workflow(keyed, action)
    files[f"{WORKFLOWS}/convai-ops-drift.yml"] = _drift_workflow(keyed, action)
    return files


def _promote_workflow(keyed: Sequence[tuple[str, str]], action: str) -> str:
    (first, first_key), later = keyed[0], keyed[1:]
    text = _fill(
        _template("workflows/convai-ops-promote.yml"),
        FIRST=first,
        FIRST_KEY=first_key,
        CHAIN=" -> ".join(name for name, _ in keyed),
        KEYS=", ".join(key for _, key in keyed),
    )
    jobs = [
        _fill(
            _template("workflows/apply-job.part"),
            JOB=_job_id("apply", first),
            ENV=first,
            KEY=first_key,
            ACTION=action,
        )
    ]
    for (source, source_key), (name, key) in zip(keyed, later, strict=False):
        values = {"SOURCE": source, "SOURCE_KEY": source_key, "ENV": name, "KEY": key}
        needs = _job_id("apply" if source == first else "promote", source)
        job = _job_id("promote", name)
        jobs.append(
            _fill(
                _template("workflows/promote-job.part"),
                JOB=job,
                NEEDS=needs,
                ACTION=action,
                **values,
            )
        )
    return text + "\n".join(jobs)


def _drift_workflow(keyed: Sequence[tuple[str, str]], action: str) -> str:
    jobs = []
    for index, (name, key) in enumerate(keyed):
        binding = f"    environment: {name}\n" if index else ""
        piece = _template("workflows/drift-job.part").replace("__BINDING__", binding)
        jobs.append(_fill(piece, JOB=_job_id("drift", name), ENV=name, KEY=key, ACTION=action))
    return _template("workflows/convai-ops-drift.yml") + "\n".join(jobs)


def _job_id(prefix: str, name: str) -> str:
    return f"{prefix}-{re.sub(r'[^A-Za-z0-9_-]', '-', name)}"


def _template(name: str) -> str:
    return (resources.files("convai_ops") / "templates" / name).read_text("utf-8")


def _fill(text: str, **values: str) -> str:
    """``text`` with each ``__NAME__`` replaced by ``values[NAME]``; all must be given."""
    for name, value in values.items():
        text = text.replace(f"__{name}__", value)
    left = _PLACEHOLDER.findall(text)
    if left:
        raise ValueError(f"template placeholders not filled: {sorted(set(left))}")
    return text


def init_project(
    directory: Path, environments: Sequence[Environment], *, force: bool = False
) -> InitResult:
    """Write :func:`project_files` under ``directory`` (created if needed). An existing file is
    left as it is and listed in ``skipped``, unless ``force`` (then it is overwritten).

    Raises ``UsageError`` for bad environments (:func:`check_environments`) before writing.
    """
    check_environments(environments)
    written: list[str] = []
    skipped: list[str] = []
    for relative, text in project_files(environments).items():
        path = directory / relative
        if path.exists() and not force:
            skipped.append(relative)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(relative)
    return InitResult(tuple(written), tuple(skipped))


def default_environments() -> list[Environment]:
    """The environments when none are given and there is no terminal to ask: one, named
    ``default``, at the default base URL."""
    return [Environment(DEFAULT_ENVIRONMENT)]


def described(environments: Sequence[Environment]) -> Mapping[str, str]:
    """Environment name -> its base URL as shown to the user."""
    return {env.name: env.base_url or DEFAULT_BASE_URL for env in environments}
