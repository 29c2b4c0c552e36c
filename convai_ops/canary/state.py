"""Where a canary's state lives: in the API, never on the laptop.

- The **plan** (steps, minimums, margin, metrics, main's version, commit) is the branch's
  description, written when the branch is created (:mod:`convai_ops.canary.config`); the API
  cannot change a description later (``PATCH .../branches/{id}`` takes ``name``,
  ``is_archived``, ``protection_status`` only).
- The **progress** is the branch's name and the traffic split: a running step ``k`` (1-based)
  of ``n`` renames the branch ``<name>-canary-<k>-of-<n>-since-<unix seconds>`` before
  deploying the step's share (``POST /v1/convai/agents/{id}/deployments``); a rolled-back
  canary is named ``<name>-canary-rolled-back``; a promoted one is merged (and archived by the
  merge). A branch whose name carries no step yet has not been deployed.

So a killed process loses nothing: the next ``canary status`` / ``canary analyse`` reads the
same branch, step and split back, re-sends a deployment the split does not show yet (a
deployment replaces the split, so sending it twice changes nothing), and never creates a
second branch.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from convai_ops.canary.config import CanaryPlan, parse_description
from convai_ops.errors import UsageError

if TYPE_CHECKING:
    from convai_ops.api import ConvaiClient

__all__ = [
    "Canary",
    "find_canaries",
    "foreign_split",
    "read_canary",
    "rename_for_step",
    "rolled_back_name",
    "shares_for",
]

_STEP = re.compile(r"^(?P<base>.+)-canary-(?P<step>\d+)-of-(?P<of>\d+)-since-(?P<since>\d+)$")
_ROLLED_BACK = "-canary-rolled-back"


@dataclass(frozen=True)
class Canary:
    """One canary branch as the API shows it. ``step`` is 0-based (``None``: not deployed
    yet), ``since`` the step's start (Unix seconds); shares are percentages."""

    agent_id: str
    main_branch_id: str
    branch_id: str
    name: str
    plan: CanaryPlan
    share: float
    main_share: float
    step: int | None = None
    since: int | None = None
    rolled_back: bool = False

    @property
    def base_name(self) -> str:
        """The branch's name without the canary's suffix."""
        match = _STEP.match(self.name)
        return match.group("base") if match else self.name.removesuffix(_ROLLED_BACK)

    @property
    def step_share(self) -> float | None:
        """The share the current step deploys (``None`` before the first)."""
        return None if self.step is None else self.plan.config.steps[self.step]


def _from_branch(
    agent_id: str, main_branch_id: str, branch: Mapping[str, Any], main_share: float
) -> Canary | None:
    plan = parse_description(branch.get("description"))
    if plan is None or branch.get("is_archived") or branch.get("id") == main_branch_id:
        return None
    name = str(branch.get("name") or "")
    match = _STEP.match(name)
    step = int(match.group("step")) - 1 if match else None
    if step is not None and step >= len(plan.config.steps):
        step = len(plan.config.steps) - 1
    return Canary(
        agent_id,
        main_branch_id,
        str(branch["id"]),
        name,
        plan,
        float(branch.get("current_live_percentage") or 0),
        main_share,
        step,
        int(match.group("since")) if match else None,
        name.endswith(_ROLLED_BACK),
    )


def find_canaries(
    client: ConvaiClient,
    agent_id: str,
    main_branch_id: str | None = None,
    branches: list[dict[str, Any]] | None = None,
) -> list[Canary]:
    """The agent's canary branches (unarchived, description made by a canary apply), running
    or rolled back. Calls ``GET /v1/convai/agents/{id}`` unless ``main_branch_id`` is given
    and ``GET .../branches`` unless ``branches`` (that list, unarchived) is."""
    if main_branch_id is None:
        main_branch_id = str(client.get_agent(agent_id).get("main_branch_id"))
    if branches is None:
        branches = client.list_branches(agent_id)
    main_share = _share_of(branches, main_branch_id)
    found = (_from_branch(agent_id, main_branch_id, b, main_share) for b in branches)
    return [canary for canary in found if canary is not None]


def read_canary(client: ConvaiClient, agent_id: str, branch_id: str) -> Canary | None:
    """One canary branch read afresh (``None`` when it is not a canary, or archived)."""
    return next((c for c in find_canaries(client, agent_id) if c.branch_id == branch_id), None)


def _share_of(branches: list[dict[str, Any]], branch_id: str) -> float:
    branch = next((b for b in branches if b.get("id") == branch_id), None)
    if branch is None:
        return 100.0
    return float(branch.get("current_live_percentage") or 0)


def foreign_split(branches: list[dict[str, Any]], main_branch_id: str) -> dict[str, float]:
    """Branches other than main holding live traffic whose description is not a canary's:
    branch name -> share. Empty when main holds 100% or only canaries share it."""
    return {
        str(b.get("name") or b["id"]): float(b.get("current_live_percentage") or 0)
        for b in branches
        if b.get("id") != main_branch_id
        and float(b.get("current_live_percentage") or 0) > 0
        and parse_description(b.get("description")) is None
    }


def shares_for(
    canary: Canary, branch_share: float, others: Mapping[str, float]
) -> dict[str, float]:
    """The deployment giving the canary ``branch_share`` and main the rest, with ``others``
    (branch id -> share, not main nor the canary) kept. Main listed first. Raises
    ``UsageError`` when the other branches leave main less than ``branch_share``."""
    rest = {k: v for k, v in others.items() if k not in (canary.main_branch_id, canary.branch_id)}
    main = round(100.0 - branch_share - sum(rest.values()), 6)
    if main < 0:
        raise UsageError(
            f"canary {canary.name}: {branch_share:g}% does not fit beside the other live "
            f"branches ({sum(rest.values()):g}%): lower their share or the canary's step"
        )
    return {canary.main_branch_id: main, canary.branch_id: branch_share, **rest}


def rename_for_step(canary: Canary, step: int, now: int) -> str:
    """The branch's name while step ``step`` (0-based) runs since ``now`` (Unix seconds)."""
    steps = len(canary.plan.config.steps)
    return f"{canary.base_name}-canary-{step + 1}-of-{steps}-since-{now}"


def rolled_back_name(canary: Canary) -> str:
    """The branch's name once the canary rolled back."""
    return canary.base_name + _ROLLED_BACK
