"""Agents and their versions: create, read at a branch or version, patch (commit), delete.

Semantics the emulator implements (the API document is silent on most of them):

- An agent has a main branch named ``Main``; creating the agent commits version 1 on it.
- Every PATCH commits a new version on the branch it names (default: main). Nested objects of
  ``conversation_config`` / ``platform_settings`` are deep-merged, lists and scalars replaced
  (see :mod:`convai_ops.emulator.configtree`); ``workflow`` is replaced. ``name`` and ``tags``
  belong to the agent, not to a version.
- A version holds only the versioned subset of ``platform_settings``
  (:mod:`convai_ops.versioning`); the agent-wide rest is stored on the agent
  (``Agent.agent_wide``). Written at creation or on main they are stored there; written on
  another branch (branch creation, PATCH with ``branch_id``) they take effect on the live agent
  at once (``agent_wide_on_branch="live"``, the default) or are ignored (``"dropped"``). A GET
  at any branch or version shows the agent's current agent-wide values with that version's
  versioned subset.
- Reading an agent gives its stored config deep-merged over the server defaults taken from the
  OpenAPI schema's ``default`` values (:func:`resolved_config`).
- With ``protect_main`` the main branch is created protected (``admin_perms_required``).
- ``enable_versioning=false`` at creation makes an agent whose ``version_id``, ``branch_id`` and
  ``main_branch_id`` read ``null`` and whose branch endpoints answer 400, until a PATCH with
  ``enable_versioning_if_not_enabled`` (default true) turns versioning on.
"""

from __future__ import annotations

import copy
from typing import Any

from convai_ops.emulator.configtree import deep_merge
from convai_ops.emulator.core import Emulator
from convai_ops.emulator.problems import bad_request, not_found
from convai_ops.emulator.rag import start_for_config
from convai_ops.emulator.schema import over_defaults, prune, shared_defaults
from convai_ops.emulator.store import Agent, Branch, Version
from convai_ops.spec.defaults import fill_defaults
from convai_ops.versioning import split_platform_settings

__all__ = [
    "ADMIN_ONLY",
    "CONFIG_SECTIONS",
    "agent_config",
    "agent_wide_change",
    "commit_version",
    "create_agent",
    "delete_agent",
    "find_agent",
    "find_branch",
    "find_version",
    "patched_config",
    "require_versioned",
    "resolved_config",
    "resolved_value",
    "resolved_versioned",
    "update_agent",
    "version_at",
    "write_agent_wide",
]

CONFIG_SECTIONS = ("conversation_config", "platform_settings", "workflow")
_SECTION_SCHEMAS = {
    "conversation_config": "ConversationalConfigAPIModel-Output",
    "platform_settings": "AgentPlatformSettingsResponseModel",
}
_REQUEST_SCHEMAS = {
    "conversation_config": "ConversationalConfigAPIModel-Input",
    "platform_settings": "AgentPlatformSettingsRequestModel",
}
_WORKFLOW_BASE: dict[str, Any] = {"edges": {}, "prevent_subagent_loops": False}
_WORKFLOW_SCHEMA = "AgentWorkflowResponseModel"
#: ``BranchProtectionStatus`` of a protected branch: merging into it needs admin permissions.
ADMIN_ONLY = "admin_perms_required"


def resolved_config(stored: dict[str, Any]) -> dict[str, Any]:
    """Return ``stored`` (a version's config) deep-merged over the server defaults.

    ``workflow`` stays ``{}`` when none was stored (the document requires a non-empty ``nodes``);
    a stored one is answered with ``AgentWorkflowResponseModel``'s defaults filled into its
    nodes and edges (``spec.defaults.fill_defaults``), as for the other sections.
    """
    out = {
        name: over_defaults(schema, stored.get(name) or {})
        for name, schema in _SECTION_SCHEMAS.items()
    }
    workflow = stored.get("workflow") or {}
    full = fill_defaults(deep_merge(_WORKFLOW_BASE, workflow), _WORKFLOW_SCHEMA) if workflow else {}
    out["workflow"] = full
    return out


def resolved_versioned(stored: dict[str, Any]) -> dict[str, Any]:
    """:func:`resolved_config` of a version with ``platform_settings`` cut to the versioned
    subset (server defaults of agent-wide settings left out): what a merge compares."""
    out = resolved_config(stored)
    out["platform_settings"] = split_platform_settings(out["platform_settings"])[0]
    return out


def agent_config(agent: Agent, version: Version) -> dict[str, Any]:
    """The stored config a GET of ``agent`` at ``version`` shows: the version's config with
    the agent's current agent-wide ``platform_settings`` over its versioned subset."""
    versioned = split_platform_settings(version.config.get("platform_settings"))[0]
    return {**version.config, "platform_settings": deep_merge(versioned, agent.agent_wide)}


def resolved_value(stored: dict[str, Any], section: str, *keys: str) -> Any:
    """One value of :func:`resolved_config` (``None`` when absent), without resolving the
    whole config: ``stored[section][keys...]``, else the server default there."""
    found = _dig(stored.get(section), keys)
    if found is not _ABSENT or section not in _SECTION_SCHEMAS:
        return None if found is _ABSENT else found
    found = _dig(shared_defaults(_SECTION_SCHEMAS[section]), keys)
    return None if found is _ABSENT else copy.deepcopy(found)


_ABSENT = object()


def _dig(doc: Any, keys: tuple[str, ...]) -> Any:
    for key in keys:
        if not isinstance(doc, dict) or key not in doc:
            return _ABSENT
        doc = doc[key]
    return doc


def find_agent(emu: Emulator, agent_id: str) -> Agent:
    """Return the agent or raise 404 ``agent_not_found``."""
    agent = emu.store.agents.get(agent_id)
    if agent is None:
        raise not_found("agent", agent_id)
    return agent


def find_branch(emu: Emulator, agent: Agent, branch_id: str) -> Branch:
    """Return the agent's branch or raise 404 ``branch_not_found``."""
    branch = emu.store.branches.get(branch_id)
    if branch is None or branch.agent_id != agent.id:
        raise not_found("branch", branch_id)
    return branch


def find_version(emu: Emulator, agent: Agent, version_id: str) -> Version:
    """Return the agent's version or raise 404 ``version_not_found``."""
    version = emu.store.versions.get(version_id)
    if version is None or version.agent_id != agent.id:
        raise not_found("version", version_id)
    return version


def require_versioned(agent: Agent) -> None:
    """Raise 400 ``agent_not_versioned`` when the agent has versioning off."""
    if not agent.versioned:
        raise bad_request(
            "agent_not_versioned",
            f"Agent {agent.id!r} does not have versioning enabled; PATCH it with "
            "enable_versioning_if_not_enabled=true first.",
        )


def version_at(
    emu: Emulator, agent: Agent, branch_id: str | None = None, version_id: str | None = None
) -> Version:
    """Return the version named by ``version_id``, else the tip of ``branch_id``, else main's."""
    if version_id or branch_id:
        require_versioned(agent)
    if version_id:
        return find_version(emu, agent, version_id)
    branch = find_branch(emu, agent, branch_id or agent.main_branch_id)
    return emu.store.versions[branch.tip_version_id]


def create_agent(emu: Emulator, body: dict[str, Any], *, versioned: bool) -> Agent:
    """Create an agent from a ``Body_Create_Agent`` request: main branch plus version 1."""
    now = int(emu.now())
    agent_id, branch_id = emu.new_id("agent_"), emu.new_id("agtbrch_")
    agent = Agent(
        id=agent_id,
        name=body.get("name") or "",
        tags=list(body.get("tags") or []),
        created_at=now,
        updated_at=now,
        versioned=versioned,
        main_branch_id=branch_id,
        agent_wide=agent_wide_change(body),
    )
    branch = Branch(
        id=branch_id,
        agent_id=agent_id,
        name="Main",
        description="Main branch",
        created_at=now,
        last_committed_at=now,
        tip_version_id="",
        protection_status=ADMIN_ONLY if emu.config.protect_main else "writer_perms_required",
    )
    emu.store.agents[agent_id] = agent
    emu.store.branches[branch_id] = branch
    commit_version(emu, branch, patched_config({}, body), "Initial version", {})
    return agent


def commit_version(
    emu: Emulator,
    branch: Branch,
    config: dict[str, Any],
    description: str,
    parents: dict[str, str | None],
) -> Version:
    """Commit ``config`` as the new tip of ``branch``; ``parents`` adds to the in-branch parent.

    Starts the RAG index of each document the config retrieves through RAG
    (:func:`convai_ops.emulator.rag.start_for_config`)."""
    previous = emu.store.versions.get(branch.tip_version_id)
    now = emu.now()
    version = Version(
        id=emu.new_id("agtvrsn_"),
        agent_id=branch.agent_id,
        branch_id=branch.id,
        seq_no_in_branch=previous.seq_no_in_branch + 1 if previous else 1,
        description=description,
        committed_at=now,
        parents={"in_branch_parent_id": previous.id if previous else None, **parents},
        config=config,
    )
    emu.store.versions[version.id] = version
    start_for_config(emu, config)
    branch.tip_version_id = version.id
    branch.last_committed_at = int(now)
    emu.store.agents[branch.agent_id].updated_at = int(now)
    return version


def update_agent(
    emu: Emulator, agent: Agent, body: dict[str, Any], *, branch_id: str | None, enable: bool
) -> Version:
    """Apply a ``PATCH`` body: commit a new version on ``branch_id`` (default main)."""
    seen_as = agent.model_copy(update={"versioned": True}) if enable else agent
    tip = version_at(emu, seen_as, branch_id=branch_id)
    branch = emu.store.branches[tip.branch_id]
    if branch.is_archived:
        raise bad_request("branch_archived", f"Branch {branch.id!r} is archived.")
    agent.versioned = agent.versioned or enable
    if body.get("name") is not None:
        agent.name = body["name"]
    if body.get("tags") is not None:
        agent.tags = list(body["tags"])
    write_agent_wide(emu, agent, body, on_main=branch.id == agent.main_branch_id)
    config = patched_config(tip.config, body)
    description = body.get("version_description") or "Updated agent settings"
    return commit_version(emu, branch, config, description, {})


def write_agent_wide(emu: Emulator, agent: Agent, change: dict[str, Any], *, on_main: bool) -> None:
    """Deep-merge the agent-wide ``platform_settings`` of ``change`` (a PATCH or branch-create
    body) into ``agent.agent_wide``: always when written on main, else as
    ``agent_wide_on_branch`` says (``"live"``: at once; ``"dropped"``: not at all)."""
    if on_main or emu.config.agent_wide_on_branch == "live":
        agent.agent_wide = deep_merge(agent.agent_wide, agent_wide_change(change))


def agent_wide_change(change: dict[str, Any]) -> dict[str, Any]:
    """The agent-wide part of ``change["platform_settings"]``, unlisted fields dropped."""
    settings = change.get("platform_settings")
    if not isinstance(settings, dict):
        return {}
    return split_platform_settings(prune(settings, _REQUEST_SCHEMAS["platform_settings"]))[1]


def patched_config(stored: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """Return ``stored`` with a PATCH/branch change applied: sections deep-merged, ``workflow``
    replaced, fields the request schemas do not list dropped (as the API ignores them).
    ``platform_settings`` keeps only the versioned subset (see :func:`write_agent_wide`)."""
    out = dict(stored)
    for name, schema in _REQUEST_SCHEMAS.items():
        if isinstance(change.get(name), dict):
            out[name] = deep_merge(stored.get(name) or {}, prune(change[name], schema))
    if "platform_settings" in out:
        out["platform_settings"] = split_platform_settings(out["platform_settings"])[0]
    if change.get("workflow") is not None:
        out["workflow"] = prune(change["workflow"], "AgentWorkflowRequestModel")
    return out


def delete_agent(emu: Emulator, agent: Agent) -> None:
    """Remove the agent with its branches and versions (tests and invocations stay)."""
    store = emu.store
    for branch_id in [key for key, branch in store.branches.items() if branch.agent_id == agent.id]:
        del store.branches[branch_id]
    for version_id in [
        key for key, version in store.versions.items() if version.agent_id == agent.id
    ]:
        del store.versions[version_id]
    del store.agents[agent.id]
