"""Which agent branches use a knowledge-base document or a tool, and removing such uses.

A branch *uses* a document when the tip version's ``conversation_config.agent.prompt.
knowledge_base`` has a locator with its id, and a tool when ``prompt.tool_ids`` holds its id.
Archived branches are not counted. Removing a use commits a new version on the branch.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from convai_ops.emulator.agents import commit_version
from convai_ops.emulator.core import ACCESS_INFO, Emulator
from convai_ops.emulator.problems import conflict
from convai_ops.emulator.store import Agent, Branch

__all__ = [
    "agent_entries",
    "branch_entries",
    "drop_document",
    "drop_tool",
    "refuse_if_used",
    "users_of_document",
    "users_of_tool",
]

Users = list[tuple[Agent, Branch]]


def _prompt(config: dict[str, Any]) -> dict[str, Any]:
    prompt = config.get("conversation_config", {}).get("agent", {}).get("prompt", {})
    return prompt if isinstance(prompt, dict) else {}


def _users(emu: Emulator, uses: Callable[[dict[str, Any]], bool]) -> Users:
    found: Users = []
    for branch in emu.store.branches.values():
        version = emu.store.versions.get(branch.tip_version_id)
        if not branch.is_archived and version is not None and uses(_prompt(version.config)):
            found.append((emu.store.agents[branch.agent_id], branch))
    return found


def users_of_document(emu: Emulator, document_id: str) -> Users:
    """Return ``(agent, branch)`` pairs whose tip references the document."""
    return _users(
        emu,
        lambda prompt: any(
            isinstance(item, dict) and item.get("id") == document_id
            for item in prompt.get("knowledge_base") or []
        ),
    )


def users_of_tool(emu: Emulator, tool_id: str) -> Users:
    """Return ``(agent, branch)`` pairs whose tip lists the tool in ``tool_ids``."""
    return _users(emu, lambda prompt: tool_id in (prompt.get("tool_ids") or []))


def agent_entries(users: Users) -> list[dict[str, Any]]:
    """The ``agents`` of a dependent-agents answer (``DependentAvailableAgentIdentifier``):
    each agent once, with the emulated key's access level (its role, ``ACCESS_INFO``)."""
    agents = {agent.id: agent for agent, _ in users}
    return [
        {
            "id": agent.id,
            "name": agent.name,
            "type": "available",
            "created_at_unix_secs": agent.created_at,
            "access_level": ACCESS_INFO["role"],
        }
        for agent in agents.values()
    ]


def branch_entries(users: Users) -> list[dict[str, Any]]:
    """The ``branches`` of a dependent-agents answer: one entry per ``(agent, branch)`` user."""
    return [
        {
            "agent_id": agent.id,
            "agent_name": agent.name,
            "branch_id": branch.id,
            "branch_name": branch.name,
            "is_main": branch.id == agent.main_branch_id,
        }
        for agent, branch in users
    ]


def refuse_if_used(users: Users, kind: str, ident: str) -> None:
    """Raise ``409 <kind>_in_use`` naming the agents when ``users`` is not empty."""
    if users:
        names = ", ".join(sorted({agent.id for agent, _ in users}))
        raise conflict(
            f"{kind.replace(' ', '_').replace('-', '_')}_in_use",
            f"The {kind} {ident!r} is used by agents {names}; delete with force=true to "
            "remove it from them.",
        )


def _edit_tips(
    emu: Emulator, users: Users, edit: Callable[[dict[str, Any]], None], description: str
) -> None:
    for _, branch in users:
        config = copy.deepcopy(emu.store.versions[branch.tip_version_id].config)
        edit(_prompt(config))
        commit_version(emu, branch, config, description, {})


def drop_document(emu: Emulator, document_id: str) -> None:
    """Remove the document's locators from every branch tip using it (one commit each)."""

    def edit(prompt: dict[str, Any]) -> None:
        prompt["knowledge_base"] = [
            item
            for item in prompt.get("knowledge_base") or []
            if not (isinstance(item, dict) and item.get("id") == document_id)
        ]

    _edit_tips(
        emu,
        users_of_document(emu, document_id),
        edit,
        f"Removed knowledge-base document {document_id}",
    )


def drop_tool(emu: Emulator, tool_id: str) -> None:
    """Remove the tool from ``tool_ids`` of every branch tip using it (one commit each)."""

    def edit(prompt: dict[str, Any]) -> None:
        prompt["tool_ids"] = [item for item in prompt.get("tool_ids") or [] if item != tool_id]

    _edit_tips(emu, users_of_tool(emu, tool_id), edit, f"Removed tool {tool_id}")
