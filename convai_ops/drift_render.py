"""Drift as terminal text and JSON (:class:`convai_ops.drift.DriftReport`). No API call.

Both formats keep two groups apart: dashboard edits (live differs from the commit convai-ops
applied) and changes not applied yet (the repository differs from that commit). When no agent's
applied commit is known (outside git, ...) the text is the plain "live vs repository" list.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from convai_ops.render import coloured, is_long_text, plain, show_value, text_diff, untested_line

if TYPE_CHECKING:
    from convai_ops.drift import AgentDrift, DriftReport
    from convai_ops.plan import FieldChange

__all__ = ["render_drift", "render_drift_json", "render_drift_text"]

FORMAT_VERSION = 1
REPOSITORY = "repository"


def render_drift(report: DriftReport, fmt: str, *, colour: bool = False) -> str:
    """Render in ``fmt``: ``text`` or ``json``."""
    return render_drift_json(report) if fmt == "json" else render_drift_text(report, colour=colour)


def render_drift_text(report: DriftReport, *, colour: bool = False) -> str:
    """Terminal text: the agents edited on the dashboard (``~``, each field live vs the applied
    commit, or vs the repository when it is unknown), then those with changes not applied yet
    (``!``, each field applied vs repository), then ``=`` in sync; a summary and the notes."""
    style = coloured if colour else plain
    grouped = any(a.applied for a in report.agents)
    lines = list(_group(report.drifted, "Dashboard edits:" if grouped else "", _edit_lines, style))
    lines += _group(report.pending, "Not applied yet:", _pending_lines, style)
    if grouped and lines:
        lines.append("In sync or not created:")
    lines += [line for agent in report.agents for line in _rest_lines(agent, report, style)]
    lines += [""] if grouped and lines[-1:] != [""] else []
    lines += _summary(report)
    lines += _notes(report.agents)
    return "\n".join(lines) + "\n"


def _group(agents: Sequence[AgentDrift], title: str, lines_of: Any, style: Any) -> Iterator[str]:
    if agents and title:
        yield title
    for agent in agents:
        yield from lines_of(agent, style)


def _edit_lines(agent: AgentDrift, style: Any) -> Iterator[str]:
    count = len(agent.changes)
    if agent.applied:
        what = f"{count} field(s) edited on the dashboard since {agent.applied[:12]} was applied"
    else:
        what = f"{count} field(s) differ from the repository"
    yield style(f"~ {agent.slug} ({agent.agent_id}): {what}", "~")
    yield from _flag(agent, style)
    side = f"applied {str(agent.applied)[:12]}" if agent.applied else REPOSITORY
    for change in agent.changes:
        yield from _change_lines(change, ("live", side), style)
    yield ""


def _pending_lines(agent: AgentDrift, style: Any) -> Iterator[str]:
    count, applied = len(agent.unapplied), str(agent.applied)[:12]
    yield style(
        f"! {agent.slug} ({agent.agent_id}): not applied yet: {count} field(s) of the "
        f"repository differ from {applied}, the commit main was applied from",
        "~",
    )
    if not agent.changes:  # else flagged under its dashboard edits
        yield from _flag(agent, style)
    for change in agent.unapplied:
        yield from _change_lines(change, (f"applied {applied}", REPOSITORY), style, forward=True)
    yield ""


def _rest_lines(agent: AgentDrift, report: DriftReport, style: Any) -> Iterator[str]:
    if agent.agent_id is None:
        yield f"  {agent.slug}: not created in {report.environment!r} yet (skipped)"
    elif not agent.changes and not agent.unapplied:
        yield f"= {agent.slug} ({agent.agent_id}): in sync"
        yield from _flag(agent, style)


def _flag(agent: AgentDrift, style: Any) -> Iterator[str]:
    """The ``--skip-tests`` flag of an agent whose main holds an untested change."""
    if agent.untested:
        yield style(f"    {untested_line(agent.untested)}", "!")


def _change_lines(
    change: FieldChange, sides: tuple[str, str], style: Any, *, forward: bool = False
) -> Iterator[str]:
    """One field: ``before`` is ``sides[0]``'s value, ``after`` ``sides[1]``'s; a long text is
    a diff from ``sides[1]`` to ``sides[0]`` (from ``sides[0]`` to ``sides[1]`` if
    ``forward``)."""
    first, second = sides
    if is_long_text(change.before) or is_long_text(change.after):
        old, new = (change.before, change.after) if forward else (change.after, change.before)
        label = f"(- {first}, + {second})" if forward else f"(- {second}, + {first})"
        yield style(f"    ~ {change.dotted}: {label}", "~")
        for line in text_diff(old, new):
            yield style(f"        {line}", line[:1])
        return
    shown_first = "(not set)" if change.kind == "add" else show_value(change.before)
    shown_second = "(not declared)" if change.kind == "remove" else show_value(change.after)
    order = " order" if change.kind == "reorder" else ""
    yield style(
        f"    ~ {change.dotted}: {first}{order} {shown_first}, {second} {shown_second}", "~"
    )


def _summary(report: DriftReport) -> Iterator[str]:
    existing = sum(1 for a in report.agents if a.agent_id)
    if not report.drifted and not report.pending:
        yield f"No drift: the live agents in {report.environment!r} match the repository."
    if report.drifted:
        fields = sum(len(a.changes) for a in report.drifted)
        slugs = " ".join(a.slug for a in report.drifted)
        yield (
            f"Drift: {len(report.drifted)} of {existing} agent(s) differ from the repository "
            f"({fields} field(s)).\nAdopt the live values with `convai-ops pull {slugs}`, "
            "or restore the repository's with `convai-ops apply`."
        )
    if report.pending:
        yield (
            f"Not applied yet: {len(report.pending)} agent(s) hold an older commit than the "
            "repository (an apply that was blocked or not run yet); `convai-ops apply` applies "
            "them."
        )


def _notes(agents: Sequence[AgentDrift]) -> Iterator[str]:
    by_note: dict[str, list[str]] = {}
    for agent in agents:
        if agent.note:
            by_note.setdefault(agent.note, []).append(agent.slug)
    for note, slugs in by_note.items():
        yield f"Note: compared with the repository for {', '.join(slugs)}: {note}."


def render_drift_json(report: DriftReport) -> str:
    """JSON: ``format_version``, ``environment``, ``has_drift`` (dashboard edits),
    ``has_unapplied``, per agent ``status`` (``drift`` | ``not_applied`` | ``in_sync`` |
    ``absent``), ``applied_commit`` (full sha, ``null`` when unknown, then ``note`` says why),
    ``fields`` (dashboard edits: ``field``, ``live``, ``repository`` = the value at the applied
    commit, or the repository's when unknown, ``kind``: ``changed`` | ``missing_live`` |
    ``missing_repository`` | ``reordered``, then ``live`` and ``repository`` are the list's
    item identities in order) and ``not_applied`` (``field``, ``applied``, ``repository``,
    ``kind``: ``changed`` | ``missing_applied`` | ``missing_repository`` | ``reordered``),
    and a ``summary``."""
    agents = [_agent_json(a) for a in report.agents]
    existing = sum(1 for a in report.agents if a.agent_id)
    fields = sum(len(a.changes) for a in report.agents)
    data: dict[str, Any] = {"format_version": FORMAT_VERSION, "environment": report.environment}
    data |= {"has_drift": report.has_drift, "has_unapplied": report.has_unapplied}
    data["agents"] = agents
    data["summary"] = {
        "agents": existing,
        "drifted": len(report.drifted),
        "fields": fields,
        "not_applied": len(report.pending),
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _agent_json(agent: AgentDrift) -> dict[str, Any]:
    return {
        "slug": agent.slug,
        "agent_id": agent.agent_id,
        "version_id": agent.version_id,
        "status": agent.status,
        "applied_commit": agent.applied,
        "note": agent.note or None,
        "untested": agent.untested,
        "fields": [_field(c, "live", "repository") for c in agent.changes],
        "not_applied": [_field(c, "applied", "repository") for c in agent.unapplied],
    }


def _field(change: FieldChange, first: str, second: str) -> dict[str, Any]:
    kind = {
        "change": "changed",
        "add": f"missing_{first}",
        "remove": f"missing_{second}",
        "reorder": "reordered",
    }
    return {
        "field": change.dotted,
        first: change.before,
        second: change.after,
        "kind": kind[change.kind],
    }
