"""Every environment's plan for the pull-request check: what the merge will change in each
environment of ``convai-ops.yaml``.

- The check's own environment: the live plan the check made (and staged and tested).
- Another environment whose API key the run holds (its ``api_key_env`` variable is set): its
  live plan (``plan.build_plan``: ``GET /v1/convai/agents`` and one ``GET
  /v1/convai/agents/{id}`` per agent, plus the list calls it needs; read only).
- Another environment without its key: the offline plan (:mod:`convai_ops.offline_plan`), the
  config rendered for that environment (its ``overrides``) at the base commit against the head,
  labelled ``offline: base <sha> -> head <sha>, no key for <env>``.

The base commit (:func:`find_base`): ``--base REF``; else ``--changed-since REF`` (what the
check's workflow passes: the pull request's base sha); else the merge-base of ``HEAD`` with
``origin/$GITHUB_BASE_REF`` (GitHub sets it in pull requests), else with ``origin/main`` or
``main``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from convai_ops.errors import ConvaiOpsError
from convai_ops.git import commit_info, merge_base, resolve_commit

if TYPE_CHECKING:
    from convai_ops.offline_plan import OfflinePlan
    from convai_ops.plan import Plan
    from convai_ops.settings import Settings
    from convai_ops.spec import Project

__all__ = ["BaseCommit", "EnvironmentPlan", "PlanKind", "environment_plans", "find_base"]

PlanKind = Literal["live", "offline", "unavailable", "error"]


@dataclass(frozen=True)
class BaseCommit:
    """The commit a pull request merges into: full ``sha`` and how it was found."""

    sha: str
    source: str


@dataclass(frozen=True)
class EnvironmentPlan:
    """What the merge changes in one ``environment``: ``kind`` live (``plan`` read from the
    API), offline (``plan`` between commits, ``removed`` slugs), unavailable (no key and no
    base commit, or the base does not load) or error (the live plan failed); ``label`` says
    which in words; ``checked`` marks the check's own environment (staged and tested there)."""

    environment: str
    kind: PlanKind
    label: str
    plan: Plan | None = None
    removed: tuple[str, ...] = ()
    checked: bool = False

    @property
    def has_changes(self) -> bool:
        """True when the plan creates or updates an agent, or an agent's folder is removed."""
        return bool(self.removed) or bool(self.plan and self.plan.has_changes)


def find_base(
    root: Path, explicit: str | None, since: str | None, environ: Mapping[str, str]
) -> BaseCommit | None:
    """The base commit (see the module docstring); ``None`` when none is found. Raises
    ``UsageError`` when ``explicit`` or ``since`` names no commit."""
    if explicit:
        return BaseCommit(resolve_commit(root, explicit), f"--base {explicit}")
    if since:
        return BaseCommit(resolve_commit(root, since), f"--changed-since {since}")
    target = environ.get("GITHUB_BASE_REF")
    for ref in [f"origin/{target}", target] if target else ["origin/main", "main"]:
        sha = merge_base(root, ref)
        if sha:
            return BaseCommit(sha, f"merge-base with {ref}")
    return None


def environment_plans(
    project: Project,
    check_plan: Plan,
    settings_for: Callable[[str], Settings],
    base: BaseCommit | None,
    *,
    all_slugs: Collection[str] | None = None,
) -> tuple[EnvironmentPlan, ...]:
    """One ``EnvironmentPlan`` per environment of ``project.config`` (just the check's when it
    declares none), in the file's order. ``project``: the agents the check selected;
    ``all_slugs``: every agent folder at the head (default: ``project``'s), so that only
    folders the head deleted count as removed. ``settings_for(name)`` resolves an
    environment's settings. A failed live plan is an ``error`` entry, never raised; raises
    ``UsageError`` only from ``settings_for``."""
    names = list(project.config.environments) or [check_plan.environment]
    settings = {n: settings_for(n) for n in names if n != check_plan.environment}
    offline = [n for n, s in settings.items() if not s.api_key]
    plans = _offline_plans(project, offline, base, all_slugs)
    found = [plans.get(n) or _live(project, s) for n, s in settings.items()]
    by_name = {p.environment: p for p in found} | {check_plan.environment: _checked(check_plan)}
    return tuple(by_name[n] for n in names)


def _checked(plan: Plan) -> EnvironmentPlan:
    label = "live plan; the check stages and tests here"
    return EnvironmentPlan(plan.environment, "live", label, plan, checked=True)


def _live(project: Project, settings: Settings) -> EnvironmentPlan:
    from convai_ops.api import ConvaiClient
    from convai_ops.plan import build_plan

    env, key = settings.environment, settings.api_key_env
    try:
        with ConvaiClient(
            settings.base_url, settings.require_api_key(), max_concurrency=settings.concurrency
        ) as client:
            plan, _ = build_plan(client, project, settings)
    except ConvaiOpsError as exc:
        return EnvironmentPlan(env, "error", f"live plan failed ({key} is set): {exc}")
    return EnvironmentPlan(env, "live", f"live plan ({key} is set); not staged or tested", plan)


def _offline_plans(
    project: Project,
    names: Sequence[str],
    base: BaseCommit | None,
    all_slugs: Collection[str] | None,
) -> dict[str, EnvironmentPlan]:
    if not names:
        return {}
    if base is None:
        why = "no base commit found to compare with (pass --base REF)"
        return {n: EnvironmentPlan(n, "unavailable", _no_key(n, why)) for n in names}
    from convai_ops.offline_plan import offline_plan, project_at

    head = _head(project.root)
    try:
        with project_at(project.root, base.sha) as old:
            made = {n: offline_plan(old, project, n, removed_from=all_slugs) for n in names}
    except ConvaiOpsError as exc:
        why = f"the base commit {base.sha[:12]} does not load: {exc}"
        return {n: EnvironmentPlan(n, "unavailable", _no_key(n, why)) for n in names}
    return {n: _offline(n, made[n], base, head) for n in names}


def _offline(name: str, made: OfflinePlan, base: BaseCommit, head: str) -> EnvironmentPlan:
    label = f"offline: base {base.sha[:12]} -> head {head}, no key for {name}"
    return EnvironmentPlan(name, "offline", label, made.plan, made.removed)


def _no_key(name: str, why: str) -> str:
    return f"no offline plan: no key for {name} and {why}"


def _head(root: Path) -> str:
    info = commit_info(root)
    if info is None:
        return "working tree"
    return info.sha[:12] + (" (with uncommitted changes)" if info.dirty else "")
