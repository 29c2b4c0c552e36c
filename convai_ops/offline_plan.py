"""The offline plan: what a change between two commits does to one environment's declared
config, with no API call (for an environment whose API key the run does not hold).

Both sides are the repository's declared views (``plan.declared_view``: the agent.yaml with
that environment's ``overrides`` merged in, the prompt file inlined, knowledge and test names
content-addressed, the API's list-item defaults filled in) and are compared as ``plan``
compares live with declared (``plan.diff_views``; ``ignore:`` pointers left out, sensitive
values masked). An agent whose folder only the head has is ``create``; one only the base has
is listed as removed.

:func:`project_at` reads the project as a commit holds it (``git.export_project`` into a
temporary folder, then ``spec.load_project``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convai_ops.git import export_project
from convai_ops.plan import (
    AgentPlan,
    FieldChange,
    Plan,
    _masked,
    changed_workflow_diagram,
    diff_views,
)
from convai_ops.plan_views import declared_view, with_list_defaults, without_pointers

if TYPE_CHECKING:
    from convai_ops.spec import AgentSpec, Project

__all__ = ["OfflinePlan", "changes_between", "offline_plan", "project_at"]


@dataclass(frozen=True)
class OfflinePlan:
    """``plan``: one ``AgentPlan`` per agent the head holds (``create`` when the base lacks
    it, ``update`` or ``no-op``; no agent ids); ``removed``: slugs only the base holds."""

    plan: Plan
    removed: tuple[str, ...] = ()


@contextmanager
def project_at(root: Path, sha: str) -> Iterator[Project]:
    """The project at ``root`` as commit ``sha`` holds it, read from a temporary folder that is
    deleted on exit. Raises ``UsageError`` (unknown commit) or ``SpecError`` (the files at that
    commit do not load)."""
    from convai_ops.spec import load_project

    with tempfile.TemporaryDirectory(prefix="convai-ops-commit-") as folder:
        yield load_project(export_project(root, sha, Path(folder)))


def offline_plan(
    base: Project, head: Project, env: str, *, removed_from: Collection[str] | None = None
) -> OfflinePlan:
    """Compare ``head``'s agents with ``base``'s for ``env`` (pure). ``removed_from``: the
    slugs the whole head holds (default: ``head``'s), so that ``head`` may be a selection
    without its other agents counting as removed."""
    kept = {a.slug for a in head.agents} if removed_from is None else set(removed_from)
    before = {a.slug: a for a in base.agents}
    ignore = tuple(head.config.ignore)
    agents = tuple(_agent_plan(before.get(a.slug), a, env, ignore) for a in head.agents)
    removed = tuple(sorted(slug for slug in before if slug not in kept))
    return OfflinePlan(Plan(environment=env, base_url="", agents=agents), removed)


def changes_between(
    old: AgentSpec, new: AgentSpec, env: str, ignore: Sequence[str] = ()
) -> tuple[FieldChange, ...]:
    """The declared fields of one agent that differ between ``old`` and ``new`` in ``env``
    (``before`` = ``old``'s value, ``after`` = ``new``'s), masked, sorted by path."""
    pointers = (*ignore, *new.ignore)
    return tuple(
        _masked(c) for c in diff_views(_view(old, env, pointers), _view(new, env, pointers))
    )


def _agent_plan(
    old: AgentSpec | None, new: AgentSpec, env: str, ignore: Sequence[str]
) -> AgentPlan:
    pointers = (*ignore, *new.ignore)
    before = _view(old, env, pointers) if old else {}
    after = _view(new, env, pointers)
    changes = tuple(_masked(c) for c in diff_views(before, after))
    action = "create" if old is None else ("update" if changes else "no-op")
    return AgentPlan(
        slug=new.slug,
        action=action,
        changes=changes,
        tests=tuple(t.name for t in new.tests),
        workflow=changed_workflow_diagram(before, after, changes),
    )


def _view(spec: AgentSpec, env: str, pointers: Sequence[str]) -> dict[str, Any]:
    return with_list_defaults(without_pointers(declared_view(spec, env), pointers))
