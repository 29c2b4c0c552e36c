"""Saved plans: ``plan --out plan.json`` and ``apply plan.json``.

A saved plan is the JSON rendering of a ``Plan`` (``format_version`` 2: each field change says
whether it is ``gated`` by tests; a version-1 file, which has no such flag, is refused). For
every agent it records main's ``base_version_id`` when planned and ``desired_hash``, a sha256
over the declared state. ``apply plan.json`` re-reads the live agents and the repository and
refuses the plan when either moved, naming the agent and what changed; otherwise it applies
exactly the agents the saved plan changes (with ``--target``, only those of them that are
targeted: the others are not checked, not applied and not reported). Values of sensitive
fields are masked in the file. A saved plan carries its orphans (managed agents with no
folder); ``apply plan.json --prune`` deletes only those both the saved plan and the fresh one
list, so an agent orphaned after the plan was saved is never deleted from it.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path

from pydantic import ValidationError

from convai_ops.errors import StalePlanError, UsageError
from convai_ops.plan import FORMAT_VERSION, AgentPlan, Plan
from convai_ops.render import render_plan_json

__all__ = ["check_fresh", "read_plan", "write_plan"]


def write_plan(plan: Plan, path: Path) -> None:
    """Write ``plan`` as JSON to ``path`` (created or replaced)."""
    path.write_text(render_plan_json(plan), encoding="utf-8")


def read_plan(path: Path) -> Plan:
    """Read a saved plan; ``UsageError`` when the file is not one this version understands."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: not a readable plan file ({exc})") from None
    found = data.get("format_version") if isinstance(data, dict) else None
    if isinstance(found, int) and 0 < found < FORMAT_VERSION:
        raise UsageError(
            f"{path}: written by an older convai-ops (format_version {found}, this one reads "
            f"{FORMAT_VERSION}): run plan --out again"
        )
    if found != FORMAT_VERSION:
        raise UsageError(f"{path}: not a convai-ops plan (format_version {FORMAT_VERSION})")
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UsageError(f"{path}: {where}: {first['msg']}") from None


def check_fresh(saved: Plan, fresh: Plan, targets: Collection[str] = ()) -> Plan:
    """Return ``fresh`` restricted to the agents ``saved`` changes and the orphans it lists,
    or raise.

    ``targets`` (slugs, all agents when empty) limits the check and the result to those agents:
    ``fresh`` was planned for them only, so the others are not looked for in it.

    Raises ``UsageError`` when the environments differ and ``StalePlanError`` when an agent's
    main moved since the plan (naming the fields whose live value changed) or its declared state
    in the repository changed.
    """
    if saved.environment != fresh.environment:
        raise UsageError(
            f"the plan was made for environment {saved.environment!r}, "
            f"not {fresh.environment!r}: pass --env {saved.environment}"
        )
    now = {a.slug: a for a in fresh.agents}
    changed = [
        a for a in saved.agents if a.action != "no-op" and (not targets or a.slug in targets)
    ]
    for agent in changed:
        _check_agent(agent, now.get(agent.slug))
    keep = {a.slug for a in changed}
    shown = {o.agent_id for o in saved.orphans}
    return fresh.model_copy(
        update={
            "agents": tuple(a for a in fresh.agents if a.slug in keep),
            "orphans": tuple(o for o in fresh.orphans if o.agent_id in shown),
        }
    )


def _check_agent(saved: AgentPlan, fresh: AgentPlan | None) -> None:
    if fresh is None:
        raise StalePlanError(f"{saved.slug}: the agent is no longer in the repository")
    if fresh.base_version_id != saved.base_version_id:
        raise StalePlanError(
            f"{saved.slug}: main moved from version {saved.base_version_id} to "
            f"{fresh.base_version_id} since the plan{_moved_fields(saved, fresh)}; "
            "run plan again"
        )
    if fresh.desired_hash != saved.desired_hash:
        raise StalePlanError(
            f"{saved.slug}: agents/{saved.slug} changed in the repository since the plan; "
            "run plan again"
        )


def _moved_fields(saved: AgentPlan, fresh: AgentPlan) -> str:
    before = {c.dotted: c.before for c in saved.changes}
    after = {c.dotted: c.before for c in fresh.changes}
    moved = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    return f" (changed: {', '.join(moved)})" if moved else ""
