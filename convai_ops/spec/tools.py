"""Loading workspace tools: tools/<name>.yaml at the repository root, one tool per file.

A tool file is the body of the API's create-tool request (``ToolRequestModel``:
``{tool_config: {type: webhook|client|system|mcp, name, description, ...}, response_mocks}``),
checked against that schema with ``file:line:col`` errors. ``tool_config.name`` may be left out
(it is then the file's stem) or must equal the stem: the LLM calls a tool by that name, and an
agent's ``tools:`` lists it.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import re
from pathlib import Path
from typing import Any

from convai_ops.errors import SpecError
from convai_ops.spec.models import AgentSpec, TestSpec, ToolSpec, canonical_json
from convai_ops.spec.validate import check, did_you_mean
from convai_ops.spec.yamlio import Document, read_document

__all__ = [
    "TOOLS_DIR",
    "TOOL_NAME_PATTERN",
    "bind_tools",
    "check_agent_tools",
    "load_tool",
    "load_tools",
]

TOOLS_DIR = "tools"
TOOL_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
"""The API's pattern for a tool's name (``tool_config.name``), hence for a tool file's stem."""


def load_tools(root: Path) -> tuple[ToolSpec, ...]:
    """Every ``<root>/tools/*.yaml``, sorted by name; ``()`` when there is no ``tools/`` folder.

    Raises :class:`SpecError` for an invalid file, a ``.yml`` file or a stem the API would
    refuse as a tool name.
    """
    folder = root / TOOLS_DIR
    if not folder.is_dir():
        return ()
    tools = []
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        if path.suffix == ".yml":
            raise SpecError(path, f"rename this file to {path.stem}.yaml")
        if path.suffix == ".yaml":
            tools.append(load_tool(read_document(path)))
    return tuple(sorted(tools, key=lambda tool: tool.name))


def load_tool(doc: Document) -> ToolSpec:
    """The :class:`ToolSpec` of one parsed tool file; raises :class:`SpecError`."""
    name = doc.path.stem
    if not TOOL_NAME_PATTERN.match(name):
        message = f"{name!r} is not a tool name the API accepts (letters, digits, '_', '-'; 1-64)"
        raise SpecError(doc.path, message)
    config = doc.data.get("tool_config")
    if isinstance(config, dict):
        _check_name(doc, config, name)
    body = copy.deepcopy(doc.data)
    if isinstance(body.get("tool_config"), dict):
        body["tool_config"].setdefault("name", name)
    check(dataclasses.replace(doc, data=body), "tool")
    digest = hashlib.sha256(canonical_json(body)).hexdigest()[:12]
    return ToolSpec(name=name, path=doc.path, body=body, content_hash=digest)


def _check_name(doc: Document, config: dict[str, Any], name: str) -> None:
    declared = config.get("name", name)
    if declared != name:
        message = f"must be the file's name {name!r} (or left out), got {declared!r}"
        raise doc.error(("tool_config", "name"), message)


def check_agent_tools(agent: AgentSpec, tools: tuple[ToolSpec, ...]) -> None:
    """Every name of ``agent.tools`` must be a ``tools/<name>.yaml``, listed once.

    Raises :class:`SpecError` at the agent.yaml line of the first unknown or repeated name.
    """
    known = [tool.name for tool in tools]
    seen: set[str] = set()
    for index, name in enumerate(agent.tools or ()):
        if name in seen:
            raise _agent_error(agent, index, f"tool {name!r} is listed twice")
        seen.add(name)
        if name not in known:
            hint = did_you_mean(name, known) or _listing(known)
            raise _agent_error(agent, index, f"no tool {name!r} in {TOOLS_DIR}/{hint}")


def _listing(known: list[str]) -> str:
    return f" (tools: {', '.join(known)})" if known else f" (add {TOOLS_DIR}/<name>.yaml)"


def _agent_error(agent: AgentSpec, index: int, message: str) -> SpecError:
    return read_document(agent.path).error(("tools", index), message)


def bind_tools(agent: AgentSpec, tools: tuple[ToolSpec, ...]) -> AgentSpec:
    """``agent`` with its ``tool_specs`` and the ``tool`` of each test naming a tool.

    Raises :class:`SpecError` for an unknown tool in ``tools:`` (agent.yaml) or in a test's
    ``referenced_tool.name`` (the test file), and for a test naming a tool its agent's
    ``tools:`` does not list.
    """
    check_agent_tools(agent, tools)
    by_name = {tool.name: tool for tool in tools}
    tests = tuple(_bind_test(agent, test, by_name) for test in agent.tests)
    specs = tuple(by_name[name] for name in agent.tools or ())
    return agent.model_copy(update={"tool_specs": specs, "tests": tests})


def _bind_test(agent: AgentSpec, test: TestSpec, by_name: dict[str, ToolSpec]) -> TestSpec:
    name = test.tool_name
    if name is None:
        return test
    where = ("tool_call_parameters", "referenced_tool", "name")
    if name not in by_name:
        hint = did_you_mean(name, by_name) or _listing(list(by_name))
        raise read_document(test.path).error(where, f"no tool {name!r} in {TOOLS_DIR}/{hint}")
    if agent.tools is not None and name not in agent.tools:
        listed = ", ".join(agent.tools) or "none"
        message = f"{name!r} is not a tool of agent {agent.slug} (its tools: {listed})"
        raise read_document(test.path).error(where, message)
    return test.model_copy(update={"tool": by_name[name]})
