"""References checked before any write: what the repository names must exist in the target.

Ids differ in every workspace (BEHAVIOUR.md: a tool name is not an id; a knowledge document id
is one workspace's). During plan, with the list calls of the run (``state.RemoteIndex``):

- a knowledge ``id:`` entry of ``agent.yaml`` must be a document of the workspace
  (``GET /v1/convai/knowledge-base``);
- a tool test's ``referenced_tool.id`` must be a tool of the workspace (``GET
  /v1/convai/tools``); tools named by ``{name}`` and an agent's ``tools:`` name files of
  ``tools/`` (checked when loading) and are created by apply when missing, so they always
  resolve.

An agent id written under ``environments:`` that ``GET /v1/convai/agents/{agent_id}`` answers
404 for is reported the same way (:func:`missing_agent`, raised by ``state.read_snapshot``).

The first missing one raises :class:`SpecError` at the line holding it, so plan fails and
apply sends nothing (no empty agent is created for a plan that cannot complete).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from convai_ops.spec.yamlio import read_document

if TYPE_CHECKING:
    from convai_ops.errors import SpecError
    from convai_ops.spec import AgentSpec, Project
    from convai_ops.state import RemoteIndex

__all__ = ["check_references", "missing_agent"]


def check_references(project: Project, index: RemoteIndex, env: str) -> None:
    """Raise :class:`SpecError` (``file:line:col``) for the first reference of ``project`` that
    does not exist in ``env`` (see the module docstring); no API call (uses ``index``)."""
    for agent in project.agents:
        _check_documents(agent, index, env)
        _check_test_tools(agent, index, env)


def _check_documents(agent: AgentSpec, index: RemoteIndex, env: str) -> None:
    known = index.all_document_ids
    if known is None:
        return
    for position, knowledge in enumerate(agent.knowledge):
        if knowledge.kind == "id" and knowledge.id not in known:
            message = (
                f"knowledge-base document {knowledge.id!r} does not exist in environment "
                f"{env!r} (ids differ in every workspace: use a file or url entry)"
            )
            raise read_document(agent.path).error(("knowledge_base", position, "id"), message)


def _check_test_tools(agent: AgentSpec, index: RemoteIndex, env: str) -> None:
    known = set(index.tools.ids())
    for test in agent.tests:
        expectation = test.body.get("tool_call_parameters") or {}
        reference = expectation.get("referenced_tool") or {}
        tool_id = reference.get("id") if isinstance(reference, dict) else None
        if tool_id is not None and tool_id not in known:
            message = (
                f"tool {tool_id!r} does not exist in environment {env!r}; name the tool "
                "instead (referenced_tool: {name: <tools/ file>}): ids differ in every workspace"
            )
            where = ("tool_call_parameters", "referenced_tool", "id")
            raise read_document(test.path).error(where, message)


def missing_agent(agent: AgentSpec, env: str) -> SpecError:
    """The error for ``agent``'s id in ``env`` naming no agent (the API answered 404), at the
    ``environments.<env>`` line of its ``agent.yaml``."""
    agent_id = agent.agent_id(env)
    message = (
        f"agent {agent_id!r} does not exist in environment {env!r} (deleted, or from another "
        "workspace): fix the id, or remove it to create the agent"
    )
    return read_document(agent.path).error(("environments", env), message)
