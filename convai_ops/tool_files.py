"""The workspace tools an agent uses, as ``tools/<name>.yaml`` files: what import and pull write.

A live agent names its workspace tools by id (``conversation_config.agent.prompt.tool_ids``);
the repository names them (``tools: [lookup_order]`` in ``agent.yaml``) and holds each as
``tools/<name>.yaml``: the create-tool body (``{tool_config, response_mocks?}``) without ids
and without the keys the API's response defaults give back (:func:`tool_file_data`).

A tool file that already exists is reused when it *is* the live tool (equal content as the
plan compares it: ``workspace_tools.ToolIndex.find``). Import refuses a file with other content
(:class:`~convai_ops.errors.UsageError`, before anything is written): tools are shared by every
agent of the repository, so import never changes one behind the others' back. Pull adopts the
live tool into the file (as it adopts every declared value) and says so in a note.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convai_ops.errors import ConvaiOpsError, UsageError
from convai_ops.spec import SCHEMA_HEADER, dump_yaml
from convai_ops.spec.defaults import strip_defaults
from convai_ops.spec.tools import TOOL_NAME_PATTERN, TOOLS_DIR, load_tool
from convai_ops.spec.yamlio import read_document
from convai_ops.workspace_tools import OUTPUT_SCHEMAS, ToolIndex

if TYPE_CHECKING:
    from convai_ops.api import ConvaiClient

__all__ = [
    "ToolFile",
    "agent_tool_files",
    "name_tools",
    "tool_file_data",
    "tool_hashes",
    "write_tool_files",
]

_MOCKS = "ToolResponseMockConfig-Output"
_TOOL_IDS = ("conversation_config", "agent", "prompt", "tool_ids")


@dataclass(frozen=True)
class ToolFile:
    """One tool of an agent: its workspace ``tool_id`` there, ``name``, file ``path``, the
    file's ``data`` and whether the file already holds it (``current``: nothing to write)."""

    tool_id: str
    name: str
    path: Path
    data: dict[str, Any]
    current: bool


def tool_hashes(files: Sequence[ToolFile]) -> dict[str, tuple[str, str]]:
    """``{tool id: (name, content hash)}`` of written (or reused) tool files: what a tool
    test's remote name was hashed with (``TestSpec.content_hash``). Reads each file."""
    return {t.tool_id: (t.name, load_tool(read_document(t.path)).identity_hash) for t in files}


def tool_file_data(remote: Mapping[str, Any]) -> dict[str, Any]:
    """A tool file's data of a ``GET /v1/convai/tools/{id}`` body: ``{tool_config}`` (and
    ``response_mocks`` when it has some), without ``id`` and the keys the response schema of
    its type fills back in (each item's and condition's ``type`` kept)."""
    config = dict(remote.get("tool_config") or {})
    schema = OUTPUT_SCHEMAS.get(str(config.get("type")))
    data: dict[str, Any] = {
        "tool_config": strip_defaults(config, schema) if schema else copy.deepcopy(config)
    }
    mocks = remote.get("response_mocks")
    if isinstance(mocks, list) and mocks:
        data["response_mocks"] = [strip_defaults(mock, _MOCKS) for mock in mocks]
    return data


def agent_tool_files(
    client: ConvaiClient, root: Path, live: Mapping[str, Any], *, adopt: bool = False
) -> list[ToolFile]:
    """The :class:`ToolFile` of each workspace tool the GET agent body ``live`` names in
    ``prompt.tool_ids``, in that order. Calls ``GET /v1/convai/tools/{id}`` per id.

    Raises ``UsageError`` for a tool whose name the API's pattern refuses, for two tools of the
    agent with one name, and (unless ``adopt``) for an existing ``tools/<name>.yaml`` holding
    other content; ``NotFoundError`` for an id naming no tool.
    """
    files: dict[str, ToolFile] = {}
    for tool_id in _tool_ids(live):
        remote = client.get_tool(tool_id)
        name = str((remote.get("tool_config") or {}).get("name") or "")
        _check_name(name, tool_id, files)
        files[name] = _tool_file(root, tool_id, name, remote, adopt)
    return list(files.values())


def _tool_ids(live: Mapping[str, Any]) -> list[str]:
    node: Any = live
    for key in _TOOL_IDS:
        node = node.get(key) if isinstance(node, Mapping) else None
    return [str(item) for item in node] if isinstance(node, list) else []


def _check_name(name: str, tool_id: str, seen: Mapping[str, ToolFile]) -> None:
    if not TOOL_NAME_PATTERN.match(name):
        raise UsageError(
            f"workspace tool {tool_id} is named {name!r}, which is no tool name the API accepts "
            "(letters, digits, '_', '-'; 1-64): rename it in the ElevenLabs dashboard first"
        )
    if name in seen:
        raise UsageError(
            f"the agent uses two workspace tools named {name!r}: the LLM calls a tool by its "
            "name, so rename one in the ElevenLabs dashboard first"
        )


def _tool_file(
    root: Path, tool_id: str, name: str, remote: Mapping[str, Any], adopt: bool
) -> ToolFile:
    path = root / TOOLS_DIR / f"{name}.yaml"
    data = tool_file_data(remote)
    current = path.exists() and _holds(path, remote)
    if current or adopt or not path.exists():
        return ToolFile(tool_id, name, path, data, current=current)
    raise UsageError(
        f"{TOOLS_DIR}/{path.name} holds other content than the workspace tool {name!r} "
        f"({remote.get('id')}) this agent uses, and other agents may use the file: import "
        f"writes nothing; rename or remove {TOOLS_DIR}/{path.name} (or run `convai-ops pull` "
        "on an agent using it to adopt the live tool), then import again"
    )


def _holds(path: Path, remote: Mapping[str, Any]) -> bool:
    """Whether ``path`` is the tool ``remote`` as the plan compares tools."""
    try:
        spec = load_tool(read_document(path))
    except ConvaiOpsError:
        return False
    return ToolIndex([{**remote, "id": str(remote.get("id") or "live")}]).find(spec) is not None


def write_tool_files(files: Sequence[ToolFile]) -> list[Path]:
    """Write each file not ``current`` (with the editor schema header); returns the paths
    written. Raises ``OSError``."""
    written = []
    for tool in files:
        if not tool.current:
            dump_yaml(tool.data, tool.path, header=SCHEMA_HEADER["tool"])
            written.append(tool.path)
    return written


def name_tools(data: dict[str, Any], files: Sequence[ToolFile]) -> None:
    """Make agent.yaml ``data`` name its tools (``tools: [names]``) instead of holding
    ``prompt.tool_ids`` (the API accepts one of the two; ids differ per workspace). ``tools``
    goes before ``knowledge_base`` when there is one. ``data`` is modified."""
    prompt = data.get("conversation_config", {}).get("agent", {}).get("prompt", {})
    prompt.pop("tool_ids", None)
    prompt.pop("tools", None)
    for keys in (("agent", "prompt"), ("agent",), ()):
        _drop_if_empty(data, ("conversation_config", *keys))
    if not files:
        return
    entries = list(data.items())
    at = next((i for i, (key, _) in enumerate(entries) if key == "knowledge_base"), len(entries))
    entries.insert(at, ("tools", [tool.name for tool in files]))
    data.clear()
    data.update(entries)


def _drop_if_empty(data: dict[str, Any], path: tuple[str, ...]) -> None:
    parent: Any = data
    for key in path[:-1]:
        parent = parent.get(key) if isinstance(parent, dict) else None
    if isinstance(parent, dict) and parent.get(path[-1]) == {}:
        del parent[path[-1]]
