"""Live traffic splits: ``POST /v1/convai/agents/{agent_id}/deployments`` and what follows from it.

BEHAVIOUR.md "Live traffic": main receives 100% of live conversations unless a split is
configured; the shares must total 100; conversations are assigned to branches deterministically
by conversation id; each branch reports ``current_live_percentage``.

- **The request is the whole split.** ``deployment_request.requests`` lists each branch with
  ``{"type": "percentage", "traffic_percentage": P}`` (0-100, the schema's bounds). The shares
  must total 100 (within 1e-6), each branch at most once, each branch an unarchived branch of
  the agent; otherwise ``422`` at the offending ``loc`` and nothing changes. A branch the
  request does not list gets 0%. Listing only main at 100 removes the split.
- **Answer.** ``AgentDeploymentResponse`` ``{"traffic_percentage_branch_id_map": {branch_id:
  P}}``: the agent's split after the request, every listed branch (0% ones included).
- **Reading the split.** There is no GET in the document: ``current_live_percentage`` of each
  branch (branch list and ``GET .../branches/{id}``) is its share; main holds 100 and every
  other branch 0 while no split exists.
- **Assignment** (:func:`assign`): the conversation id's SHA-256 gives a point in [0, 100); the
  split's branches, ordered by id, take consecutive intervals of their share; the branch whose
  interval holds the point takes the conversation. Same id and split -> same branch.
- **Archiving a live branch** (a ``PATCH`` with ``is_archived: true``, or a merge with
  ``archive_source_branch: true``) is not documented. Knob ``live_branch_archive``:
  ``"refuse"`` (default, the stricter reading) answers ``400 branch_has_live_traffic`` and
  changes nothing while the branch's share is above 0 (set the split first); ``"to-main"``
  archives it and gives its share to main (a caller never reaches an archived branch).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from typing import Any

from convai_ops.emulator.core import Emulator
from convai_ops.emulator.problems import InvalidRequest, bad_request
from convai_ops.emulator.store import Agent, Branch

__all__ = [
    "FULL_SHARE",
    "assign",
    "check_archivable",
    "deploy",
    "live_share",
    "release_archived",
    "split_of",
]

FULL_SHARE = 100.0
_TOLERANCE = 1e-6
_ROOT: list[str | int] = ["body", "deployment_request", "requests"]


def split_of(agent: Agent) -> dict[str, float]:
    """The agent's split as ``{branch_id: percentage}``: ``{main: 100}`` without one."""
    return dict(agent.traffic_split) or {agent.main_branch_id: FULL_SHARE}


def live_share(agent: Agent, branch_id: str) -> float:
    """``current_live_percentage`` of ``branch_id`` (0-100)."""
    return split_of(agent).get(branch_id, 0.0)


def deploy(emu: Emulator, agent: Agent, body: Mapping[str, Any]) -> dict[str, float]:
    """Replace the agent's split with the request ``body`` (schema-checked already) and return
    the new split. Raises :class:`InvalidRequest` (422) for a repeated, unknown or archived
    branch, or shares not totalling 100. Call under ``emu.lock``."""
    requests = list(body["deployment_request"]["requests"])
    wanted: dict[str, float] = {}
    for index, item in enumerate(requests):
        branch_id = str(item["branch_id"])
        _check_branch(emu, agent, branch_id, index, repeated=branch_id in wanted)
        wanted[branch_id] = float(item["deployment_strategy"]["traffic_percentage"])
    total = math.fsum(wanted.values())
    if not math.isclose(total, FULL_SHARE, abs_tol=_TOLERANCE):
        raise InvalidRequest.one(
            list(_ROOT),
            f"traffic percentages must total 100 (these total {total:g})",
            "value_error",
        )
    only_main = wanted.get(agent.main_branch_id) == FULL_SHARE
    agent.traffic_split = {} if only_main else wanted
    return dict(wanted)


def _check_branch(
    emu: Emulator, agent: Agent, branch_id: str, index: int, *, repeated: bool
) -> None:
    loc: list[str | int] = [*_ROOT, index, "branch_id"]
    branch = emu.store.branches.get(branch_id)
    if repeated:
        raise InvalidRequest.one(loc, f"branch {branch_id!r} is listed twice", "value_error")
    if branch is None or branch.agent_id != agent.id:
        message = f"agent {agent.id!r} has no branch {branch_id!r}"
        raise InvalidRequest.one(loc, message, "value_error")
    if branch.is_archived:
        message = f"branch {branch_id!r} is archived; it cannot take live traffic"
        raise InvalidRequest.one(loc, message, "value_error")


def check_archivable(emu: Emulator, agent: Agent, branch: Branch) -> None:
    """Before ``branch`` is archived: raise ``400 branch_has_live_traffic`` when it holds a
    share above 0 and ``live_branch_archive`` is ``"refuse"``."""
    share = live_share(agent, branch.id)
    if share > 0 and emu.config.live_branch_archive == "refuse":
        raise bad_request(
            "branch_has_live_traffic",
            f"Branch {branch.name!r} of agent {agent.id!r} receives {share:g}% of live "
            "traffic; deploy that traffic to other branches before archiving it.",
        )


def release_archived(agent: Agent, branch: Branch) -> None:
    """Once ``branch`` is archived, its share (if any) goes to main (``"to-main"``)."""
    split = split_of(agent)
    moved = split.pop(branch.id, 0.0)
    if moved <= 0 or branch.id == agent.main_branch_id:
        return
    split[agent.main_branch_id] = split.get(agent.main_branch_id, 0.0) + moved
    only_main = math.isclose(split[agent.main_branch_id], FULL_SHARE, abs_tol=_TOLERANCE)
    agent.traffic_split = {} if only_main else split


def assign(split: Mapping[str, float], conversation_id: str) -> str:
    """The branch of ``split`` (``{branch_id: percentage}``, totalling 100) that takes the
    conversation ``conversation_id``: see the module docstring."""
    digest = hashlib.sha256(conversation_id.encode()).digest()
    point = int.from_bytes(digest[:8], "big") / 2**64 * FULL_SHARE
    live = [(branch_id, share) for branch_id, share in sorted(split.items()) if share > 0]
    reached = 0.0
    for branch_id, share in live:
        reached += share
        if point < reached:
            return branch_id
    return live[-1][0]
