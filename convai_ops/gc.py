"""``convai-ops gc``: find (and delete) knowledge-base documents, tests and workspace tools
convai-ops created that no agent's main references any more.

Owned means named the way convai-ops names them, ``<slug>/<name> #<hash>`` with ``<slug>`` an
agent of this repository. Referenced means listed by the main of any of the repository's agents
(``conversation_config.agent.prompt.knowledge_base`` / ``platform_settings.testing
.attached_tests``). Only items older than ``min_age_days`` are garbage, so the tests and
documents of a pull-request check still running are left alone. A delete the API refuses with a
4xx (documents still used by a branch; the status is not documented) is reported as kept, "in
use by" the dependants ``GET .../knowledge-base/{id}/dependent-agents`` lists for a document, or
the API's message for a test (the document offers no dependants of a test). A 404 means the
item is already gone.

Tools: a workspace tool named like a ``tools/<name>.yaml`` of the repository (apply creates a
changed tool as a new one under the same name) that no main of the repository's agents lists in
``prompt.tool_ids``. The API answers no creation time for a tool (``ToolResponseModel``), so
the age cannot be checked; instead a tool is listed only when ``GET
/v1/convai/tools/{id}/dependent-agents`` names no agent and no branch (a pull-request check's
branch uses its tool from the moment it is created).

Calls ``GET /v1/convai/agents/{id}`` per agent, ``GET /v1/convai/knowledge-base``,
``GET /v1/convai/agent-testing`` and (when the repository has tools) ``GET /v1/convai/tools``
(paged) with one dependent-agents GET per candidate tool, then ``DELETE`` per item when
deleting.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from convai_ops.errors import ApiError
from convai_ops.state import RemoteAgent, read_snapshot

if TYPE_CHECKING:
    from convai_ops.api import ConvaiClient
    from convai_ops.spec import Project

__all__ = ["Garbage", "Item", "collect_garbage", "delete_garbage"]

_OWNED = re.compile(r"^(?P<slug>[a-z0-9][a-z0-9_-]*)/.+ #[0-9a-f]{8}$")
DAY = 86_400


@dataclass(frozen=True)
class Item:
    """One remote document, test or tool: ``kind`` is ``document``, ``test`` or ``tool``."""

    kind: str
    id: str
    name: str


@dataclass(frozen=True)
class Garbage:
    """Owned, unreferenced, old enough: what ``gc --yes`` deletes."""

    items: tuple[Item, ...]


def collect_garbage(
    client: ConvaiClient, project: Project, env: str, *, min_age_days: float = 7.0
) -> Garbage:
    """List the garbage of ``project``'s agents in ``env`` (nothing is deleted)."""
    snapshot = read_snapshot(client, project.agents, env)
    used = _referenced(a for a in snapshot.agents.values() if a is not None)
    slugs = {a.slug for a in project.agents}
    cutoff = time.time() - min_age_days * DAY
    documents = [_item("document", d, _created(d)) for d in client.iter_documents()]
    tests = [_item("test", t, t.get("created_at_unix_secs", 0)) for t in client.iter_tests()]
    items = [
        item
        for item, created in (*documents, *tests)
        if _owned(item.name, slugs) and item.id not in used and created <= cutoff
    ]
    items += _unused_tools(client, project, used)
    return Garbage(tuple(sorted(items, key=lambda i: (i.kind, i.name))))


def _unused_tools(client: ConvaiClient, project: Project, used: set[str]) -> list[Item]:
    """Tools named like a tools/ file, listed by no main, used by no agent or branch."""
    names = {tool.name for tool in project.tools}
    if not names:
        return []
    candidates = [
        Item("tool", str(tool["id"]), str((tool.get("tool_config") or {}).get("name")))
        for tool in client.iter_tools(page_size=100)
    ]
    return [
        item
        for item in candidates
        if item.name in names and item.id not in used and not _tool_users(client, item.id)
    ]


def _tool_users(client: ConvaiClient, tool_id: str) -> list[str]:
    found = client.tool_dependents(tool_id)
    return _named(found)


def delete_garbage(client: ConvaiClient, garbage: Garbage) -> list[tuple[Item, str]]:
    """Delete every item; returns ``(item, result)`` pairs, ``result`` being ``"deleted"``,
    ``"already deleted"`` (404) or ``"kept, in use by <dependants>"`` (any other 4xx but 401
    and 429, which raise like 5xx and connection errors)."""
    return [(item, _delete(client, item)) for item in garbage.items]


def _delete(client: ConvaiClient, item: Item) -> str:
    try:
        if item.kind == "document":
            client.delete_document(item.id)
        elif item.kind == "tool":
            client.delete_tool(item.id)
        else:
            client.delete_test(item.id)
    except ApiError as exc:
        if exc.status == 404:
            return "already deleted"
        if exc.status in (401, 429) or not 400 <= exc.status < 500:
            raise
        return f"kept, in use by {_dependants(client, item, exc)}"
    return "deleted"


def _dependants(client: ConvaiClient, item: Item, refusal: ApiError) -> str:
    """The agents and branches using a document or tool, else the API's reason for refusing."""
    if item.kind == "test":
        return f"? ({refusal})"
    try:
        if item.kind == "tool":
            found = client.tool_dependents(item.id)
        else:
            found = client.document_dependents(item.id)
    except ApiError:
        return f"? ({refusal})"
    return ", ".join(_named(found)) or f"? ({refusal})"


def _named(found: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[str]:
    """``agent <name>`` per dependent agent, ``branch <name> of <agent>`` per other branch."""
    named = [f"agent {a.get('name') or a.get('id', '?')}" for a in found["agents"]]
    named += [
        f"branch {b.get('branch_name', '?')} of {b.get('agent_name') or b.get('agent_id', '?')}"
        for b in found["branches"]
        if not b.get("is_main")
    ]
    return named


def _item(kind: str, summary: Mapping[str, Any], created: int) -> tuple[Item, int]:
    return Item(kind, str(summary["id"]), str(summary.get("name", ""))), int(created or 0)


def _created(document: Mapping[str, Any]) -> int:
    metadata = document.get("metadata") or {}
    return int(metadata.get("created_at_unix_secs") or 0)


def _owned(name: str, slugs: set[str]) -> bool:
    match = _OWNED.match(name)
    return bool(match and match["slug"] in slugs)


def _referenced(agents: Iterable[RemoteAgent]) -> set[str]:
    used: set[str] = set()
    for agent in agents:
        prompt = agent.config.get("conversation_config", {}).get("agent", {}).get("prompt", {})
        used |= {loc["id"] for loc in _list(prompt.get("knowledge_base"))}
        used |= {str(tool_id) for tool_id in prompt.get("tool_ids") or []}
        testing = agent.config.get("platform_settings", {}).get("testing", {})
        used |= {t["test_id"] for t in _list(testing.get("attached_tests"))}
    return used


def _list(value: Any) -> Sequence[Mapping[str, Any]]:
    return value if isinstance(value, list) else []
