"""Tool-call tests (``type: tool``) checked against their agent, with no network.

A tool test's ``tool_call_parameters`` says which tool the agent must call (``referenced_tool``)
or must not call (``verify_absence``), and how each parameter is judged: ``exact``
(``expected_value``), ``regex`` (``pattern``), ``llm`` (``description``) or ``anything``;
``check_any_tool_matches`` lets any of several calls match. The schema of those fields is
checked when the file is loaded; :func:`check_tool_tests` adds what needs the agent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convai_ops.errors import SpecError
from convai_ops.spec import PLACEHOLDER

if TYPE_CHECKING:
    from convai_ops.spec import AgentSpec, Project

__all__ = ["check_tool_tests"]

Problem = tuple[tuple[Any, ...], str]


def check_tool_tests(project: Project) -> None:
    """Check every ``tool`` test against its agent; raise :class:`SpecError` (``file:line``) for
    the first problem.

    A test's ``referenced_tool.id`` must not be the name of a ``tools/<name>.yaml`` (a tool is
    named by ``referenced_tool: {name: ...}``; an id is one workspace's, checked during plan);
    parameter paths must be unique and non-empty; ``regex`` patterns must
    compile; ``verify_absence`` takes no parameter checks; no ``TODO:`` placeholder may be left.
    No network.
    """
    for agent in project.agents:
        for test in agent.tests:
            if test.type == "tool":
                names = [tool.name for tool in project.tools]
                problem = next(_tool_problems(agent, test.body, names), None)
                if problem is not None:
                    raise _spec_error(test.path, *problem)


def _tool_problems(
    agent: AgentSpec, body: Mapping[str, Any], names: Sequence[str]
) -> Iterator[Problem]:
    expectation = body.get("tool_call_parameters") or {}
    root = ("tool_call_parameters",)
    reference = (expectation.get("referenced_tool") or {}).get("id")
    if reference and (reference in names or reference in (agent.tools or ())):
        yield (
            (*root, "referenced_tool", "id"),
            f"{reference!r} is a tool name, not an id (ids differ in every workspace): "
            f"write referenced_tool: {{name: {reference}}}",
        )
    checks = expectation.get("parameters") or []
    if expectation.get("verify_absence") and checks:
        yield (
            (*root, "parameters"),
            "verify_absence checks that the tool is not called: remove the parameter checks",
        )
    seen: set[str] = set()
    for index, check in enumerate(checks):
        yield from _parameter_problems((*root, "parameters", index), check, seen)


def _parameter_problems(
    where: tuple[Any, ...], check: Mapping[str, Any], seen: set[str]
) -> Iterator[Problem]:
    path = str(check.get("path") or "")
    if not path.strip():
        yield (*where, "path"), "the parameter path is empty"
    elif path in seen:
        yield (*where, "path"), f"parameter {path!r} is checked twice"
    seen.add(path)
    rule = check.get("eval") or {}
    for key in ("description", "expected_value", "pattern"):
        if PLACEHOLDER in str(rule.get(key) or ""):
            yield (
                (*where, "eval", key),
                f"fill in {key}: it still holds the {PLACEHOLDER} placeholder",
            )
    if rule.get("type") == "regex":
        try:
            re.compile(str(rule.get("pattern", "")))
        except re.error as error:
            yield (*where, "eval", "pattern"), f"invalid regular expression: {error}"


def _spec_error(path: Path, loc: Sequence[Any], message: str) -> SpecError:
    from convai_ops.spec.yamlio import read_document

    return read_document(path).error(tuple(loc), message)
