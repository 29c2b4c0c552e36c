"""Break-glass: a change merged into main without its tests (``--skip-tests --reason``), and
how ``plan`` and ``drift`` tell that main holds one.

Two marks, one cheap and one detailed:

- The marker tag :data:`UNTESTED_TAG` (``convai-ops-untested``) on the agent: the metadata
  ``PATCH /v1/convai/agents/{id}`` that apply (and rollback) sends on main after a merge adds
  it after a break-glass merge and removes it after a tested one (:func:`marked_tags`).
  Tags are agent metadata, not versioned, and come with the ``GET /v1/convai/agents/{id}``
  plan and drift already send: an agent without the marker costs no extra request. It has no
  colon, so it never parses as a managed tag ``convai-ops:<slug>``; agent.yaml may not
  declare it, plan never compares it, pull and import never write it.
- The record, in the description of the branch that was merged (``POST
  /v1/convai/agents/{id}/branches`` ``description``, at most 4096 characters), prefixed to the
  usual ``convai-ops apply from <commit>``::

    UNTESTED (--skip-tests) by Ann <ann@example.com>: "payments API down"; convai-ops apply
    from a1b2c3d4e5f6 Fix refund window

It is read back only for agents carrying the marker (:func:`flag_plan`, :func:`flag_drift`):
main's latest merge (``GET .../versions/{id}``, walking back from the tip over at most
:data:`MAX_VERSIONS_WALKED` versions written directly on main, e.g. the metadata PATCH after a
merge or a dashboard edit) names the merged branch version
(``parents.merged_from_version_id``), whose ``branch_id`` names the branch (``GET
.../branches/{branch_id}``) and so its description. A marked agent whose record is not found
is still flagged, as :data:`DETAILS_NOT_FOUND`. A later tested apply (or rollback) merges a
branch without the prefix and removes the marker: the flag is gone. Writes made directly on
main (an apply changing only unversioned fields) leave the marker as it is: main still holds
the untested merge.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Collection, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from convai_ops.errors import MissingReasonError, NotFoundError, UsageError
from convai_ops.state import UNTESTED_TAG

if TYPE_CHECKING:
    from convai_ops.api import ConvaiClient
    from convai_ops.drift import DriftReport
    from convai_ops.plan import Plan
    from convai_ops.state import Snapshot

__all__ = [
    "DETAILS_NOT_FOUND",
    "MAX_DESCRIPTION",
    "MAX_REASON",
    "MAX_VERSIONS_WALKED",
    "UNTESTED_PREFIX",
    "UNTESTED_TAG",
    "BreakGlass",
    "UntestedChange",
    "break_glass",
    "find_untested",
    "find_untested_many",
    "flag_drift",
    "flag_plan",
    "marked_slugs",
    "marked_tags",
    "parse_untested",
    "with_marker",
]

UNTESTED_PREFIX = "UNTESTED (--skip-tests)"
#: The API's bound on a branch description (spec: ``maxLength`` 4096).
MAX_DESCRIPTION = 4096
#: The longest ``--reason`` accepted, so the description keeps its commit part.
MAX_REASON = 1000
#: Versions written directly on main that the read-back walks past looking for the last merge.
MAX_VERSIONS_WALKED = 5
#: What plan and drift say of a marked agent whose record the walk did not find.
DETAILS_NOT_FOUND = "details not found"

_RECORD = re.compile(
    rf"^{re.escape(UNTESTED_PREFIX)} by (?P<operator>.*?): (?P<reason>\"(?:[^\"\\]|\\.)*\")"
)


@dataclass(frozen=True)
class BreakGlass:
    """A break-glass run: the ``reason`` given and the ``operator`` (git ``user.name
    <user.email>``, else ``$USER``)."""

    reason: str
    operator: str

    def describe(self, base: str) -> str:
        """``base`` (the branch description a tested run writes) prefixed with the record;
        at most :data:`MAX_DESCRIPTION` characters."""
        record = f"{UNTESTED_PREFIX} by {self.operator}: {json.dumps(self.reason)}; {base}"
        return record[:MAX_DESCRIPTION]


def break_glass(skip_tests: bool, reason: str | None, root: Path) -> BreakGlass | None:
    """The ``BreakGlass`` of ``--skip-tests --reason`` (``None`` without ``--skip-tests``).

    Raises ``MissingReasonError`` (exit 2) for ``--skip-tests`` without a non-blank reason,
    ``UsageError`` for ``--reason`` without ``--skip-tests`` or a reason over
    :data:`MAX_REASON` characters. Reads only the git config (no API call)."""
    if not skip_tests:
        if reason is not None:
            raise UsageError("--reason is only for --skip-tests (break-glass); drop it")
        return None
    text = (reason or "").strip()
    if not text:
        raise MissingReasonError(
            "--skip-tests merges into main without running tests: give --reason TEXT "
            '(e.g. --reason "test service down, hotfix for refunds"); nothing was sent'
        )
    if len(text) > MAX_REASON:
        raise UsageError(f"--reason is {len(text)} characters; at most {MAX_REASON}")
    return BreakGlass(text, _operator(root))


def _operator(root: Path) -> str:
    from convai_ops.git import git_user

    return git_user(root) or os.environ.get("USER") or os.environ.get("USERNAME") or "unknown"


@dataclass(frozen=True)
class UntestedChange:
    """What main's last merge recorded as untested: ``operator`` and ``reason``."""

    operator: str
    reason: str

    @property
    def summary(self) -> str:
        """``--skip-tests by Ann <ann@example.com>: "payments API down"``."""
        return f"--skip-tests by {self.operator}: {json.dumps(self.reason, ensure_ascii=False)}"


def parse_untested(description: str | None) -> UntestedChange | None:
    """The record a break-glass run wrote at the start of ``description``, or ``None``."""
    found = _RECORD.match(description or "")
    if found is None:
        return None
    return UntestedChange(found["operator"], str(json.loads(found["reason"])))


def find_untested(client: ConvaiClient, agent_id: str, tip: str | None) -> UntestedChange | None:
    """Whether main's last merge (walking back from version ``tip``) was a break-glass one.

    Calls ``GET /v1/convai/agents/{id}/versions/{version_id}`` per version walked (at most
    :data:`MAX_VERSIONS_WALKED`), then once for the merged branch version and ``GET
    .../branches/{branch_id}``. Returns ``None`` when the last merge was tested, none is found
    in the walk, or an answer lacks what is needed; raises the client's ``ApiError`` otherwise."""
    current = tip
    for _ in range(MAX_VERSIONS_WALKED):
        if not current:
            return None
        parents = client.get_version(agent_id, current).get("parents") or {}
        merged = parents.get("merged_from_version_id")
        if merged:
            return _merged_branch_record(client, agent_id, str(merged))
        current = parents.get("in_branch_parent_id")
    return None


def _merged_branch_record(
    client: ConvaiClient, agent_id: str, version_id: str
) -> UntestedChange | None:
    branch_id = client.get_version(agent_id, version_id).get("branch_id")
    if not branch_id:
        return None
    try:
        description = client.get_branch(agent_id, str(branch_id)).get("description")
    except NotFoundError:  # the merged branch was deleted: nothing left to read
        return None
    return parse_untested(description if isinstance(description, str) else None)


def with_marker(tags: Iterable[str], untested: bool) -> list[str]:
    """``tags`` sorted, with the marker :data:`UNTESTED_TAG` when ``untested``, else without."""
    others = {str(t) for t in tags if t != UNTESTED_TAG}
    return sorted({*others, UNTESTED_TAG} if untested else others)


def marked_tags(tags: Iterable[str] | None, untested: bool) -> list[str] | None:
    """The live ``tags`` :func:`with_marker`, or ``None`` when they already carry the marker
    as ``untested`` says (nothing to write)."""
    live = [str(t) for t in tags or ()]
    return None if (UNTESTED_TAG in live) == untested else with_marker(live, untested)


def marked_slugs(snapshot: Snapshot) -> frozenset[str]:
    """The slugs whose live agent (as ``snapshot`` read it) carries :data:`UNTESTED_TAG`."""
    return frozenset(
        slug
        for slug, remote in snapshot.agents.items()
        if remote is not None and UNTESTED_TAG in (remote.config.get("tags") or ())
    )


def find_untested_many(
    client: ConvaiClient, mains: Mapping[str, tuple[str, str | None]], concurrency: int = 8
) -> dict[str, str]:
    """``{slug: summary}`` for the marked agents ``{slug: (agent_id, main version_id)}``:
    :attr:`UntestedChange.summary` of the record :func:`find_untested` finds, else
    :data:`DETAILS_NOT_FOUND`. The look-ups run ``concurrency`` at a time."""
    if not mains:
        return {}
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        found = {
            slug: pool.submit(find_untested, client, agent_id, version)
            for slug, (agent_id, version) in mains.items()
        }
        results = {slug: future.result() for slug, future in found.items()}
    return {slug: c.summary if c else DETAILS_NOT_FOUND for slug, c in results.items()}


def flag_plan(
    client: ConvaiClient, plan: Plan, marked: Collection[str], concurrency: int = 8
) -> Plan:
    """``plan`` with ``AgentPlan.untested`` set for each existing agent of ``marked``
    (:func:`marked_slugs`): main holds an untested change. Reads the record only for those
    (:func:`find_untested_many`); no request when ``marked`` is empty."""
    mains = {
        a.slug: (a.agent_id, a.base_version_id)
        for a in plan.agents
        if a.agent_id and a.slug in marked
    }
    found = find_untested_many(client, mains, concurrency)
    agents = tuple(
        a.model_copy(update={"untested": found[a.slug]}) if a.slug in found else a
        for a in plan.agents
    )
    return plan.model_copy(update={"agents": agents})


def flag_drift(
    client: ConvaiClient, report: DriftReport, marked: Collection[str], concurrency: int = 8
) -> DriftReport:
    """``report`` with ``AgentDrift.untested`` set like :func:`flag_plan`."""
    mains = {
        a.slug: (a.agent_id, a.version_id) for a in report.agents if a.agent_id and a.slug in marked
    }
    found = find_untested_many(client, mains, concurrency)
    agents = tuple(
        replace(a, untested=found[a.slug]) if a.slug in found else a for a in report.agents
    )
    return replace(report, agents=agents)
