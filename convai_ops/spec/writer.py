"""Writing YAML for ``import`` and ``pull``: new files, and in-place updates that keep comments.

:func:`update_yaml` rewrites only the values that changed: comments, key order and the
quoting of untouched values survive. Multi-line strings are written as ``|`` blocks, except
those holding a character a block cannot carry unchanged (see :data:`_ESCAPED`): any string
with one is written double-quoted, escaped, so every string reads back as it was written.

Strings a YAML 1.1 reader (PyYAML, many editors and CI tools) would take for another type when
written plain, keys and values alike, are double-quoted too (see :data:`_YAML11_TYPED`): ``no``
(a Norwegian language key) must not come back as ``false``, nor ``1:20`` as ``80``.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Mapping
from io import StringIO
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString

from convai_ops.errors import SpecError
from convai_ops.spec.yamlio import read_tree, round_trip_yaml

__all__ = ["dump_yaml", "update_yaml"]

_ESCAPED = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")
"""Characters written only as escapes: C0 controls but tab and newline, DEL, C1 controls, and
those a reader refuses (BOM, non-characters) or reads as line breaks (CR, NEL, LS, PS) when
written as they are."""


_YAML11_TYPED = re.compile(
    r"""(?ix)
    y|n|yes|no|on|off|true|false                            # booleans
    |~|null                                                 # nulls ('' ruamel quotes itself)
    |[-+]?(?:0b[01_]+|0o?[0-7_]+|0x[0-9a-f_]+|[0-9][0-9_]*) # integers: binary, octal, hex, decimal
    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?      # sexagesimal (base 60) ints and floats
    |[-+]?(?:[0-9][0-9_]*)?\.[0-9._]*(?:e[-+]?[0-9]+)?     # floats with a point
    |[-+]?[0-9][0-9_]*e[-+]?[0-9]+                          # floats with an exponent only
    |[-+]?\.inf|\.nan                                       # infinities, not-a-number
    |[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[ \t]*[t ].*)?        # timestamps
    |<<|=                                                   # merge key, value key
    """
)
"""Plain scalars a YAML 1.1 reader resolves to a type other than a string (in any case, and a
little wider than the 1.1 regular expressions, e.g. ``1.2.3``), so written quoted."""


def dump_yaml(data: Mapping[str, Any], path: Path, *, header: str | None = None) -> None:
    """Write ``data`` to ``path`` as YAML, ``header`` (a comment line) first.

    The file is replaced atomically; parent folders are created. Raises ``OSError``.
    """
    text = _render(_styled(data))
    if header:
        text = header.rstrip("\n") + "\n" + text
    _write(path, text)


def update_yaml(path: Path, data: Mapping[str, Any]) -> None:
    """Make ``path`` hold ``data``, changing only what differs (comments and order kept).

    Keys missing from ``data`` are removed, new keys appended. A missing file is created with
    :func:`dump_yaml`. Raises :class:`SpecError` when the file is not valid YAML, ``OSError``.
    """
    if not path.exists():
        dump_yaml(data, path)
        return
    tree = read_tree(path)
    if tree is not None and not isinstance(tree, CommentedMap):
        raise SpecError(path, "expected a mapping at the top", line=1, column=1)
    _write(path, _render(_update(tree if tree is not None else CommentedMap(), data)))


def _update(old: Any, new: Any) -> Any:
    """``new``, reusing ``old``'s nodes (and so their comments and styles) where they agree."""
    if isinstance(old, CommentedMap) and isinstance(new, Mapping):
        for key in [key for key in old if key not in new]:
            del old[key]
        _requote_keys(old)
        for key, value in new.items():
            old[key if key in old else _key(key)] = (
                _update(old[key], value) if key in old else _styled(value)
            )
        return old
    if isinstance(old, CommentedSeq) and isinstance(new, list | tuple) and len(old) == len(new):
        for index, value in enumerate(new):
            old[index] = _update(old[index], value)
        return old
    if _same_scalar(old, new):
        return old
    return _styled(new)


def _requote_keys(tree: CommentedMap) -> None:
    """Quote, in place, the plain keys a YAML 1.1 reader would misread (their value kept)."""
    for index, key in enumerate(list(tree)):
        if _is_plain_misread(key):
            tree.insert(index, _key(key), tree.pop(key))


def _is_plain_misread(value: Any) -> bool:
    """``value`` was read from a plain scalar (not quoted) that needs quotes to be written."""
    return type(value) is str and _needs_quotes(value)


def _same_scalar(old: Any, new: Any) -> bool:
    if isinstance(old, dict | list) or isinstance(new, dict | list | tuple):
        return False
    if _is_plain_misread(old):
        return False
    return bool(old == new) and isinstance(old, bool) == isinstance(new, bool)


def _styled(value: Any) -> Any:
    """Plain data as round-trip nodes; strings become ``"..."`` or ``|`` blocks when needed."""
    if isinstance(value, Mapping):
        return CommentedMap((_key(k), _styled(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return CommentedSeq(_styled(item) for item in value)
    if isinstance(value, str) and _needs_quotes(value):
        return DoubleQuotedScalarString(value)
    if isinstance(value, str) and "\n" in value:
        return LiteralScalarString(value)
    return value


def _key(key: Any) -> str:
    """A mapping key: double-quoted when it holds a character written only as an escape, or
    when a YAML 1.1 reader would not read it back as this string."""
    text = str(key)
    return DoubleQuotedScalarString(text) if _needs_quotes(text) else text


def _needs_quotes(text: str) -> bool:
    return bool(_ESCAPED.search(text) or _YAML11_TYPED.fullmatch(text))


def _render(tree: Any) -> str:
    buffer = StringIO()
    yaml = round_trip_yaml()
    yaml.width = sys.maxsize  # never fold: ruamel's folding of long strings can change them
    yaml.dump(tree, buffer)
    return buffer.getvalue()


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
