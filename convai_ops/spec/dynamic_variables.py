"""Dynamic variables: every ``{{name}}`` an agent uses must have a placeholder.

The API substitutes ``{{name}}`` in the system prompt, the first message and tool configs at
conversation start; a live conversation missing a variable is refused ("Missing required
dynamic variables"). Placeholders
(``conversation_config.agent.dynamic_variables.dynamic_variable_placeholders``) are the values
used when testing. So :func:`check_agent` (run on every project load, hence by ``validate``)
refuses a ``{{name}}`` that is neither a placeholder nor a system variable (``system__...``,
set by the platform), at ``file:line:col`` of the ``{{`` with a did-you-mean; a tool
parameter's ``dynamic_variable: NAME`` (filled from that variable) likewise.

Environments: the base agent.yaml (with its prompt file) is checked against its own
placeholders, since it is what every environment without an override gets; each override is
checked as merged (``agent.desired(env)``), so a placeholder declared only in an override
counts for that environment only.

Test files' ``dynamic_variables`` (:func:`check_test_variables`): values are strings, numbers
or booleans, names are not ``system__`` (the platform sets those) and are placeholders the
agent declares (in the base or any override), else the test would set a variable nothing uses.

Other loaders (``tools/<name>.yaml``) call :func:`check_placeholders` on one string or
:func:`check_strings` on a whole value with the names they accept.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convai_ops.errors import SpecError
from convai_ops.spec.validate import did_you_mean
from convai_ops.spec.yamlio import Document, Loc, field_name, read_document

if TYPE_CHECKING:
    from convai_ops.spec.models import AgentSpec, TestSpec

__all__ = [
    "PLACEHOLDERS_PATH",
    "PLACEHOLDER_PATTERN",
    "SYSTEM_PREFIX",
    "SYSTEM_VARIABLES",
    "call_variables",
    "check_agent",
    "check_placeholders",
    "check_strings",
    "check_test_variables",
    "declared_placeholders",
    "is_system",
    "placeholders_of",
    "used_names",
]

PLACEHOLDER_PATTERN = re.compile(r"\{\{\s*([\w.-]+)\s*\}\}")
"""A ``{{name}}`` reference (spaces inside the braces allowed, as the docs write
``{{ variable_name }}``); group 1 is the name."""

SYSTEM_PREFIX = "system__"
SYSTEM_VARIABLES = (
    "system__agent_id",
    "system__current_agent_id",
    "system__caller_id",
    "system__called_number",
    "system__call_duration_secs",
    "system__time_utc",
    "system__time",
    "system__timezone",
    "system__conversation_id",
    "system__call_sid",
    "system__agent_turns",
    "system__current_agent_turns",
    "system__current_subagent_turns",
    "system__is_text_only",
    "system__conversation_history",
)
"""The system variables the ElevenLabs docs ("Dynamic variables") list. Any ``system__`` name
passes (the prefix is reserved and the list grows); these feed the did-you-mean."""

PLACEHOLDERS_PATH = ("agent", "dynamic_variables", "dynamic_variable_placeholders")
"""Where placeholders live inside ``conversation_config``."""

_WHERE = "conversation_config.agent.dynamic_variables.dynamic_variable_placeholders"
_AGENT_TEXTS: tuple[tuple[str, ...], ...] = (
    ("agent", "prompt", "prompt"),
    ("agent", "first_message"),
    ("agent", "prompt", "tools"),
)
_SCALARS = (str, int, float, bool)
_NAME_FIELDS = ("dynamic_variable",)  # tool parameter schemas: filled from this variable


def is_system(name: str) -> bool:
    """True for a platform-set variable (``system__`` prefix)."""
    return name.startswith(SYSTEM_PREFIX)


def used_names(text: str) -> list[str]:
    """The variable names ``text`` references, in order (repeats kept)."""
    return [match.group(1) for match in PLACEHOLDER_PATTERN.finditer(text)]


def placeholders_of(conversation_config: Mapping[str, Any]) -> dict[str, Any]:
    """``conversation_config.agent.dynamic_variables.dynamic_variable_placeholders`` ({} if
    absent)."""
    value: Any = conversation_config
    for key in PLACEHOLDERS_PATH:
        value = value.get(key) if isinstance(value, Mapping) else None
    return dict(value) if isinstance(value, Mapping) else {}


def declared_placeholders(agent: AgentSpec) -> set[str]:
    """Every placeholder name ``agent`` declares, in the base or in any override."""
    names = set(placeholders_of(agent.conversation_config))
    for env in agent.overrides:
        names |= set(placeholders_of(agent.desired(env)["conversation_config"]))
    return names


def _unknown(name: str, declared: Collection[str]) -> str | None:
    """The message for ``name`` when it is neither declared nor a system variable."""
    if name in declared or is_system(name):
        return None
    hint = did_you_mean(name, [*declared, *SYSTEM_VARIABLES])
    return f"{{{{{name}}}}} has no placeholder under {_WHERE}{hint}"


def check_placeholders(
    doc: Document, text: str, loc: Loc, declared: Collection[str], *, context: str = ""
) -> None:
    """Refuse the first ``{{name}}`` of ``text`` (the string at ``loc`` in ``doc``) that is not
    in ``declared`` and not a system variable: :class:`SpecError` at the ``{{``'s line and
    column (the key's when the text cannot be found in the file). ``context`` is appended to
    the message (e.g. `` in environment 'prod'``)."""
    for index, match in enumerate(PLACEHOLDER_PATTERN.finditer(text)):
        message = _unknown(match.group(1), declared)
        if message is not None:
            line, column = _locate_in_yaml(doc, loc, match.group(0), _occurrence(text, index))
            raise SpecError(
                doc.path, message + context, line=line, column=column, field=field_name(loc)
            )


def check_strings(
    doc: Document, value: Any, loc: Loc, declared: Collection[str], *, context: str = ""
) -> None:
    """:func:`check_placeholders` on every string inside ``value`` (found at ``loc``); a
    tool parameter's ``dynamic_variable: NAME`` (the parameter filled from that variable)
    must name a placeholder or system variable too."""
    for where, text in _strings(value, tuple(loc)):
        if where and where[-1] in _NAME_FIELDS and text:
            _check_named(doc, text, where, declared, context)
        else:
            check_placeholders(doc, text, where, declared, context=context)


def _check_named(
    doc: Document, name: str, loc: Loc, declared: Collection[str], context: str
) -> None:
    message = _unknown(name, declared)
    if message is not None:
        line, column = _locate_in_yaml(doc, loc, name, 0)
        message = message.replace(f"{{{{{name}}}}}", f"dynamic variable {name!r}", 1)
        raise SpecError(
            doc.path, message + context, line=line, column=column, field=field_name(loc)
        )


def _strings(value: Any, loc: tuple[str | int, ...]) -> Iterator[tuple[Loc, str]]:
    if isinstance(value, str):
        yield loc, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, (*loc, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*loc, index))


def _occurrence(text: str, index: int) -> int:
    """How many earlier matches of ``text`` read exactly as match ``index`` does."""
    matches = list(PLACEHOLDER_PATTERN.finditer(text))
    same = matches[index].group(0)
    return sum(1 for match in matches[:index] if match.group(0) == same)


def _locate_in_yaml(doc: Document, loc: Loc, needle: str, skip: int) -> tuple[int, int]:
    """1-based line and column of the ``skip``-th ``needle`` after the value at ``loc``."""
    start = _value_offset(doc, loc)
    if start is not None:
        found = _find(doc.text, needle, start, skip)
        if found is not None:
            return _line_column(doc.text, found)
    return doc.position(loc)


def _value_offset(doc: Document, loc: Loc) -> int | None:
    """Character offset in ``doc.text`` where the value at ``loc`` starts."""
    if not loc or not doc.text:
        return None
    try:
        node = doc.node
        for step in loc[:-1]:
            node = node[step]
        last = loc[-1]
        line, column = node.lc.item(last) if isinstance(last, int) else node.lc.value(last)
    except (KeyError, IndexError, TypeError, AttributeError):
        return None
    lines = doc.text.splitlines(keepends=True)
    return sum(len(text) for text in lines[: int(line)]) + int(column)


def _find(text: str, needle: str, start: int, skip: int) -> int | None:
    at = text.find(needle, start)
    for _ in range(skip):
        at = text.find(needle, at + 1) if at >= 0 else -1
    return at if at >= 0 else None


def _line_column(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    line = before.count("\n") + 1
    return line, offset - (before.rfind("\n") + 1) + 1


def check_prompt_file(
    path: Path, text: str, declared: Collection[str], *, context: str = ""
) -> None:
    """Refuse the first undeclared ``{{name}}`` of the prompt file ``path`` (its ``text``) at
    its line and column; raises :class:`SpecError`."""
    for match in PLACEHOLDER_PATTERN.finditer(text):
        message = _unknown(match.group(1), declared)
        if message is not None:
            line, column = _line_column(text, match.start())
            raise SpecError(path, message + context, line=line, column=column)


def check_agent(doc: Document, agent: AgentSpec) -> None:
    """Check the prompt, first message and inline tool configs of ``agent`` (its agent.yaml
    ``doc``) in the base and in each override's environment (module docstring). Raises
    :class:`SpecError`."""
    base = agent.conversation_config
    _check_config(doc, agent, base, (), placeholders_of(base), "")
    for env in agent.overrides:
        merged = agent.desired(env)["conversation_config"]
        prefix: tuple[str, ...] = ("overrides", env, "conversation_config")
        context = f" (environment {env!r})"
        _check_config(doc, agent, merged, prefix, placeholders_of(merged), context)


def _check_config(
    doc: Document,
    agent: AgentSpec,
    config: Mapping[str, Any],
    prefix: tuple[str, ...],
    declared: Collection[str],
    context: str,
) -> None:
    override = _dig(agent.overrides.get(str(prefix[1])), ("conversation_config",)) if prefix else {}
    for path in _AGENT_TEXTS:
        value = _dig(config, path)
        if value is None:
            continue
        mine = bool(prefix) and _dig(override, path) is not None
        if path[-1] == "prompt" and not mine and agent.prompt_file is not None:
            check_prompt_file(agent.prompt_file, str(value), declared, context=context)
            continue
        loc = (*prefix, *path) if mine else ("conversation_config", *path)
        check_strings(doc, value, loc, declared, context=context)


def _dig(value: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def check_test_variables(test: TestSpec, declared: Collection[str]) -> None:
    """Refuse a test's ``dynamic_variables`` entry that is a system variable, not a string,
    number or boolean, or not one of the agent's placeholders ``declared``; raises
    :class:`SpecError` at the entry."""
    variables = test.body.get("dynamic_variables")
    if not variables:
        return
    for name, value in variables.items():
        problem = _test_variable_problem(str(name), value, declared)
        if problem is not None:
            raise read_document(test.path).error(("dynamic_variables", str(name)), problem)


def _test_variable_problem(name: str, value: Any, declared: Collection[str]) -> str | None:
    if is_system(name):
        return f"{name!r} is a system variable: the platform sets it, a test cannot"
    if value is None or not isinstance(value, _SCALARS):
        return "a dynamic variable's value is a string, a number or true/false"
    if name not in declared:
        hint = did_you_mean(name, declared) or (
            f" (placeholders: {', '.join(sorted(declared))})" if declared else ""
        )
        return f"the agent has no placeholder {name!r} under {_WHERE}{hint}"
    return None


def call_variables(
    conversation: Mapping[str, Any], declared: Collection[str]
) -> tuple[dict[str, Any], list[str]]:
    """Split the dynamic variables of ``conversation`` (as ``GET
    /v1/convai/conversations/{id}`` answers, ``conversation_initiation_client_data``): those a
    test can set (``declared`` placeholders of the agent), and the others as ``"name (why)"``:
    system variables, ``secret__`` ones, names without a placeholder."""
    data = conversation.get("conversation_initiation_client_data") or {}
    kept: dict[str, Any] = {}
    left_out: list[str] = []
    for name, value in (data.get("dynamic_variables") or {}).items():
        why = _why_not_copied(str(name), declared)
        if why:
            left_out.append(f"{name} ({why})")
        else:
            kept[str(name)] = value
    return kept, left_out


def _why_not_copied(name: str, declared: Collection[str]) -> str | None:
    if is_system(name):
        return "set by the platform"
    if name.startswith("secret__"):
        return "secret: kept out of files"
    return None if name in declared else "no placeholder in agent.yaml"
