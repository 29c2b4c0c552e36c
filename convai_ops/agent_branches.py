"""Agent branch names and lookups, under the API's documented limits.

- **Names.** The versioning docs allow letters, numbers and ``( ) [ ] { } - / .`` only, at most
  140 characters (BEHAVIOUR.md "Versions and branches"). :func:`require_branch_name` refuses
  any other name offline (``UsageError``, nothing sent); :func:`sanitise_branch_name` turns a
  git branch name into a valid one.
- **Lookups.** ``GET /v1/convai/agents/{id}/branches`` answers at most ``limit`` (100) branches
  and has no cursor, so a list that came back full proves nothing about absence.
  :func:`find_branch` looks by id (``GET .../branches/{branch_id}``), or by name among the
  unarchived branches first, then among all, and says whether its "not found" is certain.
  :func:`create_named_branch` turns the taken name such a list hid (409) into one clear line;
  :func:`archive_matching` lists again after archiving, as archived branches leave the list.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from convai_ops.errors import ConflictError, NotFoundError, UsageError

if TYPE_CHECKING:
    from convai_ops.api import ConvaiClient

__all__ = [
    "LIST_LIMIT",
    "MAX_ARCHIVE_ROUNDS",
    "MAX_BRANCH_NAME",
    "BranchLookup",
    "archive_matching",
    "create_named_branch",
    "find_branch",
    "is_branch_id",
    "is_valid_branch_name",
    "not_found_message",
    "require_branch_name",
    "require_branch_ref",
    "sanitise_branch_name",
]

MAX_BRANCH_NAME = 140
#: The most branches one ``GET .../branches`` answers (the document's maximum ``limit``).
LIST_LIMIT = 100
_VALID = re.compile(r"[A-Za-z0-9()\[\]{}/.-]+")
_ID = re.compile(r"[a-z]+_[A-Za-z0-9]+")
_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")
_ALLOWED = "letters, numbers and ( ) [ ] { } - / ."


def is_valid_branch_name(name: str) -> bool:
    """True when the API accepts ``name`` as a branch name (1-140 documented characters)."""
    return len(name) <= MAX_BRANCH_NAME and _VALID.fullmatch(name) is not None


def is_branch_id(value: str) -> bool:
    """True for a branch id such as ``agtbrch_8901k4t9z5defmb8vh3e9361y7nj``: ids hold an
    ``_``, which no valid branch name does."""
    return _ID.fullmatch(value) is not None


def require_branch_name(name: str, flag: str) -> str:
    """Return ``name`` if the API would accept it; else raise ``UsageError`` in one line
    naming ``flag`` and the characters it may not hold."""
    if len(name) > MAX_BRANCH_NAME:
        raise UsageError(f"{flag}: a branch name has at most {MAX_BRANCH_NAME} characters")
    if not _VALID.fullmatch(name):
        bad = sorted({char for char in name if not _VALID.fullmatch(char)})
        found = ", ".join(repr(char) for char in bad) or "an empty name"
        raise UsageError(
            f"{flag} {name!r}: a branch name may contain only {_ALLOWED} (found {found})"
        )
    return name


def require_branch_ref(value: str, flag: str) -> str:
    """Return ``value`` if it is a branch id or a valid branch name, else raise
    ``UsageError`` (see :func:`require_branch_name`)."""
    return value if is_branch_id(value) else require_branch_name(value, flag)


def sanitise_branch_name(raw: str, prefix: str) -> str:
    """``prefix + raw`` with every run of characters other than ASCII letters, digits, ``.``
    and ``-`` turned into ``-`` (so ``feature/my_fix`` gives ``feature-my-fix``), cut to 140
    characters. Raises ``UsageError`` when nothing usable is left."""
    cleaned = _UNSAFE.sub("-", raw).strip("-.")
    if not cleaned:
        raise UsageError(f"cannot make an agent branch name from {raw!r}: pass --branch-name")
    return f"{prefix}{cleaned}"[:MAX_BRANCH_NAME]


@dataclass(frozen=True)
class BranchLookup:
    """A branch looked up: ``found`` (the API's branch object) or ``None``; ``complete`` is
    False when a list came back full, so ``None`` does not prove the branch is absent."""

    found: dict[str, Any] | None
    complete: bool


def find_branch(client: ConvaiClient, agent_id: str, ref: str) -> BranchLookup:
    """Look up the agent's branch ``ref`` (an id, or a name).

    An id: ``GET /v1/convai/agents/{agent_id}/branches/{ref}`` (404: certainly absent). A
    name: ``GET .../branches`` unarchived, then with ``include_archived`` (each at most 100).
    Raises the ``ApiError`` of a failed call (404 for an unknown agent).
    """
    if is_branch_id(ref):
        try:
            return BranchLookup(client.get_branch(agent_id, ref), True)
        except NotFoundError:
            return BranchLookup(None, True)
    complete = True
    for archived in (False, True):
        listed = client.list_branches(agent_id, include_archived=archived, limit=LIST_LIMIT)
        found = next((b for b in listed if b.get("name") == ref), None)
        if found is not None:
            return BranchLookup(found, True)
        complete = complete and len(listed) < LIST_LIMIT
    return BranchLookup(None, complete)


def not_found_message(agent_id: str, ref: str, lookup: BranchLookup) -> str:
    """One line saying the agent has no branch ``ref``, or that the capped list could not
    show it (and what to do)."""
    if lookup.complete:
        return f"agent {agent_id} has no branch {ref!r}"
    return (
        f"agent {agent_id} has no branch {ref!r} among the {LIST_LIMIT} branches the API lists "
        "(the list is capped and has no cursor): pass the branch id instead, or archive old "
        "branches of this agent"
    )


def create_named_branch(
    client: ConvaiClient,
    agent_id: str,
    *,
    parent_version_id: str,
    name: str,
    description: str,
    change: Mapping[str, Any],
    who: str,
) -> dict[str, Any]:
    """Create branch ``name`` from ``parent_version_id`` with ``change``
    (``conversation_config`` / ``platform_settings`` / ``workflow``); return ``{"created_branch_id",
    "created_version_id"}``. Calls ``POST /v1/convai/agents/{agent_id}/branches``. A taken name
    (409: a branch no capped list showed) raises ``UsageError`` naming ``who``, the agent and
    the branch; other failures raise their ``ApiError``."""
    try:
        return client.create_branch(
            agent_id,
            parent_version_id=parent_version_id,
            name=name,
            description=description,
            conversation_config=change.get("conversation_config"),
            platform_settings=change.get("platform_settings"),
            workflow=change.get("workflow"),
        )
    except ConflictError:
        raise UsageError(
            f"{who}: agent {agent_id} already has a branch named {name!r}, but the API's "
            f"branch list (at most {LIST_LIMIT}, no cursor) does not show it: archive old "
            "branches of this agent (`convai-ops apply --cleanup` archives apply's own), or "
            "pass another --branch-name"
        ) from None


#: Bound on :func:`archive_matching`'s list-and-archive rounds (100 branches a round).
MAX_ARCHIVE_ROUNDS = 50


def archive_matching(
    client: ConvaiClient,
    agent_id: str,
    matches: Callable[[str], bool],
    report: Callable[[str], None],
) -> int:
    """Archive every unarchived branch of the agent whose name ``matches``; return how many.

    ``GET /v1/convai/agents/{agent_id}/branches`` (unarchived, at most 100), then ``PATCH
    .../branches/{branch_id}`` with ``is_archived`` for each; an archived branch leaves the
    capped list, so it is listed again while it came back full. When a full list holds no
    match, ``report`` says branches beyond it may be left. Raises the ``ApiError`` of a call.
    """
    archived = 0
    for _ in range(MAX_ARCHIVE_ROUNDS):
        listed = client.list_branches(agent_id, limit=LIST_LIMIT)
        chosen = [b for b in listed if not b.get("is_archived") and matches(str(b["name"]))]
        for branch in chosen:
            client.update_branch(agent_id, str(branch["id"]), is_archived=True)
            report(f"archived branch {branch['name']} ({branch['id']})")
        archived += len(chosen)
        if len(listed) < LIST_LIMIT:
            return archived
        if not chosen:
            break
    report(
        f"note: agent {agent_id} has more than {LIST_LIMIT} unarchived branches and the API "
        f"lists only {LIST_LIMIT}: matching branches beyond them may be left; archive old "
        "branches in the dashboard"
    )
    return archived
