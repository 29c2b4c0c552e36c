"""Limits every user file is read within: nesting depth and sizes, each with a one-line error.

- :data:`DEPTH_LIMIT`: YAML nested deeper is refused as "nested too deeply" at the line and
  column of the first collection past the cap, for any depth: the check walks the parser's
  events (no recursion), before the recursive composers run (the C one would overflow the
  C stack on a file nested a million deep; the Python one would raise ``RecursionError``).
- :data:`MAX_YAML_BYTES`, :data:`MAX_PROMPT_BYTES`: caps of convai-ops's own (the ElevenLabs
  docs give none), far above any real agent, so that a stray file cannot exhaust memory.
- :data:`MAX_KNOWLEDGE_BYTES` (21 MB per file) and :data:`MAX_PROMPT_MODE_BYTES` (300 KB for a
  document used in prompt mode): stated by the knowledge-base docs (BEHAVIOUR.md "Knowledge
  base").
- :func:`add_stated_ranges`: ranges the spec states in a field's description ("Must be between
  2 and 15 seconds") where that field's schema has no ``minimum``/``maximum`` (e.g.
  ``cascade_timeout_seconds`` in a workflow node's prompt override) become schema bounds, so
  validate reports them at their line like any other range.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent

from convai_ops.errors import SpecError

__all__ = [
    "DEPTH_LIMIT",
    "MAX_KNOWLEDGE_BYTES",
    "MAX_PROMPT_BYTES",
    "MAX_PROMPT_MODE_BYTES",
    "MAX_YAML_BYTES",
    "add_stated_ranges",
    "check_depth",
    "check_size",
]

DEPTH_LIMIT = 64
"""Most nested lists and mappings one YAML file may hold (the top mapping counts as one)."""
MAX_YAML_BYTES = 2_000_000
"""Largest YAML file convai-ops reads (a stated cap of its own: the docs give none)."""
MAX_PROMPT_BYTES = 2_000_000
"""Largest prompt file (a stated cap of its own: the docs give none for the prompt)."""
MAX_KNOWLEDGE_BYTES = 21_000_000
"""The docs' 21 MB per knowledge file, read as 21,000,000 bytes (the stricter reading)."""
MAX_PROMPT_MODE_BYTES = 300_000
"""The docs' 300 KB for a document used in prompt mode, read as 300,000 bytes (stricter)."""

_STATED_RANGE = re.compile(r"[Mm]ust be between (-?\d+(?:\.\d+)?) and (-?\d+(?:\.\d+)?)")
_HAVE_C_PARSER = importlib.util.find_spec("_ruamel_yaml") is not None


def check_size(path: Path, limit: int, what: str, *, field: str = "") -> None:
    """Raise :class:`SpecError` at ``path`` when the file is larger than ``limit`` bytes.

    ``what`` names the file's role in the message (``"a YAML file"``); a missing file passes.
    """
    try:
        size = path.stat().st_size
    except OSError:
        return
    if size > limit:
        message = f"{size} bytes is too large for {what} (at most {limit} bytes)"
        raise SpecError(path, message, field=field)


def check_depth(path: Path, text: str) -> None:
    """Raise :class:`SpecError` ("nested too deeply", with line and column) when ``text``
    nests lists and mappings deeper than :data:`DEPTH_LIMIT`. Syntax errors are left to the
    parser that reports them; linear in the text, never recursive."""
    depth = 0
    try:
        for event in _events(text):
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > DEPTH_LIMIT:
                    raise _too_deep(path, event)
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
    except YAMLError:
        return


def _too_deep(path: Path, event: Any) -> SpecError:
    mark = event.start_mark
    message = f"nested too deeply (more than {DEPTH_LIMIT} levels of lists and mappings)"
    return SpecError(path, message, line=mark.line + 1, column=mark.column + 1)


def _events(text: str) -> Any:
    """The parser events of ``text``: libyaml's when installed, else ruamel's pure parser."""
    if _HAVE_C_PARSER:
        from _ruamel_yaml import CParser  # type: ignore[import-not-found]

        parser = CParser(text)
        try:
            event = parser.get_event()
            while event is not None:
                yield event
                event = parser.get_event()
        finally:
            parser.dispose()
        return
    from ruamel.yaml import YAML

    yield from YAML(typ="rt", pure=True).parse(text)


def add_stated_ranges(defs: dict[str, Any]) -> list[str]:
    """Add ``minimum``/``maximum`` to each numeric property of ``defs`` (bundled components)
    whose description says "Must be between A and B" and whose schema gives no bound; returns
    ``component.property`` of each one changed. Changes ``defs`` in place."""
    changed = []
    for name, component in defs.items():
        for key, prop in (component.get("properties") or {}).items():
            stated = _STATED_RANGE.search(str(prop.get("description", "")))
            if stated and _bound(prop, float(stated.group(1)), float(stated.group(2))):
                changed.append(f"{name}.{key}")
    return changed


def _bound(prop: dict[str, Any], low: float, high: float) -> bool:
    numeric = [b for b in prop.get("anyOf", [prop]) if b.get("type") in ("number", "integer")]
    if not numeric or any("minimum" in b or "maximum" in b for b in numeric):
        return False
    for branch in numeric:
        branch["minimum"] = int(low) if low.is_integer() else low
        branch["maximum"] = int(high) if high.is_integer() else high
    return True
