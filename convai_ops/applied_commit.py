"""Which commit of the repository an agent's main holds: the one convai-ops recorded when it
applied.

``apply`` names its branch ``convai-ops apply from <sha> <subject>`` (the branch's
``description``: ``stage.ApplyOptions.from_settings``); the merge makes a version on main whose
``parents.merged_from_branch_id`` is that branch. A version written straight on main may carry
the same words in its ``version_description``. :func:`find_applied` walks main's versions back
from its tip (``GET /v1/convai/agents/{id}/versions/{version_id}``, at most
:data:`MAX_VERSIONS_WALKED`), past versions that record nothing (dashboard edits, apply's
metadata writes after a merge), reading a merged branch's description where there is one
(``GET /v1/convai/agents/{id}/branches/{branch_id}``), to the first recorded commit.

The commit is *unknown* (``AppliedCommit.sha`` is ``None`` with a ``note`` saying why) when
no version in the walk records one, the local clone lacks it, or the apply ran with
uncommitted changes (the commit then does not hold what was applied).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convai_ops.git import find_commit

if TYPE_CHECKING:
    from convai_ops.api import ConvaiClient

__all__ = ["MAX_VERSIONS_WALKED", "AppliedCommit", "find_applied", "recorded_commit"]

MAX_VERSIONS_WALKED = 20
_RECORDED = re.compile(r"\bconvai-ops\b[^\n]*?\bfrom ([0-9a-f]{7,40})\b")
_DIRTY = "(uncommitted changes)"


@dataclass(frozen=True)
class AppliedCommit:
    """``sha``: the full sha of the commit main was applied from, ``None`` when unknown;
    ``recorded``: the description that named it (if any); ``note``: why it is unknown."""

    sha: str | None
    recorded: str | None = None
    note: str = ""


def recorded_commit(description: Any) -> str | None:
    """The (abbreviated) sha a ``convai-ops ... from <sha>`` description records, else
    ``None``."""
    found = _RECORDED.search(description) if isinstance(description, str) else None
    return found[1] if found else None


def find_applied(
    client: ConvaiClient, agent_id: str, version_id: str | None, root: Path
) -> AppliedCommit:
    """The commit main's version ``version_id`` of agent ``agent_id`` was applied from, as
    the repository at ``root`` knows it (see the module docstring). Raises the ``ApiError``
    of a failed read."""
    description = _walk(client, agent_id, version_id)
    if description is None:
        walked = f"main's last {MAX_VERSIONS_WALKED} versions"
        return AppliedCommit(None, note=f"no convai-ops apply is recorded on {walked}")
    short = str(recorded_commit(description))
    if _DIRTY in description:
        note = f"the apply from {short} ran with uncommitted changes"
        return AppliedCommit(None, description, note)
    sha = find_commit(root, short)
    if sha is None:
        note = f"the applied commit {short} is not in this clone (fetch the history)"
        return AppliedCommit(None, description, note)
    return AppliedCommit(sha, description)


def _walk(client: ConvaiClient, agent_id: str, version_id: str | None) -> str | None:
    """The first description recording a commit, from main's tip back; ``None`` if none."""
    current = version_id
    for _ in range(MAX_VERSIONS_WALKED):
        if not current:
            return None
        version = client.get_version(agent_id, current)
        found = _recorded_by(client, agent_id, version)
        if found:
            return found
        current = (version.get("parents") or {}).get("in_branch_parent_id")
    return None


def _recorded_by(client: ConvaiClient, agent_id: str, version: Mapping[str, Any]) -> str | None:
    own = version.get("version_description")
    if recorded_commit(own):
        return str(own)
    merged = (version.get("parents") or {}).get("merged_from_branch_id")
    if not merged:
        return None
    branch = client.get_branch(agent_id, str(merged)).get("description")
    return str(branch) if recorded_commit(branch) else None
