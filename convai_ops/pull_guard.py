"""Pull without losing work: every file is checked before any is written.

:func:`guarded_pull` runs :func:`convai_ops.pull.pull_agents` on a scratch copy of the
repository's files (``convai-ops.yaml``, ``agents/``, ``tools/``), so nothing in the repository
changes while the live agents are read and the new files computed. The files of the copy that
differ from the repository's are what pull would write. In a git repository, when any of them
holds uncommitted changes (modified or staged, or untracked: ``git.uncommitted_files``), pull
writes nothing and raises :class:`PullConflictError` naming them, unless ``force``. Outside git
there is no such guard. Only then are the new files copied into the repository.
"""

from __future__ import annotations

import filecmp
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from convai_ops.errors import ConvaiOpsError, SpecError
from convai_ops.git import uncommitted_files
from convai_ops.pull import PullResult, pull_agents
from convai_ops.spec import load_project
from convai_ops.spec.loader import CONFIG_FILE

if TYPE_CHECKING:
    from convai_ops.api import ConvaiClient
    from convai_ops.spec import Project

__all__ = ["PullConflictError", "guarded_pull"]

_FOLDERS = ("agents", "tools")


class PullConflictError(ConvaiOpsError):
    """Pull would overwrite files with uncommitted changes; nothing was written (exit 1)."""


def guarded_pull(
    client: ConvaiClient,
    project: Project,
    env: str,
    *,
    force: bool = False,
    concurrency: int = 8,
) -> list[PullResult]:
    """Pull ``project``'s agents (all of them: pass a project narrowed to the slugs wanted)
    from ``env`` as :func:`convai_ops.pull.pull_agents` does (same API calls), but write into
    the repository only after checking every file to be written. Returns the results with
    the repository's paths. Raises :class:`PullConflictError` (nothing written) when a file
    to be written has uncommitted changes and ``force`` is False; ``SpecError`` when the
    pulled files do not load (nothing written); ``ApiError``."""
    root = project.root
    with tempfile.TemporaryDirectory(prefix="convai-ops-pull-") as scratch:
        copy = Path(scratch)
        _copy_files(root, copy)
        slugs = [agent.slug for agent in project.agents]
        results = _pull_in(client, copy, root, env, slugs, concurrency)
        changed = list(_changed_files(copy, root))
        if not force:
            _refuse_uncommitted(root, [root / rel for rel in changed])
        for rel in changed:
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(copy / rel, root / rel)
    return [_moved(result, copy, root) for result in results]


def _copy_files(root: Path, copy: Path) -> None:
    """The files ``load_project`` reads, copied (symbolic links followed)."""
    if (root / CONFIG_FILE).is_file():
        shutil.copyfile(root / CONFIG_FILE, copy / CONFIG_FILE)
    for folder in _FOLDERS:
        if (root / folder).is_dir():
            shutil.copytree(root / folder, copy / folder)


def _pull_in(
    client: ConvaiClient,
    copy: Path,
    root: Path,
    env: str,
    slugs: Sequence[str],
    concurrency: int,
) -> list[PullResult]:
    """Pull into ``copy``; a ``SpecError`` names the repository's file, not the copy's."""
    try:
        return pull_agents(client, load_project(copy), env, slugs, concurrency=concurrency)
    except SpecError as exc:
        path = _moved_path(exc.path, copy, root)
        raise SpecError(
            path, exc.reason, line=exc.line, column=exc.column, field=exc.field
        ) from None


def _changed_files(copy: Path, root: Path) -> Iterator[Path]:
    """Paths (relative) of the files of ``copy`` that ``root`` lacks or holds differently."""
    candidates = [copy / CONFIG_FILE] + [
        path for folder in _FOLDERS for path in sorted((copy / folder).rglob("*"))
    ]
    for path in candidates:
        if not path.is_file():
            continue
        rel = path.relative_to(copy)
        target = root / rel
        if not target.is_file() or not filecmp.cmp(path, target, shallow=False):
            yield rel


def _refuse_uncommitted(root: Path, paths: Sequence[Path]) -> None:
    """Raise ``PullConflictError`` naming the files of ``paths`` with uncommitted changes."""
    dirty = uncommitted_files(root, paths) or []
    if not dirty:
        return
    names = ", ".join(path.relative_to(root).as_posix() for path in dirty)
    raise PullConflictError(
        f"pull would overwrite uncommitted changes in {names}: nothing written; "
        "commit or stash them, or pass --force"
    )


def _moved(result: PullResult, copy: Path, root: Path) -> PullResult:
    return replace(result, files=tuple(_moved_path(p, copy, root) for p in result.files))


def _moved_path(path: Path, copy: Path, root: Path) -> Path:
    return root / path.relative_to(copy) if path.is_relative_to(copy) else path
