"""All git access of convai-ops (through gitpython): changed agents, commit info, dirty trees.

An agent counts as changed when any file under ``agents/<slug>/`` changed (``agent.yaml``, the
prompt file, knowledge files, tests). A change to ``convai-ops.yaml`` (environments, ``ignore``)
touches every agent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from convai_ops.errors import UsageError

__all__ = [
    "CommitInfo",
    "changed_agents",
    "commit_info",
    "current_branch",
    "export_project",
    "find_commit",
    "git_user",
    "in_repository",
    "is_dirty",
    "merge_base",
    "move_tracked",
    "resolve_commit",
    "uncommitted_files",
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


def git_user(root: Path) -> str | None:
    """``Name <email>`` from the git config ``user.name`` / ``user.email`` (either alone when
    only one is set) of the repository holding ``root``; ``None`` when neither is set or
    outside git."""
    import git

    try:
        reader = _repo(root).config_reader()
        name = str(reader.get_value("user", "name", "")).strip()
        email = str(reader.get_value("user", "email", "")).strip()
    except (UsageError, git.GitError, ValueError, OSError):
        return None
    if name and email:
        return f"{name} <{email}>"
    return name or email or None


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


def uncommitted_files(root: Path, paths: Sequence[Path]) -> list[Path] | None:
    """Those of ``paths`` (absolute, under ``root``) that hold uncommitted changes: tracked
    files modified in the working tree or staged (index vs HEAD, or every indexed file before
    the first commit), tracked files deleted, and untracked files that are not ignored. ``None``
    when ``root`` is outside any git repository (nothing to guard). Runs
    ``git status --porcelain -z`` on just those paths."""
    import git

    try:
        repo = _repo(root)
    except UsageError:
        return None
    if not paths:
        return []
    top = Path(repo.working_tree_dir).resolve()
    wanted = {p.resolve().relative_to(top).as_posix(): p for p in paths}
    try:
        status = repo.git.status(
            "--porcelain=v1", "-z", "--untracked-files=all", "--", *sorted(wanted)
        )
    except git.GitCommandError as exc:
        raise UsageError(f"cannot read git status under {top}: {exc.stderr.strip()}") from None
    listed = _status_paths(status)
    return [wanted[rel] for rel in sorted(wanted) if rel in listed]


def _status_paths(status: str) -> set[str]:
    """The paths ``git status --porcelain=v1 -z`` lists (a rename's source too)."""
    fields, paths = status.split("\0"), set()
    index = 0
    while index < len(fields):
        entry = fields[index]
        index += 1
        if len(entry) < 4:
            continue
        paths.add(entry[3:])
        if entry[0] in "RC":  # the next field is the rename's (or copy's) source
            paths.add(fields[index])
            index += 1
    return paths


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


def in_repository(root: Path) -> bool:
    """True when ``root`` is inside a git repository."""
    try:
        _repo(root)
    except UsageError:
        return False
    return True


def resolve_commit(root: Path, ref: str) -> str:
    """The full sha of the commit ``ref`` names (a branch, tag, sha or ``HEAD~1``). Raises
    ``UsageError`` for a ref the repository does not know, or outside git."""
    repo = _repo(root)
    try:
        return str(repo.commit(ref).hexsha)
    except Exception as exc:  # gitpython raises several types for a bad ref
        raise UsageError(f"unknown git ref {ref!r}: {exc}") from None


def find_commit(root: Path, sha: str) -> str | None:
    """The full sha of the commit an (abbreviated) ``sha`` names; ``None`` when the local
    clone does not hold it (a shallow clone, another repository) or outside git."""
    try:
        return resolve_commit(root, sha)
    except UsageError:
        return None


def merge_base(root: Path, ref: str) -> str | None:
    """The merge-base of ``ref`` and ``HEAD`` (full sha); ``None`` when ``ref`` is unknown or
    the two share no history."""
    import git

    try:
        repo = _repo(root)
        bases = repo.merge_base(ref, "HEAD")
    except (UsageError, git.GitCommandError, ValueError):
        return None
    return str(bases[0].hexsha) if bases else None


def export_project(root: Path, sha: str, dest: Path) -> Path:
    """Write the files of the project at ``root`` as commit ``sha`` holds them under ``dest``
    (only the project's own folder of the repository); returns the project folder inside
    ``dest``. Raises ``UsageError`` for an unknown commit or when ``sha`` has no such folder."""
    repo = _repo(root)
    prefix = _relative_prefix(Path(repo.working_tree_dir), root)
    try:
        tree = repo.commit(sha).tree
        tree = tree / prefix.as_posix() if prefix.parts else tree
    except (KeyError, ValueError) as exc:
        raise UsageError(f"commit {sha[:12]} holds no {prefix.as_posix()}/: {exc}") from None
    for item in tree.traverse():
        if item.type == "blob":
            target = dest / PurePosixPath(item.path).relative_to(prefix).as_posix()
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(item.data_stream.read())
    return dest


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
