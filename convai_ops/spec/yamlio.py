"""Reading YAML files with their positions: ruamel.yaml, plain data out.

:func:`read_document` parses one file into a :class:`Document`: its content as plain
``dict``/``list``/``str``/``int``/``float``/``bool``/``None``, and the round-trip tree (used only
to find a key's line and column). Unknown tags construct nothing; they are refused, on scalars,
lists and mappings alike. Dates and times stay strings, as written. Anchors and aliases work
up to :data:`ALIAS_LIMIT` (against "billion laughs" files).

The round-trip parser is pure Python. When ``ruamel.yaml.clib`` is installed, a file is first
read with its C parser (safe mode: standard YAML types only); the round-trip tree is then built
only when a position is asked for, and any file the C path does not accept is read again in
round-trip mode, which reports the problem. Files that may hold an alias (a ``*`` followed by
a name character) always take the round-trip path, where the alias cap is enforced. Both paths
give the same data.
"""

from __future__ import annotations

import datetime
import importlib.util
import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.composer import Composer
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent
from ruamel.yaml.nodes import CollectionNode, MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.resolver import VersionedResolver, implicit_resolvers
from ruamel.yaml.scalarbool import ScalarBoolean
from ruamel.yaml.tag import Tag

from convai_ops.errors import SpecError
from convai_ops.spec.limits import DEPTH_LIMIT, MAX_YAML_BYTES, check_depth, check_size

__all__ = [
    "ALIAS_LIMIT",
    "Document",
    "Loc",
    "field_name",
    "read_document",
    "read_tree",
    "round_trip_yaml",
]

Loc = Sequence[str | int]
_STR_TAG = "tag:yaml.org,2002:str"
_DUPLICATE = re.compile(r'found duplicate key "(.*?)" with value')
_MAY_ALIAS = re.compile(r"\*[^ \t\r\n,\[\]{}]")  # over-approximates: never misses an alias

ALIAS_LIMIT = 100_000
"""Most values the aliases of one file may repeat in total: each use of an alias counts every
value (scalar, list, mapping, key) under its anchor, nested aliases expanded. Past it, or for an
alias used inside its own anchor, the file is refused at that alias. Counted before expanding."""

_HAVE_C_PARSER = importlib.util.find_spec("_ruamel_yaml") is not None  # ruamel.yaml.clib


def _core_schema() -> dict[str, list[tuple[str, re.Pattern[str]]]]:
    """YAML 1.2 implicit types by first character; dates, times and ``=`` stay strings."""
    table: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
    for versions, tag, pattern, first in implicit_resolvers:
        if (1, 2) in versions and tag.rsplit(":", 1)[-1] not in ("timestamp", "value", "yaml"):
            for char in first:
                compiled = re.compile(pattern.pattern, pattern.flags)
                table.setdefault(char, []).append((tag, compiled))
    return table


_CORE_SCHEMA = _core_schema()


class _Resolver(VersionedResolver):
    """YAML 1.2 core schema whatever the ``%YAML`` directive; dates and times stay strings."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is ScalarNode:
            if implicit[0]:
                for tag, pattern in _CORE_SCHEMA.get(value[:1], ()):
                    if pattern.match(value):
                        return Tag(suffix=tag)
            return self.DEFAULT_SCALAR_TAG
        return self.DEFAULT_SEQUENCE_TAG if kind is SequenceNode else self.DEFAULT_MAPPING_TAG


class _AliasRefused(SpecError):
    """An alias the cap refuses, raised by :class:`_Composer`, which does not know the path."""


class _Composer(Composer):
    """Counts, at each alias, the values it repeats (sizes memoised: linear in the file, however
    much it would expand); raises :class:`_AliasRefused` as :data:`ALIAS_LIMIT` describes."""

    _sizes: dict[int, int]  # id(node) -> its size; set for each document
    _repeated: int
    _steps: list[str | int | None]  # the path to the node being composed (None: a key)

    def compose_document(self) -> Any:
        self._sizes, self._repeated, self._steps = {}, 0, []
        return super().compose_document()

    def compose_node(self, parent: Any, index: Any) -> Any:
        step = index.value if isinstance(index, ScalarNode) else index  # None: a mapping key
        self._steps.append(step if isinstance(step, str | int) else None)
        try:
            if self.parser.check_event(AliasEvent):
                self._count(self.parser.peek_event())
            return super().compose_node(parent, index)
        finally:
            self._steps.pop()

    def _count(self, event: Any) -> None:
        node = self.anchors.get(event.anchor)
        if node is None:  # undefined: the base class reports it
            return
        if isinstance(node, CollectionNode) and node.end_mark is None:
            problem = "is used inside its own anchor"
        else:
            self._repeated += self._size(node)
            if self._repeated <= ALIAS_LIMIT:
                return
            problem = f"makes this file's aliases repeat more than {ALIAS_LIMIT} values (YAML bomb)"
        mark, steps = event.start_mark, [step for step in self._steps if step is not None]
        message = f"alias *{event.anchor} {problem}"
        line, column = mark.line + 1, mark.column + 1
        raise _AliasRefused(Path(), message, line=line, column=column, field=field_name(steps))

    def _size(self, node: Node) -> int:
        """How many values ``node`` stands for, every alias under it expanded."""
        known = self._sizes.get(id(node))
        if known is None:
            known = 1
            if isinstance(node, SequenceNode):
                known += sum(self._size(item) for item in node.value)
            elif isinstance(node, MappingNode):
                known += sum(self._size(key) + self._size(value) for key, value in node.value)
            self._sizes[id(node)] = known
        return known


@dataclass(frozen=True)
class Document:
    """A parsed YAML file: ``data`` (plain, a ``dict``); ``node`` is its round-trip tree."""

    path: Path
    data: dict[str, Any]
    text: str = ""
    _node: list[Any] = field(default_factory=list, repr=False, compare=False)

    @property
    def node(self) -> Any:
        """The round-trip tree (parsed on first use when the C parser read the file)."""
        if not self._node:
            self._node.append(_parse(self.path, self.text) if self.text else CommentedMap())
        return self._node[0]

    def position(self, loc: Loc) -> tuple[int, int]:
        """1-based (line, column) of the key or item at ``loc`` (its nearest known parent)."""
        return _locate(self.node, loc)

    def error(self, loc: Loc, message: str) -> SpecError:
        """A :class:`SpecError` for the key or item at ``loc`` (``[]``: the whole file)."""
        line, column = self.position(loc)
        return SpecError(
            self.path, _one_line(message), line=line, column=column, field=field_name(loc)
        )


def field_name(loc: Loc) -> str:
    """``("a", "b", 0, "c")`` -> ``"a.b[0].c"``."""
    out = ""
    for step in loc:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


def _one_line(text: str) -> str:
    return " ".join(text.split())


def read_document(path: Path, *, missing_ok: bool = False) -> Document:
    """Parse ``path`` (UTF-8 YAML, one document whose top is a mapping; empty means ``{}``).

    Raises :class:`SpecError` for an unreadable file, a syntax error (with the parser's line and
    column), a duplicate key, an unsupported tag or value, an alias past :data:`ALIAS_LIMIT`, or
    a top level that is not a mapping, a file nested deeper than :data:`DEPTH_LIMIT` or larger
    than :data:`MAX_YAML_BYTES` (``convai_ops.spec.limits``).
    With ``missing_ok``, a missing file reads as ``{}``.
    """
    if missing_ok and not path.exists():
        return Document(path, {})
    text = _read_text(path)
    data = _fast_data(path, text)
    if data is not None:
        return Document(path, data, text)
    node = _parse(path, text)
    if node is None:
        return Document(path, {}, text, [CommentedMap()])
    if not isinstance(node, CommentedMap):
        raise SpecError(path, f"expected a mapping at the top, got {_kind(node)}", line=1, column=1)
    return Document(path, _plain(node, path, (1, 1)), text, [node])


def _fast_data(path: Path, text: str) -> dict[str, Any] | None:
    """The file's data through the C parser; ``None`` when unavailable or not accepted."""
    if not _HAVE_C_PARSER or "\t" in text:  # the two scanners differ on tabs: leave them to rt
        return None
    if _MAY_ALIAS.search(text):  # the alias cap is counted by the round-trip composer
        return None
    yaml = YAML(typ="safe")
    yaml.Resolver = _Resolver
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = yaml.load(text)
        if tree is None:
            return {}
        return _plain(tree, path, (0, 0)) if isinstance(tree, dict) else None
    except Exception:  # any refusal is reported by the round-trip parser, with its position
        return None


def _read_text(path: Path) -> str:
    """The file's text, within :data:`MAX_YAML_BYTES` and :data:`DEPTH_LIMIT`."""
    check_size(path, MAX_YAML_BYTES, "a YAML file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(path, f"not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise SpecError(path, f"cannot read the file: {exc.strerror or exc}") from None
    check_depth(path, text)
    return text


def round_trip_yaml() -> YAML:
    """A ruamel.yaml round-trip instance set up for convai-ops files (2-space indents)."""
    yaml = YAML(typ="rt", pure=True)
    yaml.Resolver = _Resolver
    yaml.Composer = _Composer
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    yaml.preserve_quotes = True
    return yaml


def read_tree(path: Path) -> Any:
    """The round-trip tree of ``path`` (comments and styles kept); raises :class:`SpecError`."""
    return _parse(path, _read_text(path))


def _parse(path: Path, text: str) -> Any:
    yaml = round_trip_yaml()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return yaml.load(text)
    except _AliasRefused as exc:
        raise SpecError(
            path, exc.reason, line=exc.line, column=exc.column, field=exc.field
        ) from None
    except MarkedYAMLError as exc:
        raise _syntax_error(path, exc) from None
    except (YAMLError, RecursionError, ValueError, TypeError, AttributeError, IndexError) as exc:
        # The parser has no position for these (reader errors, pathological nesting).
        raise SpecError(path, f"invalid YAML: {_one_line(str(exc))[:200]}") from None


def _syntax_error(path: Path, exc: MarkedYAMLError) -> SpecError:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
    problem = _one_line(str(exc.problem or exc.context or "syntax error"))
    duplicate = _DUPLICATE.search(problem)
    if duplicate:
        key = duplicate.group(1)
        return SpecError(path, f"duplicate key {key!r}", line=line, column=column, field=key)
    context = ""
    if exc.context:
        at = exc.context_mark
        context = (
            _one_line(exc.context) + (f" (line {at.line + 1})" if at is not None else "") + ": "
        )
    return SpecError(path, f"invalid YAML: {context}{problem}", line=line, column=column)


def _locate(root: Any, loc: Loc) -> tuple[int, int]:
    line, column = _start(root)
    node = root
    for step in loc:
        position = _child_position(node, step)
        if position is None:
            break
        line, column = position
        node = node[step]
    return line + 1, column + 1


def _start(node: Any) -> tuple[int, int]:
    lc = getattr(node, "lc", None)
    if lc is None or lc.line is None:
        return 0, 0
    return int(lc.line), int(lc.col)


def _child_position(node: Any, step: str | int) -> tuple[int, int] | None:
    try:
        if isinstance(node, CommentedMap) and step in node:
            line, column = node.lc.key(step)
        elif isinstance(node, CommentedSeq) and isinstance(step, int) and step < len(node):
            line, column = node.lc.item(step)
        else:
            return None
    except (KeyError, IndexError, TypeError):  # merged keys (<<) carry no position
        return None
    return int(line), int(column)


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a scalar ({_short(value)})"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_Where = tuple[int, int]
_Steps = tuple[str | int, ...]


def _fail(path: Path, where: _Where, loc: _Steps, message: str) -> SpecError:
    return SpecError(path, message, line=where[0], column=where[1], field=field_name(loc))


def _plain(node: Any, path: Path, where: _Where, loc: _Steps = ()) -> Any:
    """Convert a round-trip value at ``loc`` (1-based position ``where``) to plain data."""
    if len(loc) > DEPTH_LIMIT:  # check_depth refused it already: a guard for direct callers
        raise _fail(path, where, loc, "nested too deeply")
    if isinstance(node, dict):
        return _plain_mapping(node, path, where, loc)
    if isinstance(node, list):
        _check_tag(node, path, where, loc)
        return [
            _plain(item, path, _here(node, index, where), (*loc, index))
            for index, item in enumerate(node)
        ]
    return _plain_scalar(node, path, where, loc)


def _check_tag(node: Any, path: Path, where: _Where, loc: _Steps) -> None:
    """Refuse a tagged list or mapping (ruamel keeps the tag only when it has no constructor)."""
    tag = getattr(getattr(node, "tag", None), "value", None)
    if tag:
        raise _fail(path, where, loc, f"unsupported YAML tag {tag}")


def _plain_mapping(node: Any, path: Path, where: _Where, loc: _Steps) -> dict[str, Any]:
    _check_tag(node, path, where, loc)
    out: dict[str, Any] = {}
    for key, value in node.items():
        here = _here(node, key, where)
        if not isinstance(key, str):
            raise _fail(path, here, loc, f"keys must be strings, got {_short(key)} (quote it)")
        out[str(key)] = _plain(value, path, here, (*loc, str(key)))
    return out


def _here(node: Any, step: Any, where: _Where) -> _Where:
    position = _child_position(node, step)
    return (position[0] + 1, position[1] + 1) if position else where


def _plain_scalar(value: Any, path: Path, where: _Where, loc: _Steps) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, ScalarBoolean):  # an int subclass, used for anchored booleans
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float) and math.isfinite(value):
        return float(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, TaggedScalar) and getattr(value.tag, "value", None) == _STR_TAG:
        return str(value.value)
    raise _fail(path, where, loc, _unsupported(value))


def _unsupported(value: Any) -> str:
    if isinstance(value, float):
        return f"{value} is not allowed"
    if isinstance(value, TaggedScalar):
        return f"unsupported YAML tag {getattr(value.tag, 'value', value.tag)}"
    return f"unsupported YAML value of type {type(value).__name__}"
