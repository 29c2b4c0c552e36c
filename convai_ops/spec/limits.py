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
"""

from __future__ import annotations

import importlib.util
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
