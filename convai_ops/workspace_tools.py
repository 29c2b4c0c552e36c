"""Workspace tools per environment: ``tools/<name>.yaml`` resolved to tool ids by content.

Tools are workspace-wide and no agent version holds them, so a tool main uses is never changed
in place. A declared tool *is* any workspace tool whose ``tool_config`` equals the declared one
(both with the response schema's defaults filled, :func:`comparable`; ``response_mocks`` too
when the file declares them); when none does, apply creates a new one
(``POST /v1/convai/tools``) under the declared name (the API's name pattern allows no
``#hash``, and the LLM calls a tool by its name) and references it from the branch only. The
copy main used stays until ``gc`` removes it.

:class:`ToolIndex` holds what one run knows: the tools ``GET /v1/convai/tools`` listed once
(:mod:`convai_ops.state` lists them beside the tests and documents) and those the run created;
it is shared by the agents applied in parallel, so a tool two agents use is created once.
"""

from __future__ import annotations

import copy
import hashlib
import marshal
import threading
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from convai_ops.dicts import json_equal

if TYPE_CHECKING:
    from convai_ops.api import ConvaiClient
    from convai_ops.spec import AgentSpec, ToolSpec

__all__ = [
    "OUTPUT_SCHEMAS",
    "ToolIndex",
    "comparable",
    "desired_tools_view",
    "main_tool_ids",
    "remote_tools_view",
    "resolve_tools",
]

OUTPUT_SCHEMAS = {
    "webhook": "WebhookToolConfig-Output",
    "client": "ClientToolConfig-Output",
    "system": "SystemToolConfig-Output",
    "mcp": "MCPToolConfig-Output",
}
"""Tool ``type`` -> the response schema a GET answers its ``tool_config`` with."""
_MOCKS = "ToolResponseMockConfig-Output"
Reporter = Callable[[str], None]


def comparable(tool_config: Mapping[str, Any]) -> dict[str, Any]:
    """``tool_config`` with its type's response-schema defaults filled in (a new dict).

    Worked out once per distinct config (many agents use the same tools, and a plan compares
    each agent's tools on both sides); every call still gets its own copy. ``marshal`` keeps
    the exact types (``1``, ``1.0``, ``True`` and ``"1"`` differ, keys too)."""
    try:
        key = marshal.dumps(tool_config)  # type: ignore[arg-type]
    except ValueError:  # not plain built-in values: no cache
        return _comparable(tool_config)
    filled: dict[str, Any] = marshal.loads(_comparable_bytes(key))
    return filled


@lru_cache(maxsize=512)
def _comparable_bytes(config: bytes) -> bytes:
    return marshal.dumps(_comparable(marshal.loads(config)))


def _comparable(tool_config: Mapping[str, Any]) -> dict[str, Any]:
    from convai_ops.spec.defaults import fill_defaults  # not needed to read the tools list

    schema = OUTPUT_SCHEMAS.get(str(tool_config.get("type")))
    if schema is None:
        return copy.deepcopy(dict(tool_config))
    filled: dict[str, Any] = fill_defaults(dict(tool_config), schema)
    return filled


def identity_hash(body: Mapping[str, Any]) -> str:
    """12 hex digits of the sha256 of a create-tool body (``{tool_config, response_mocks?}``)
    with defaults filled (:func:`comparable`): equal for a file and the tool a GET answers."""
    from convai_ops.spec.models import canonical_json

    config = body.get("tool_config")
    filled = {"tool_config": comparable(config) if isinstance(config, Mapping) else config}
    if body.get("response_mocks"):
        filled["response_mocks"] = _mocks(body["response_mocks"])
    return hashlib.sha256(canonical_json(filled)).hexdigest()[:12]


def _mocks(value: Any) -> list[Any]:
    from convai_ops.spec.defaults import fill_defaults

    return [fill_defaults(item, _MOCKS) for item in value or []]


class ToolIndex:
    """The workspace tools of one environment as one run knows them (thread-safe).

    Built from ``GET /v1/convai/tools`` items (``{id, tool_config, response_mocks, ...}``);
    :meth:`ensure` adds the tools the run creates.
    """

    def __init__(self, listed: Iterable[Mapping[str, Any]] = ()) -> None:
        self._lock = threading.Lock()
        self._tools: dict[str, Mapping[str, Any]] = {str(t["id"]): t for t in listed}

    def ids(self) -> list[str]:
        """Every known tool id, in list order."""
        with self._lock:
            return list(self._tools)

    def config(self, tool_id: str) -> Mapping[str, Any] | None:
        """The ``tool_config`` of ``tool_id`` as listed; ``None`` for an unknown id."""
        with self._lock:
            tool = self._tools.get(tool_id)
        return tool.get("tool_config") if tool is not None else None

    def name_of(self, tool_id: str) -> str | None:
        """The tool's ``tool_config.name``; ``None`` for an unknown id."""
        config = self.config(tool_id)
        return str(config.get("name")) if config is not None else None

    def find(self, spec: ToolSpec, prefer: Collection[str] = ()) -> str | None:
        """The id of a workspace tool that is ``spec`` (equal content, see the module
        docstring): one of ``prefer`` (the ids main uses) first; ``None`` when there is none."""
        with self._lock:
            matches = [i for i, tool in self._tools.items() if _same(spec, tool)]
        preferred = [i for i in matches if i in prefer]
        return next(iter(preferred or matches), None)

    def ensure(
        self, client: ConvaiClient, spec: ToolSpec, prefer: Collection[str], say: Reporter
    ) -> str:
        """The id of the workspace tool that is ``spec``, creating it when none is
        (``POST /v1/convai/tools`` with the file's body). Raises ``ApiError``."""
        with self._lock:
            matches = [i for i, tool in self._tools.items() if _same(spec, tool)]
            preferred = [i for i in matches if i in prefer]
            if matches:
                return (preferred or matches)[0]
            created = client.create_tool(spec.body)
            self._tools[str(created["id"])] = created
        say(f"created tool {spec.name!r} ({created['id']}) from tools/{spec.path.name}")
        return str(created["id"])


def _same(spec: ToolSpec, tool: Mapping[str, Any]) -> bool:
    config = tool.get("tool_config")
    if not isinstance(config, Mapping) or config.get("name") != spec.name:
        return False
    if not json_equal(comparable(config), comparable(spec.tool_config)):
        return False
    if "response_mocks" in spec.body:
        return json_equal(_mocks(tool.get("response_mocks")), _mocks(spec.body["response_mocks"]))
    return True


def resolve_tools(
    client: ConvaiClient,
    agent: AgentSpec,
    tools: Sequence[ToolSpec],
    index: ToolIndex,
    prefer: Collection[str],
    say: Reporter,
) -> dict[str, str]:
    """``{name: tool id}`` for the tools ``agent`` names (``tools:``, then its tool tests'
    ``referenced_tool.name``), each the workspace tool that is its file, created when none is
    (:meth:`ToolIndex.ensure`); ``prefer`` holds the ids main uses. Raises ``ApiError``."""
    by_name = {tool.name: tool for tool in tools}
    names = [*(agent.tools or ()), *(t.tool_name for t in agent.tests if t.tool_name)]
    return {name: index.ensure(client, by_name[name], prefer, say) for name in dict.fromkeys(names)}


def main_tool_ids(config: Mapping[str, Any]) -> list[str]:
    """The ``conversation_config.agent.prompt.tool_ids`` of a GET agent body (``[]`` if none)."""
    node: Any = config
    for key in ("conversation_config", "agent", "prompt", "tool_ids"):
        node = node.get(key) if isinstance(node, Mapping) else None
    return [str(item) for item in node or ()] if isinstance(node, list) else []


def desired_tools_view(tools: Sequence[ToolSpec]) -> dict[str, Any]:
    """The plan's ``tools`` view of the declared tools: ``{name: tool_config as declared}``."""
    return {tool.name: copy.deepcopy(tool.tool_config) for tool in tools}


def remote_tools_view(
    tool_ids: Sequence[str], index: ToolIndex, declared: Sequence[ToolSpec]
) -> dict[str, Any]:
    """The plan's ``tools`` view of the tools main's ``tool_ids`` name: ``{name: tool_config}``
    (an id the index does not know: ``{id: None}``), each without the keys that hold what the
    declared tool of that name would get as a default, so that it equals the declared
    ``tool_config`` exactly when the two are the same tool (defaults filled on both sides),
    and a difference shows as the fields that differ."""
    by_name = {tool.name: tool.tool_config for tool in declared}
    view: dict[str, Any] = {}
    for tool_id in tool_ids:
        config = index.config(tool_id)
        if config is None:
            view[tool_id] = None
            continue
        name = str(config.get("name", tool_id))
        mine = by_name.get(name, {"type": config.get("type"), "name": name})
        view[name] = _lean(comparable(config), mine, comparable(mine))
    return view


def _lean(remote: Any, declared: Any, filled: Any) -> Any:
    """``remote`` without the keys ``declared`` leaves out whose value equals ``filled``'s."""
    if not all(isinstance(value, Mapping) for value in (remote, declared, filled)):
        return remote
    out: dict[str, Any] = {}
    for key, value in remote.items():
        if key in declared:
            out[key] = _lean(value, declared[key], filled.get(key))
        elif key not in filled or not json_equal(value, filled[key]):
            out[key] = value
    return out
