"""Orphans: live agents carrying a managed tag (``convai-ops:<slug>``) whose slug has no
folder in the repository and that no folder resolved to (:func:`convai_ops.state.resolve_agent_id`,
which also follows ``previous_slugs``). ``plan`` lists them; ``apply --prune`` (or ``prune:
true`` in convai-ops.yaml) deletes them after asking (:mod:`convai_ops.prune`). A create whose
name an orphan carries is probably a folder renamed by hand: its plan line says to run
``convai-ops mv``. Pure functions; no API call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from convai_ops.spec import AgentSpec, Project
    from convai_ops.state import Snapshot

__all__ = ["Orphan", "create_hint", "find_orphans"]


class Orphan(BaseModel):
    """A live agent carrying the managed tag ``convai-ops:<slug>`` of no folder, which no
    folder resolved to: ``slug`` (from the tag), ``agent_id``, ``name``."""

    model_config = ConfigDict(frozen=True)

    slug: str
    agent_id: str
    name: str = ""


def find_orphans(project: Project, snapshot: Snapshot) -> tuple[Orphan, ...]:
    """The orphans among the agents listed in ``snapshot.index.live`` (none when the list was
    not read), sorted by slug. ``project`` must be the whole repository: an agent of a folder
    left out would look orphaned."""
    live = snapshot.index.live
    if live is None:
        return ()
    folders = {spec.slug for spec in project.agents}
    taken = {remote.agent_id for remote in snapshot.agents.values() if remote is not None}
    slugs: dict[str, list[str]] = {}
    for slug, ids in live.tagged.items():
        for agent_id in ids:
            slugs.setdefault(agent_id, []).append(slug)
    found = [
        Orphan(slug=sorted(own)[0], agent_id=agent_id, name=live.names.get(agent_id, ""))
        for agent_id, own in slugs.items()
        if agent_id not in taken and not folders & set(own)
    ]
    return tuple(sorted(found, key=lambda o: (o.slug, o.agent_id)))


def create_hint(spec: AgentSpec, env: str, orphans: Sequence[Orphan]) -> str:
    """For an agent about to be created: ``""``, or when an orphan has its name (the folder
    was probably renamed without ``convai-ops mv``), the line telling to run it."""
    name = spec.desired(env).get("name")
    same = [o for o in orphans if o.name and o.name == name]
    if not same:
        return ""
    old = same[0]
    return (
        f"a managed agent named {name!r} has no folder ({old.slug}, {old.agent_id}): if this "
        f"folder was renamed from {old.slug}, run `convai-ops mv {old.slug} {spec.slug}` so "
        "apply re-tags it instead of creating another"
    )
