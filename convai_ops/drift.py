"""Drift: live values of declared fields that differ from what convai-ops applied (dashboard
edits), told apart from changes convai-ops has not applied yet (a blocked or pending apply).

:func:`detect_drift` reads the live agents (``state.read_snapshot``: one
``GET /v1/convai/agents/{id}`` per agent plus the list calls it needs) and, for each, the commit
its main was applied from (:mod:`convai_ops.applied_commit`: main's versions and the merged
branch's description). Then two comparisons, each as ``plan`` compares (declared fields only,
``ignore:`` pointers skipped, secrets masked):

- *dashboard edits* (``AgentDrift.changes``): live against the repository as that commit holds
  it (``offline_plan.project_at``);
- *not applied yet* (``AgentDrift.unapplied``): that commit against the repository (the working
  tree), e.g. an apply whose tests failed, or a merge not applied yet.

When the commit is unknown (outside git, nothing recorded, not in this clone, applied with
uncommitted changes, or the agent's folder is not at that commit) live is compared with the
repository (all differences count as dashboard edits, as before) and ``note`` says why.
Agents not created yet are not drift. Renderers: text and JSON (``drift_render``).

``convai_ops.pull`` adopts drift into the repository.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from convai_ops.applied_commit import AppliedCommit, find_applied
from convai_ops.drift_render import render_drift, render_drift_json, render_drift_text
from convai_ops.errors import ConvaiOpsError
from convai_ops.git import commit_info, in_repository
from convai_ops.offline_plan import changes_between, project_at
from convai_ops.plan import FieldChange, make_agent_plan, make_plan
from convai_ops.state import map_bounded, read_snapshot

if TYPE_CHECKING:
    from convai_ops.api import ConvaiClient
    from convai_ops.spec import Project
    from convai_ops.state import RemoteAgent, Snapshot

__all__ = [
    "FORMAT_VERSION",
    "AgentDrift",
    "DriftReport",
    "detect_drift",
    "drift_against",
    "drift_of",
    "render_drift",
    "render_drift_json",
    "render_drift_text",
]

FORMAT_VERSION = 1
NOT_IN_GIT = "not in a git repository"


@dataclass(frozen=True)
class AgentDrift:
    """One agent: ``changes`` (dashboard edits) hold ``before`` = live value, ``after`` = the
    value at ``applied`` (the commit main was applied from; the repository when ``None``,
    ``note`` saying why); ``unapplied`` hold ``before`` = value at ``applied``, ``after`` =
    the repository's (changes convai-ops has not applied yet).

    ``agent_id`` is ``None`` when the agent does not exist in the environment (not drift).
    ``untested``: main holds a change merged with ``--skip-tests`` (who and why; not drift).
    """

    slug: str
    agent_id: str | None
    version_id: str | None = None
    changes: tuple[FieldChange, ...] = ()
    unapplied: tuple[FieldChange, ...] = ()
    applied: str | None = None
    note: str = ""
    untested: str | None = None
    main_branch_id: str | None = None  # for the traffic split warning

    @property
    def status(self) -> str:
        """``drift`` (dashboard edits), ``not_applied``, ``in_sync`` or ``absent``."""
        if self.agent_id is None:
            return "absent"
        if self.changes:
            return "drift"
        return "not_applied" if self.unapplied else "in_sync"


@dataclass(frozen=True)
class DriftReport:
    """Drift of every agent of the project in one environment."""

    environment: str
    agents: tuple[AgentDrift, ...]

    @property
    def drifted(self) -> tuple[AgentDrift, ...]:
        """The agents edited on the dashboard (live differs from what was applied)."""
        return tuple(a for a in self.agents if a.changes)

    @property
    def pending(self) -> tuple[AgentDrift, ...]:
        """The agents whose repository differs from the commit their main was applied from."""
        return tuple(a for a in self.agents if a.unapplied)

    @property
    def has_drift(self) -> bool:
        """True when any agent was edited on the dashboard."""
        return bool(self.drifted)

    @property
    def has_unapplied(self) -> bool:
        """True when any agent has changes convai-ops has not applied yet."""
        return bool(self.pending)


def detect_drift(
    client: ConvaiClient, project: Project, env: str, *, concurrency: int = 8
) -> DriftReport:
    """Read the live agents of ``project`` in ``env`` and the commits their main was applied
    from, and report their drift (see the module docstring).
    Also which mains hold a change merged with ``--skip-tests`` (``breakglass.flag_drift``:
    for agents carrying the marker tag only, main's versions and the merged branch are read).

    Raises ``ApiError`` (``NotFoundError`` when an id in agent.yaml does not exist).
    """
    from convai_ops.breakglass import flag_drift, marked_slugs

    snapshot = read_snapshot(client, project.agents, env, concurrency=concurrency)
    marked = marked_slugs(snapshot)
    if not in_repository(project.root):
        report = drift_of(project, snapshot, env, note=NOT_IN_GIT)
        return flag_drift(client, report, marked, concurrency)
    live = [(slug, remote) for slug, remote in snapshot.agents.items() if remote is not None]

    def applied_of(item: tuple[str, RemoteAgent]) -> AppliedCommit:
        return find_applied(client, item[1].agent_id, item[1].version_id, project.root)

    found = map_bounded(applied_of, live, concurrency)
    report = drift_against(
        project, snapshot, env, {s: a for (s, _), a in zip(live, found, strict=True)}
    )
    return flag_drift(client, report, marked, concurrency)


def drift_of(project: Project, snapshot: Snapshot, env: str, *, note: str = "") -> DriftReport:
    """Live in ``snapshot`` against the repository (pure; the plan's comparison, kept for
    existing agents); ``note`` says why the applied commit is not used."""
    plan = make_plan(project, snapshot, env)
    agents = tuple(
        AgentDrift(
            a.slug,
            a.agent_id,
            a.base_version_id,
            a.changes if a.agent_id else (),
            note=note if a.agent_id else "",
            main_branch_id=a.main_branch_id,
        )
        for a in plan.agents
    )
    return DriftReport(env, agents)


def drift_against(
    project: Project, snapshot: Snapshot, env: str, applied: Mapping[str, AppliedCommit]
) -> DriftReport:
    """Each agent of ``snapshot`` compared with the repository at its ``applied`` commit and
    that commit with the repository (reads git; no API call). Agents without a known commit
    keep the comparison with the repository, with the note."""
    report = drift_of(project, snapshot, env)
    agents = {a.slug: a for a in report.agents}
    for slug, commit in applied.items():
        if commit.sha is None:
            agents[slug] = replace(agents[slug], note=commit.note)
    for sha in sorted({c.sha for c in applied.values() if c.sha}):
        slugs = [s for s, c in applied.items() if c.sha == sha]
        agents |= _against_commit(project, snapshot, env, sha, [agents[s] for s in slugs])
    return DriftReport(env, tuple(agents[a.slug] for a in report.agents))


def _against_commit(
    project: Project, snapshot: Snapshot, env: str, sha: str, agents: Sequence[AgentDrift]
) -> dict[str, AgentDrift]:
    try:
        with _project_at(project, sha) as old:
            return {a.slug: _compared(project, old, snapshot, env, sha, a) for a in agents}
    except ConvaiOpsError as exc:
        note = f"the repository at the applied commit {sha[:12]} does not load: {exc}"
        return {a.slug: replace(a, note=note) for a in agents}


@contextmanager
def _project_at(project: Project, sha: str) -> Iterator[Project]:
    """``project`` itself when ``sha`` is HEAD and nothing is uncommitted, else as ``sha``
    holds it."""
    head = commit_info(project.root)
    if head is not None and head.sha == sha and not head.dirty:
        yield project
        return
    with project_at(project.root, sha) as old:
        yield old


def _compared(
    project: Project, old: Project, snapshot: Snapshot, env: str, sha: str, agent: AgentDrift
) -> AgentDrift:
    then = next((a for a in old.agents if a.slug == agent.slug), None)
    if then is None:
        return replace(agent, note=f"agents/{agent.slug} is not in the applied commit {sha[:12]}")
    ignore = tuple(project.config.ignore)
    remote = snapshot.agents[agent.slug]
    if remote is None:  # not created in the environment: not drift
        return agent
    edits = make_agent_plan(then, remote, snapshot.index, env, ignore).changes
    unapplied = changes_between(then, project.agent(agent.slug), env, ignore)
    return replace(agent, changes=edits, unapplied=unapplied, applied=sha)
