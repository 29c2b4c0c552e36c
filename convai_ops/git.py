"""All git access of convai-ops (through gitpython): changed agents, commit info, dirty trees.

An agent counts as changed when any file under ``agents/<slug>/`` changed (``agent.yaml``, the
prompt file, knowledge files, tests). A change to ``convai-ops.yaml`` (environments, ``ignore``)
touches every agent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from convai_ops.errors import UsageError

__all__ = [
    "CommitInfo",
    "changed_agents",
    "commit_info",
    "current_branch",
    "is_dirty",
    "move_tracked",
]

PROJECT_FILE = "convai-ops.yaml"


@dataclass(frozen=True)
class CommitInfo:
    """The commit a run works from: full ``sha``, its ``subject`` line, and whether the
    working tree had uncommitted changes (``dirty``)."""

    sha: str
    subject: str
    dirty: bool

    def describe(self) -> str:
        """``a1b2c3d4e5f6 Fix refund window`` (+ `` (uncommitted changes)`` when dirty)."""
        suffix = " (uncommitted changes)" if self.dirty else ""
        return f"{self.sha[:12]} {self.subject}{suffix}"


def _repo(root: Path):  # type: ignore[no-untyped-def]
    import git

    try:
        return git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise UsageError(f"{root} is not inside a git repository") from None


def commit_info(root: Path) -> CommitInfo | None:
    """The HEAD commit of the repository holding ``root``; ``None`` outside git or before the
    first commit."""
    import git

    try:
        repo = _repo(root)
        head = repo.head.commit
    except (UsageError, ValueError, git.GitError):
        return None
    return CommitInfo(
        head.hexsha, head.summary if isinstance(head.summary, str) else "", repo.is_dirty()
    )


def current_branch(root: Path) -> str | None:
    """The checked-out branch of the repository holding ``root``; ``None`` when HEAD is
    detached (as in most CI checkouts) or outside git."""
    import git

    try:
        repo = _repo(root)
        return None if repo.head.is_detached else str(repo.active_branch.name)
    except (UsageError, git.GitError, ValueError, TypeError):
        return None


def is_dirty(root: Path) -> bool:
    """True when tracked files under ``root`` have uncommitted changes."""
    repo = _repo(root)
    return bool(repo.is_dirty(path=str(root)))


def changed_agents(root: Path, since: str, *, until: str | None = None) -> list[str]:
    """Slugs of the agents under ``root/agents`` that changed between ``since`` and ``until``
    (default: the working tree, so uncommitted edits count). Sorted; only agents that still
    exist. Raises ``UsageError`` for an unknown ref."""
    repo = _repo(root)
    prefix = _relative_prefix(Path(repo.working_tree_dir), root)
    try:
        base = repo.commit(since)
        diffs = base.diff(until) if until else base.diff(None)
    except Exception as exc:  # gitpython raises several types for a bad ref
        raise UsageError(f"cannot compare with git ref {since!r}: {exc}") from None
    paths = {p for d in diffs for p in (d.a_path, d.b_path) if p}
    if not until:
        paths |= set(repo.untracked_files)
    return _slugs_touched(paths, prefix, root)


def _relative_prefix(top: Path, root: Path) -> PurePosixPath:
    relative = root.resolve().relative_to(top.resolve())
    return PurePosixPath(relative.as_posix()) if str(relative) != "." else PurePosixPath()


def _slugs_touched(paths: set[str], prefix: PurePosixPath, root: Path) -> list[str]:
    existing = (
        sorted(p.name for p in (root / "agents").iterdir() if p.is_dir())
        if (root / "agents").is_dir()
        else []
    )
    touched: set[str] = set()
    for raw in paths:
        path = PurePosixPath(raw)
        if prefix.parts and path.parts[: len(prefix.parts)] != prefix.parts:
            continue
        parts = path.parts[len(prefix.parts) :]
        if parts == (PROJECT_FILE,):
            return existing
        if len(parts) >= 3 and parts[0] == "agents":
            touched.add(parts[1])
    return [slug for slug in existing if slug in touched]


def move_tracked(source: Path, target: Path) -> bool:
    """``git mv source target`` when ``source`` holds files git tracks; returns False (and
    moves nothing) outside a git repository or when git tracks nothing under ``source``.
    Raises ``UsageError`` when git refuses the move."""
    import git

    try:
        repo = _repo(source)
    except UsageError:
        return False
    if not repo.git.ls_files("--", str(source)):
        return False
    try:
        repo.git.mv(str(source), str(target))
    except git.GitCommandError as exc:
        raise UsageError(f"git mv {source} {target} failed: {exc.stderr.strip()}") from None
    return True
