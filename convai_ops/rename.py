"""Renaming an agent's folder (``convai-ops mv OLD NEW``) without losing its live agent.

There is no state file, so the old slug is recorded where the next plan reads it: ``mv`` adds
``OLD`` to ``previous_slugs:`` in the moved ``agent.yaml`` (a field of the agent schema).
Identity resolution (:func:`convai_ops.state.resolve_agent_id`) then finds the live agent still
tagged ``convai-ops:OLD`` when none carries ``convai-ops:NEW``, and the plan re-tags it
(``~ tag convai-ops:OLD -> convai-ops:NEW``) instead of creating a second agent. The folder is
moved with ``git mv`` when git tracks it, else renamed. A folder already renamed by hand
(``git mv``, a file manager) is caught by ``mv`` too: when OLD is gone and NEW exists, only
``previous_slugs`` is written; the plan of such a folder hints at running it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from convai_ops.errors import UsageError

__all__ = ["Moved", "move_agent"]


@dataclass(frozen=True)
class Moved:
    """What ``mv`` did: the new ``agent.yaml``, how the folder moved (``"git mv"``,
    ``"renamed"``, or ``"already moved"`` when only ``previous_slugs`` was written) and the
    ``previous_slugs`` now recorded."""

    agent_yaml: Path
    how: str
    previous_slugs: tuple[str, ...]


def move_agent(root: Path, old: str, new: str) -> Moved:
    """Move ``root/agents/old`` to ``root/agents/new`` and record ``old`` in its
    ``previous_slugs``. Raises ``UsageError`` (nothing changed) when a slug is not valid, NEW
    exists while OLD does too, or neither exists; ``SpecError`` when agent.yaml is not YAML."""
    from convai_ops.spec import SLUG_PATTERN

    for slug in (old, new):
        if not SLUG_PATTERN.match(slug):
            raise UsageError(
                f"{slug!r} is not a valid agent slug (lowercase letters, digits, '-' and '_', "
                "starting with a letter or digit)"
            )
    if old == new:
        raise UsageError(f"{old!r} and {new!r} are the same agent")
    source, target = root / "agents" / old, root / "agents" / new
    if _is_agent(source):
        how = _move(source, target, new)
    elif _is_agent(target):
        how = "already moved"
    else:
        raise UsageError(f"no agent folder {source} (nor {target} to record the rename in)")
    slugs = _record(target / "agent.yaml", old, new)
    return Moved(target / "agent.yaml", how, slugs)


def _is_agent(folder: Path) -> bool:
    return (folder / "agent.yaml").is_file()


def _move(source: Path, target: Path, new: str) -> str:
    if target.exists():
        raise UsageError(f"{target} already exists: choose another name than {new!r}")
    from convai_ops.git import move_tracked

    if move_tracked(source, target):
        return "git mv"
    source.rename(target)
    return "renamed"


def _record(agent_yaml: Path, old: str, new: str) -> tuple[str, ...]:
    """Add ``old`` (last) to ``previous_slugs`` of ``agent_yaml``, dropping ``new`` (a folder
    renamed back); comments and the other keys are kept."""
    from convai_ops.spec.writer import update_yaml
    from convai_ops.spec.yamlio import read_document

    data = dict(read_document(agent_yaml).data)
    kept = [str(s) for s in data.get("previous_slugs") or () if s not in (old, new)]
    data["previous_slugs"] = [*kept, old]
    update_yaml(agent_yaml, data)
    return tuple(data["previous_slugs"])
