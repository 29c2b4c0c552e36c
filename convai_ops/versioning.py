"""What an agent version holds, and what is agent-wide: one definition for client and emulator.

Source: BEHAVIOUR.md "What a version holds" (ElevenLabs agent-versioning docs). A version holds
``conversation_config``, ``workflow`` and a *versioned subset* of ``platform_settings``; the docs
name evaluation, widget, data collection and safety settings. Which fields exactly is inferred;
the stricter reading is taken here: the versioned subset is exactly
:data:`VERSIONED_PLATFORM_SETTINGS`, and every other ``platform_settings`` key (``call_limits``,
``testing`` with its ``attached_tests``, ``privacy``, ``auth``, ``overrides``, ...) is
*agent-wide*: it belongs to the agent, not to a version, so a branch cannot hold it. ``name``
and ``tags`` are agent metadata, not versioned either.

Pure functions on JSON-like values; no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "AGENT_METADATA",
    "VERSIONED_PLATFORM_SETTINGS",
    "is_versioned_path",
    "split_platform_settings",
]

#: ``platform_settings`` keys a version holds (BEHAVIOUR.md "What a version holds").
VERSIONED_PLATFORM_SETTINGS = frozenset({"evaluation", "widget", "data_collection", "safety"})
#: Top-level agent fields that are metadata of the agent, never part of a version.
AGENT_METADATA = frozenset({"name", "tags"})
# Plan-view keys (see convai_ops.plan) standing for fields inside the config.
# prompt locators; attached_tests; the workspace tools prompt.tool_ids names
_VIEW_ALIASES = {"knowledge_base": True, "tests": False, "tools": True}


def is_versioned_path(path: Sequence[str]) -> bool:
    """True when the field at ``path`` (keys from the top of a GET agent body, or a plan view)
    lives on a version, so a branch holds it and tests gate it.

    ``("conversation_config", ...)`` and ``("workflow", ...)``: True; ``("platform_settings",
    key, ...)``: ``key in VERSIONED_PLATFORM_SETTINGS``; ``("name",)``, ``("tags",)``: False.
    The plan view's ``knowledge_base`` (document locators in the prompt) is versioned, its
    ``tests`` (``platform_settings.testing.attached_tests``) is not; its ``tools`` (the tools
    ``prompt.tool_ids`` names) is. ``("platform_settings",)``
    alone (the whole object) counts as versioned: it may hold versioned keys.
    """
    if not path:
        return True
    head = path[0]
    if head in AGENT_METADATA:
        return False
    if head in _VIEW_ALIASES:
        return _VIEW_ALIASES[head]
    if head == "platform_settings" and len(path) > 1:
        return path[1] in VERSIONED_PLATFORM_SETTINGS
    return True


def split_platform_settings(
    settings: Mapping[str, Any] | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(versioned, agent_wide)``: the keys of ``settings`` a version holds, and the rest.

    Values are shared, not copied; ``None`` gives two empty dicts.
    """
    versioned: dict[str, Any] = {}
    agent_wide: dict[str, Any] = {}
    for key, value in (settings or {}).items():
        (versioned if key in VERSIONED_PLATFORM_SETTINGS else agent_wide)[key] = value
    return versioned, agent_wide
