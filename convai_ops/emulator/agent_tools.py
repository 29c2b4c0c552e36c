"""An agent's tools: ``prompt.tool_ids`` stored, ``prompt.tools`` and ``prompt.tool_ids`` read.

What the API does (BEHAVIOUR.md "Reads and writes of agent config"; the official CLI, its
issue/pull request 22): a GET answers both ``conversation_config.agent.prompt.tools`` (the
tools' configs) and ``prompt.tool_ids``, but a create or update accepts only one of them.

- :func:`take_inline_tools`: a create, PATCH or branch-create body naming both is refused
  ``422`` (both keys present: the stricter reading). Inline ``tools`` (the document says "use
  tool_ids instead") become workspace tools, and the body names them by ``tool_ids``, so an
  agent's versions only ever store ids.
- :func:`with_tools`: a resolved config with ``tool_ids`` (``[]`` when none) and ``tools``,
  each tool id's config as ``GET /v1/convai/tools/{id}`` answers it (ids of deleted tools
  are answered in ``tool_ids`` only).
"""

from __future__ import annotations

import copy
from typing import Any

from convai_ops.emulator.core import Emulator
from convai_ops.emulator.problems import InvalidRequest
from convai_ops.emulator.schema import over_defaults, prune
from convai_ops.emulator.store import Tool

__all__ = ["OUTPUT_SCHEMAS", "take_inline_tools", "tool_config", "with_tools"]

OUTPUT_SCHEMAS = {
    "webhook": "WebhookToolConfig-Output",
    "client": "ClientToolConfig-Output",
    "system": "SystemToolConfig-Output",
    "mcp": "MCPToolConfig-Output",
}
_PROMPT = ("conversation_config", "agent", "prompt")


def tool_config(tool: Tool) -> dict[str, Any]:
    """The tool's ``tool_config`` over the defaults of its type's response schema."""
    schema = OUTPUT_SCHEMAS.get(str(tool.tool_config.get("type")))
    return over_defaults(schema, tool.tool_config) if schema else copy.deepcopy(tool.tool_config)


def take_inline_tools(emu: Emulator, body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with inline ``prompt.tools`` turned into workspace tools named by ``tool_ids``.

    Raises :class:`InvalidRequest` (422) when the prompt has both ``tools`` and ``tool_ids``.
    The caller holds the emulator lock; ``body`` is not modified.
    """
    prompt = _prompt(body)
    if prompt is None or "tools" not in prompt:
        return body
    if "tool_ids" in prompt:
        raise InvalidRequest.one(
            ["body", *_PROMPT, "tools"],
            "Send either tools or tool_ids, not both (tools is deprecated: use tool_ids).",
            "value_error",
        )
    out = copy.deepcopy(body)
    inline = _prompt(out) or {}
    inline["tool_ids"] = [_add_tool(emu, item) for item in inline.pop("tools") or []]
    return out


def _add_tool(emu: Emulator, config: dict[str, Any]) -> str:
    now = int(emu.now())
    pruned = prune({"tool_config": config}, "ToolRequestModel")["tool_config"]
    tool = Tool(
        id=emu.new_id("tool_"),
        tool_config=pruned,
        response_mocks=None,
        created_at=now,
        updated_at=now,
    )
    emu.store.tools[tool.id] = tool
    return tool.id


def with_tools(emu: Emulator, config: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``config`` (resolved: defaults filled) with ``prompt.tool_ids`` and
    ``prompt.tools``; ``config`` itself is not modified (only the path to the prompt is copied)."""
    out = dict(config)
    node = out
    for key in _PROMPT:
        if not isinstance(node.get(key), dict):
            return out
        node[key] = dict(node[key])
        node = node[key]
    ids = [str(item) for item in node.get("tool_ids") or []]
    node["tool_ids"] = ids
    node["tools"] = [tool_config(emu.store.tools[i]) for i in ids if i in emu.store.tools]
    return out


def _prompt(body: dict[str, Any]) -> dict[str, Any] | None:
    node: Any = body
    for key in _PROMPT:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None
