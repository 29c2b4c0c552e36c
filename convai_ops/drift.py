"""Drift: live values of declared fields that differ from the repository (dashboard edits).

:func:`detect_drift` reads the live agents (``state.read_snapshot``: one
``GET /v1/convai/agents/{id}`` per agent plus the list calls it needs) and compares them with the
repository exactly as ``plan`` does (``plan.make_plan``: declared fields only, ``ignore:``
pointers skipped, secrets masked). Agents not created yet are not drift. Renderers: text (the
plan's markers, "live vs repository") and JSON.

``convai_ops.pull`` adopts drift into the repository.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from convai_ops.plan import FieldChange, make_plan
from convai_ops.render import coloured, is_long_text, plain, show_value, text_diff
from convai_ops.state import read_snapshot

if TYPE_CHECKING:
    from convai_ops.api import ConvaiClient
    from convai_ops.spec import Project
    from convai_ops.state import Snapshot

__all__ = [
    "FORMAT_VERSION",
    "AgentDrift",
    "DriftReport",
    "detect_drift",
    "drift_of",
    "render_drift",
    "render_drift_json",
    "render_drift_text",
]

FORMAT_VERSION = 1


@dataclass(frozen=True)
class AgentDrift:
    """One agent: ``changes`` hold ``before`` = live value, ``after`` = repository value.

    ``agent_id`` is ``None`` when the agent does not exist in the environment (not drift).
    """

    slug: str
    agent_id: str | None
    version_id: str | None = None
    changes: tuple[FieldChange, ...] = ()
    main_branch_id: str | None = None  # for the traffic split warning

    @property
    def status(self) -> str:
        """``drift``, ``in_sync`` or ``absent``."""
        if self.agent_id is None:
            return "absent"
        return "drift" if self.changes else "in_sync"


@dataclass(frozen=True)
class DriftReport:
    """Drift of every agent of the project in one environment."""

    environment: str
    agents: tuple[AgentDrift, ...]

    @property
    def drifted(self) -> tuple[AgentDrift, ...]:
        """The agents whose live values differ from the repository."""
        return tuple(a for a in self.agents if a.changes)

    @property
    def has_drift(self) -> bool:
        """True when any agent drifted."""
        return bool(self.drifted)


def detect_drift(
    client: ConvaiClient, project: Project, env: str, *, concurrency: int = 8
) -> DriftReport:
    """Read the live agents of ``project`` in ``env`` and report their drift.

    Raises ``ApiError`` (``NotFoundError`` when an id in agent.yaml does not exist).
    """
    snapshot = read_snapshot(client, project.agents, env, concurrency=concurrency)
    return drift_of(project, snapshot, env)


def drift_of(project: Project, snapshot: Snapshot, env: str) -> DriftReport:
    """The drift in ``snapshot`` (pure; the plan's comparison, kept for existing agents)."""
    plan = make_plan(project, snapshot, env)
    agents = tuple(
        AgentDrift(
            a.slug, a.agent_id, a.base_version_id, a.changes if a.agent_id else (), a.main_branch_id
        )
        for a in plan.agents
    )
    return DriftReport(env, agents)


# -- renderers ----------------------------------------------------------------------------------


def render_drift(report: DriftReport, fmt: str, *, colour: bool = False) -> str:
    """Render in ``fmt``: ``text`` or ``json``."""
    return render_drift_json(report) if fmt == "json" else render_drift_text(report, colour=colour)


def render_drift_text(report: DriftReport, *, colour: bool = False) -> str:
    """Terminal text: per agent ``~`` drift (each field live vs repository), ``=`` in sync."""
    style = coloured if colour else plain
    lines = [line for agent in report.agents for line in _agent_lines(agent, report, style)]
    drifted = report.drifted
    fields = sum(len(a.changes) for a in drifted)
    existing = sum(1 for a in report.agents if a.agent_id)
    if not drifted:
        lines.append(f"No drift: the live agents in {report.environment!r} match the repository.")
    else:
        slugs = " ".join(a.slug for a in drifted)
        lines.append(
            f"Drift: {len(drifted)} of {existing} agent(s) differ from the repository "
            f"({fields} field(s)).\nAdopt the live values with `convai-ops pull {slugs}`, "
            "or restore the repository's with `convai-ops apply`."
        )
    return "\n".join(lines) + "\n"


def _agent_lines(agent: AgentDrift, report: DriftReport, style: Any) -> Iterator[str]:
    if agent.agent_id is None:
        yield f"  {agent.slug}: not created in {report.environment!r} yet (skipped)"
        return
    if not agent.changes:
        yield f"= {agent.slug} ({agent.agent_id}): in sync"
        return
    count = len(agent.changes)
    yield style(
        f"~ {agent.slug} ({agent.agent_id}): {count} field(s) differ from the repository", "~"
    )
    for change in agent.changes:
        yield from _change_lines(change, style)
    yield ""


def _change_lines(change: FieldChange, style: Any) -> Iterator[str]:
    live, repo = change.before, change.after
    if is_long_text(live) or is_long_text(repo):
        yield style(f"    ~ {change.dotted}: (- repository, + live)", "~")
        for line in text_diff(repo, live):
            yield style(f"        {line}", line[:1])
        return
    shown_live = "(not set)" if change.kind == "add" else show_value(live)
    shown_repo = "(not declared)" if change.kind == "remove" else show_value(repo)
    order = " order" if change.kind == "reorder" else ""
    yield style(f"    ~ {change.dotted}: live{order} {shown_live}, repository {shown_repo}", "~")


def render_drift_json(report: DriftReport) -> str:
    """JSON: ``format_version``, ``environment``, ``has_drift``, per agent ``status`` and
    ``fields`` (``field``, ``live``, ``repository``, ``kind``: ``changed`` | ``missing_live``
    | ``missing_repository`` | ``reordered``, then ``live`` and ``repository`` are the list's
    item identities in order), and a ``summary``."""
    agents = [
        {
            "slug": a.slug,
            "agent_id": a.agent_id,
            "version_id": a.version_id,
            "status": a.status,
            "fields": [_field(change) for change in a.changes],
        }
        for a in report.agents
    ]
    fields = sum(len(a.changes) for a in report.agents)
    existing = sum(1 for a in report.agents if a.agent_id)
    data = {"format_version": FORMAT_VERSION, "environment": report.environment}
    data |= {"has_drift": report.has_drift, "agents": agents}
    data["summary"] = {"agents": existing, "drifted": len(report.drifted), "fields": fields}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _field(change: FieldChange) -> dict[str, Any]:
    kind = {
        "change": "changed",
        "add": "missing_live",
        "remove": "missing_repository",
        "reorder": "reordered",
    }
    return {
        "field": change.dotted,
        "live": change.before,
        "repository": change.after,
        "kind": kind[change.kind],
    }
