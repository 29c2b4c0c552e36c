r"""Tool calls of the deterministic "LLM" and how a ``tool`` test judges them.

Words and content words are those of :mod:`convai_ops.emulator.llm`.

Which tool the agent calls (:func:`choose_tool`)
------------------------------------------------
The agent's tools are those of ``prompt.tool_ids`` (looked up in the workspace tools) followed
by the inline ``prompt.tools``. A tool is *eligible* only if the system prompt mentions its name
(case-insensitive, as a whole word, e.g. "use lookup_order to ..."). Each eligible tool scores
the number of distinct content words its name parts (split on ``_``, ``-`` and camelCase) and
description share with the last user message. The agent calls the best-scoring tool (ties: the
first in the order above); no call when no eligible tool scores above 0. At most one tool is
called per reply.

How parameters are filled (:func:`fill_parameters`)
---------------------------------------------------
Parameters are the properties of a client tool's ``parameters`` and of a webhook tool's
``api_schema`` path, query and body schemas (nested objects give dotted paths like
``customer.name``; arrays are left out). Each parameter, in this order:

1. a non-empty ``constant_value``: that value;
2. ``integer``/``number``: the first number in the message that does not continue a word
   (``\d+(\.\d+)?`` not preceded by a letter, digit, ``_`` or ``.``: "u77" has none,
   "A-1234" has 1234), omitted if none;
3. ``boolean``: ``true``;
4. named ``id`` or ``*_id``: the first word containing a digit (letters, digits, ``-``, ``_``),
   omitted if none;
5. with an ``enum``: the first value whose content words all occur in the message, else the
   first value;
6. otherwise: the whole last user message.

How a tool test is judged (:func:`evaluate_tool_call`)
------------------------------------------------------
``tool_call_parameters`` absent: success (nothing is evaluated). A call *matches* when its
tool's id (an inline tool's name, as it has no id) equals ``referenced_tool.id`` (any call
matches without ``referenced_tool``): a tool of the same name under another id (an older copy)
does not match, as a tool name is not an id (BEHAVIOUR.md).

- ``verify_absence``: success when no call matches.
- otherwise a matching call must exist; with ``check_any_tool_matches`` false, more than one
  call is a failure. Each of ``parameters`` is looked up by its dotted ``path`` in the call's
  parameters and checked with its ``eval``: ``exact`` (the value as text - strings as they are,
  other values as JSON - equals ``expected_value``), ``regex`` (``re.search`` of ``pattern`` in
  the value as text), ``llm`` (the judge rule of :func:`convai_ops.emulator.llm.judge` with
  ``description`` as the condition and the value as the reply), ``anything`` (present).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from convai_ops.emulator.llm import Verdict, content_words, judge

__all__ = [
    "Parameter",
    "ToolCall",
    "ToolSpec",
    "check_parameter",
    "choose_tool",
    "evaluate_tool_call",
    "fill_parameters",
]

_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?")
_ID_WORD = re.compile(r"[A-Za-z0-9_-]*\d[A-Za-z0-9_-]*")


@dataclass(frozen=True)
class Parameter:
    """A tool parameter: dotted ``path``, JSON ``type``, ``enum`` values, ``constant``."""

    path: str
    type: str = "string"
    enum: tuple[str, ...] = ()
    constant: Any = None


@dataclass(frozen=True)
class ToolSpec:
    """A tool as the agent sees it (``id`` is the tool id, or the name for inline tools).

    ``url`` and ``method`` are a webhook's ``api_schema`` ones (method default ``GET``, as the
    document's); ``response_mocks`` are the workspace tool's ``ToolResponseMockConfig`` items.
    """

    id: str
    name: str
    description: str = ""
    type: str = "client"
    parameters: tuple[Parameter, ...] = field(default_factory=tuple)
    url: str = ""
    method: str = "GET"
    response_mocks: tuple[Mapping[str, Any], ...] = ()

    @classmethod
    def from_config(
        cls,
        tool_id: str | None,
        config: Mapping[str, Any],
        response_mocks: Sequence[Mapping[str, Any]] | None = None,
    ) -> ToolSpec:
        """Build from a ``tool_config`` (client, webhook, system or MCP tool)."""
        name = str(config.get("name", ""))
        api = config.get("api_schema") or {}
        return cls(
            id=tool_id or name,
            name=name,
            description=str(config.get("description") or ""),
            type=str(config.get("type", "client")),
            parameters=tuple(_parameters_of(config)),
            url=str(api.get("url") or ""),
            method=str(api.get("method") or "GET"),
            response_mocks=tuple(response_mocks or ()),
        )


@dataclass(frozen=True)
class ToolCall:
    """A call the agent makes: the tool and the filled parameters."""

    tool: ToolSpec
    params: dict[str, Any]


def _parameters_of(config: Mapping[str, Any]) -> list[Parameter]:
    schemas: list[Any] = [config.get("parameters")]
    api = config.get("api_schema") or {}
    schemas.append({"properties": api.get("path_params_schema") or {}})
    schemas.extend([api.get("query_params_schema"), api.get("request_body_schema")])
    found: list[Parameter] = []
    for schema in schemas:
        if isinstance(schema, Mapping):
            found.extend(_object_parameters(schema, ""))
    return found


def _object_parameters(schema: Mapping[str, Any], prefix: str) -> list[Parameter]:
    found: list[Parameter] = []
    for name, prop in (schema.get("properties") or {}).items():
        kind = prop.get("type", "string")
        kind = (
            next((item for item in kind if item != "null"), "string")
            if isinstance(kind, list)
            else kind
        )
        if kind == "object" or "properties" in prop:
            found.extend(_object_parameters(prop, f"{prefix}{name}."))
        elif kind != "array":
            constant = prop.get("constant_value")
            enum = tuple(prop.get("enum") or ())
            found.append(Parameter(f"{prefix}{name}", kind, enum, constant))
    return found


def _name_words(name: str) -> str:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return " ".join(re.split(r"[_\-\s]+", spaced))


def _mentions(prompt: str, name: str) -> bool:
    if not name:
        return False
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", prompt, re.IGNORECASE) is not None


def choose_tool(prompt: str, tools: Sequence[ToolSpec], message: str) -> ToolCall | None:
    """Return the call the agent makes for ``message``, or ``None`` (rules in the module doc)."""
    wanted = content_words(message)
    best: ToolSpec | None = None
    best_score = 0
    for tool in tools:
        if not _mentions(prompt, tool.name):
            continue
        score = len(wanted & content_words(f"{_name_words(tool.name)} {tool.description}"))
        if score > best_score:
            best, best_score = tool, score
    return ToolCall(best, fill_parameters(best, message)) if best else None


def fill_parameters(tool: ToolSpec, message: str) -> dict[str, Any]:
    """Return the parameters the agent passes to ``tool`` for ``message`` (nested by path)."""
    params: dict[str, Any] = {}
    for parameter in tool.parameters:
        value = _parameter_value(parameter, message)
        if value is not None:
            _put(params, parameter.path.split("."), value)
    return params


def _parameter_value(parameter: Parameter, message: str) -> Any:
    if parameter.constant not in (None, ""):
        return parameter.constant
    if parameter.type in ("integer", "number"):
        number = _NUMBER.search(message)
        if number is None:
            return None
        text = number.group(0)
        return int(float(text)) if parameter.type == "integer" or "." not in text else float(text)
    if parameter.type == "boolean":
        return True
    leaf = parameter.path.rsplit(".", 1)[-1]
    if leaf == "id" or leaf.endswith("_id"):
        found = _ID_WORD.search(message)
        return found.group(0) if found else None
    if parameter.enum:
        said = content_words(message)
        return next((v for v in parameter.enum if content_words(v) <= said), parameter.enum[0])
    return message


def _put(tree: dict[str, Any], path: list[str], value: Any) -> None:
    for key in path[:-1]:
        tree = tree.setdefault(key, {})
    tree[path[-1]] = value


def _lookup(tree: Any, path: str) -> tuple[bool, Any]:
    for key in path.split("."):
        if not isinstance(tree, Mapping) or key not in tree:
            return False, None
        tree = tree[key]
    return True, tree


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def evaluate_tool_call(
    expectation: Mapping[str, Any] | None,
    calls: Sequence[ToolCall],
    *,
    check_any: bool | None = None,
) -> Verdict:
    """Judge the agent's ``calls`` against ``tool_call_parameters`` (rules in the module doc)."""
    if not expectation:
        return Verdict(True, (), "Success: the tool call is not evaluated.")
    reference = (expectation.get("referenced_tool") or {}).get("id")
    matching = [c for c in calls if reference is None or reference == (c.tool.id or c.tool.name)]
    called = ", ".join(call.tool.name for call in calls) or "no tool"
    wanted = f"tool {reference!r}" if reference else "a tool"
    if expectation.get("verify_absence"):
        if matching:
            return Verdict(False, (f"called {called}",), f"Failure: the agent called {wanted}.")
        return Verdict(True, (f"called {called}",), f"Success: the agent did not call {wanted}.")
    if not matching:
        return Verdict(False, (f"called {called}",), f"Failure: the agent did not call {wanted}.")
    if not check_any and len(calls) > 1:
        return Verdict(False, (f"called {called}",), "Failure: the agent called several tools.")
    verdicts = [_check_parameters(expectation.get("parameters") or [], c) for c in matching]
    return next((verdict for verdict in verdicts if verdict.success), verdicts[0])


def _check_parameters(checks: Sequence[Mapping[str, Any]], call: ToolCall) -> Verdict:
    messages = [check_parameter(check, call.params) for check in checks]
    failed = [message for ok, message in messages if not ok]
    lines = tuple(message for _, message in messages)
    params = json.dumps(call.params)
    if failed:
        return Verdict(
            False,
            lines,
            f"Failure: {call.tool.name} called with {params}; " + "; ".join(failed) + ".",
        )
    return Verdict(True, lines, f"Success: {call.tool.name} called with {params}.")


def check_parameter(check: Mapping[str, Any], params: Mapping[str, Any]) -> tuple[bool, str]:
    """Check one ``UnitTestToolCallParameter`` (``path`` and ``eval``) against ``params``:
    ``(ok, message)``."""
    path = str(check.get("path", ""))
    present, value = _lookup(params, path)
    rule = check.get("eval") or {}
    kind = rule.get("type")
    if not present:
        return False, f"{path}: missing"
    text = _as_text(value)
    if kind == "exact":
        ok = text == rule.get("expected_value")
        return (
            ok,
            f"{path}: {text!r} {'equals' if ok else 'differs from'} {rule.get('expected_value')!r}",
        )
    if kind == "regex":
        return _regex_check(path, text, str(rule.get("pattern", "")))
    if kind == "llm":
        verdict = judge(str(rule.get("description", "")), text)
        return verdict.success, f"{path}: {verdict.summary}"
    return True, f"{path}: present ({text!r})"


def _regex_check(path: str, text: str, pattern: str) -> tuple[bool, str]:
    try:
        ok = re.search(pattern, text) is not None
    except re.error as error:
        return False, f"{path}: invalid pattern {pattern!r} ({error})"
    return ok, f"{path}: {text!r} {'matches' if ok else 'does not match'} /{pattern}/"
