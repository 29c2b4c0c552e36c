"""What apply writes outside a branch: fields no agent version holds.

``name`` and ``tags`` (agent metadata), the agent-wide ``platform_settings`` and the attached
tests (``platform_settings.testing.attached_tests``) are not part of a version
(:mod:`convai_ops.versioning`, BEHAVIOUR.md "What a version holds"): written on a branch they
would reach the live agent at once, untested, or be dropped. So a branch carries only the
versioned config (:func:`versioned_platform_settings`), and these fields are written on main
with one ``PATCH /v1/convai/agents/{id}`` without ``branch_id`` (:func:`unversioned_body`):
after the merge, or directly when nothing versioned changed. Pure functions; no API call.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from convai_ops.breakglass import with_marker
from convai_ops.state import UNTESTED_TAG, managed_tag
from convai_ops.versioning import split_platform_settings

if TYPE_CHECKING:
    from convai_ops.plan import AgentPlan
    from convai_ops.spec import AgentSpec
    from convai_ops.testing import SyncedTest

__all__ = ["needs_tests", "unversioned_body", "versioned_platform_settings"]

_SETTINGS_PATHS = frozenset({"platform_settings", "tests"})


def versioned_platform_settings(desired: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of the versioned subset of ``desired["platform_settings"]`` (what a branch
    may carry); ``desired`` is ``AgentSpec.desired(env)``."""
    versioned = split_platform_settings(desired.get("platform_settings"))[0]
    return copy.deepcopy(versioned)


def needs_tests(planned: AgentPlan) -> bool:
    """True when the unversioned write attaches tests, so they must exist first."""
    return any(c.path[0] == "tests" for c in planned.ungated)


def unversioned_body(
    spec: AgentSpec,
    env: str,
    planned: AgentPlan,
    tests: Sequence[SyncedTest],
    *,
    live_tags: Sequence[str] = (),
    untested: bool | None = None,
) -> dict[str, Any]:
    """The PATCH body for main holding the plan's ungated changes, ``{}`` when there are none.

    ``name`` / ``tags`` when changed (not for a new agent: its shell was created with them;
    undeclared tags change only to re-tag an agent after ``convai-ops mv``);
    when any agent-wide setting or the attached tests changed, every declared agent-wide
    ``platform_settings`` field, plus ``testing.attached_tests`` (``[{"test_id"}]`` of
    ``tests``) when the attached tests changed.

    ``untested`` sets the break-glass marker tag (``breakglass.UNTESTED_TAG``) on main:
    ``True`` after a ``--skip-tests`` merge, ``False`` after a tested one, ``None`` to keep it
    as ``live_tags`` (main's tags as read) have it. ``tags`` is then sent whenever the marker
    changes, even when nothing declared did (main's other tags are kept).
    """
    fields = {c.path[0] for c in planned.ungated}
    desired = spec.desired(env)
    body: dict[str, Any] = {}
    if "name" in fields and planned.action != "create":
        body["name"] = desired.get("name")
    marked = UNTESTED_TAG in live_tags if untested is None else untested
    if "tags" in fields and planned.action != "create":
        body["tags"] = with_marker(_tags(spec, desired, planned), marked)
    elif (UNTESTED_TAG in live_tags) != marked:
        body["tags"] = with_marker(live_tags, marked)
    if fields & _SETTINGS_PATHS:
        attach = tests if "tests" in fields else None
        body["platform_settings"] = _agent_wide_settings(desired, attach)
    return body


def _tags(spec: AgentSpec, desired: Mapping[str, Any], planned: AgentPlan) -> list[str]:
    """The declared tags and the managed one; when ``tags:`` is not declared (a re-tag after
    ``convai-ops mv``), the live tags as the plan's change leaves them."""
    if "tags" in desired:
        return sorted({*desired["tags"], managed_tag(spec.slug)})
    change = next(c for c in planned.ungated if c.path == ("tags",))
    return list(change.after)


def _agent_wide_settings(
    desired: Mapping[str, Any], tests: Sequence[SyncedTest] | None
) -> dict[str, Any]:
    settings = copy.deepcopy(split_platform_settings(desired.get("platform_settings"))[1])
    if tests is not None:
        testing = settings.setdefault("testing", {})
        testing["attached_tests"] = [{"test_id": t.test_id} for t in tests]
    return settings
