"""Import a live agent into the repository layout, and pull live changes back into it.

:func:`import_agent` writes ``agents/<slug>/`` from ``GET /v1/convai/agents/{id}`` (and
``GET /v1/convai/agent-testing/{id}`` per attached test):

- ``agent.yaml``: ``name``, ``environments: {<env>: <id>}``, ``prompt_file: prompt.md``, and the
  *declared subset* of ``conversation_config`` / ``platform_settings``: only keys the request
  schemas accept, minus values equal to the schema default (an unset default counts as null,
  ``[]`` or ``{}``), so the file holds what differs from the API's defaults. The essentials
  (:data:`ESSENTIAL`: first message, language, LLM, temperature, voice) are always written, so a
  dashboard edit of them shows as drift. ``tags:`` is written only when the live agent carries
  the managed tag ``convai-ops:<slug>`` (declared tags always get it, so declaring them on an
  agent without it would plan a tag change); otherwise tags stay unmanaged and a note says so.
- ``prompt.md``: the system prompt; ``knowledge_base:`` entries by ``id`` (and ``name``).
- ``tools/<name>.yaml`` for each workspace tool ``prompt.tool_ids`` names, and ``tools: [names]``
  in ``agent.yaml`` instead of the ids (:mod:`convai_ops.tool_files`); an existing tool file
  with the same content is reused, one with other content refuses the import (nothing written).
- ``workflow:`` (nodes and edges) and ``prompt.built_in_tools`` as the live agent has them.
- ``tests/<name>.yaml``: each attached test's create body (``name`` -> file stem). A test that
  convai-ops created (``slug/name #hash``) is written so that its content hash, and so its remote
  name, is reproduced; a test created elsewhere gets a new name, so ``plan`` shows the tests
  changing until ``apply`` attaches the repository's copy.

The conversions are in :mod:`convai_ops.conversions` (shared with ``convai-ops pull``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convai_ops.conversions import agent_file_data, attached_test_ids, remote_test_data
from convai_ops.errors import ConvaiOpsError, UsageError
from convai_ops.spec import (
    SCHEMA_DIR,
    SCHEMA_HEADER,
    SLUG_PATTERN,
    dump_yaml,
    load_project,
    write_schemas,
)
from convai_ops.spec.yamlio import read_document
from convai_ops.tool_files import agent_tool_files, name_tools, tool_hashes, write_tool_files

if TYPE_CHECKING:
    from convai_ops.api import ConvaiClient

__all__ = [
    "BulkImportResult",
    "ImportResult",
    "Skipped",
    "import_agent",
    "import_all",
    "write_prompt",
    "write_test_file",
]

_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class ImportResult:
    """What ``import`` wrote: the agent folder, every file written, and notes for the user."""

    slug: str
    agent_id: str
    directory: Path
    files: tuple[Path, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Skipped:
    """An agent ``import --all`` did not import: its id, live name and why (one line)."""

    agent_id: str
    name: str
    reason: str


@dataclass(frozen=True)
class BulkImportResult:
    """What ``import --all`` did, in the order the agents were listed (oldest first).

    ``renamed`` maps an imported agent's slug to the slug its name (or tag) asked for when that
    one was taken; ``skipped`` holds agents the repository already manages; ``failed`` those
    whose import raised (the others were still imported).
    """

    imported: tuple[ImportResult, ...]
    renamed: Mapping[str, str]
    skipped: tuple[Skipped, ...]
    failed: tuple[Skipped, ...]


# -- test files ---------------------------------------------------------------------------------


def _file_stem(name: str, taken: set[str]) -> str:
    stem = name if _FILE_NAME.match(name) else re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    stem = stem or "test"
    candidate, number = stem, 2
    while candidate in taken:
        candidate, number = f"{stem}-{number}", number + 1
    taken.add(candidate)
    return candidate


def write_test_file(
    directory: Path,
    remote: Mapping[str, Any],
    taken: set[str],
    tools: Mapping[str, tuple[str, str]] | None = None,
) -> tuple[Path | None, str | None]:
    """Write a remote test as ``<directory>/tests/<stem>.yaml`` (a stem not in ``taken``);
    ``tools`` (tool id -> name, content hash) names the tool a tool test references.

    Returns ``(path, note)``: ``path`` is None when the test does not load (it is not kept);
    the note says why, or that the test's content will not keep its remote name.
    """
    try:
        name, data, exact = remote_test_data(remote, tools)
    except ConvaiOpsError as exc:
        return None, f"skipped a test: {exc}"
    stem = _file_stem(name, taken)
    if stem != name:
        data = {"name": name, **data}
    path = directory / "tests" / f"{stem}.yaml"
    dump_yaml(data, path, header=SCHEMA_HEADER["test"])
    problem = _test_problem(path)
    if problem:
        path.unlink()
        return None, f"skipped test {remote.get('name')!r}: {problem}"
    if not exact:
        return path, (
            f"tests/{path.name}: {remote.get('name')!r} was not created by convai-ops (or was "
            "edited in place); plan shows it replaced by the repository's copy until apply"
        )
    return path, None


def _test_problem(path: Path) -> str | None:
    from convai_ops.spec.testfile import load_test

    try:
        load_test(read_document(path))
    except ConvaiOpsError as exc:
        return str(getattr(exc, "reason", exc))
    return None


# -- import -------------------------------------------------------------------------------------


def import_agent(
    client: ConvaiClient, agent_id: str, root: Path, *, env: str, slug: str | None = None
) -> ImportResult:
    """Write ``<root>/agents/<slug>/`` from the live agent ``agent_id`` (see module docstring).

    ``slug`` defaults to the agent's managed tag, else its name in lowercase. Also writes the
    editor schemas (``.convai-ops/schema/``) when missing. Calls ``GET /v1/convai/agents/{id}``,
    ``GET /v1/convai/tools/{id}`` per tool id and ``GET /v1/convai/agent-testing/{id}`` per
    attached test. Raises ``UsageError`` for a bad slug, an existing folder, an agent already in
    the repository or a tool file with other content, ``ApiError`` from the client,
    ``SpecError`` if the written files do not load.
    """
    live = client.get_agent(agent_id)
    slug = slug or _default_slug(live)
    directory = _target(root, slug, env, agent_id)
    data, prompt, notes = agent_file_data(live, slug, env)
    tools = agent_tool_files(client, root, live)
    if tools:
        name_tools(data, tools)
    tests = [client.get_test(test_id) for test_id in attached_test_ids(live)]
    files = [*write_schemas(root)] if not (root / SCHEMA_DIR).is_dir() else []
    files.extend(write_tool_files(tools))
    notes.extend(
        f"tools/{t.path.name} already holds tool {t.name!r}: reused" for t in tools if t.current
    )
    if prompt is not None:
        files.append(write_prompt(directory / "prompt.md", prompt))
    taken: set[str] = set()
    named = tool_hashes(tools)
    for remote in tests:
        path, note = write_test_file(directory, remote, taken, named)
        files.extend([path] if path else [])
        notes.extend([note] if note else [])
    dump_yaml(data, directory / "agent.yaml", header=SCHEMA_HEADER["agent"])
    files.append(directory / "agent.yaml")
    load_project(root)
    return ImportResult(slug, agent_id, directory, tuple(files), tuple(notes))


def _default_slug(live: Mapping[str, Any]) -> str:
    for tag in live.get("tags") or ():
        if tag.startswith("convai-ops:") and SLUG_PATTERN.match(tag.split(":", 1)[1]):
            return str(tag.split(":", 1)[1])
    slug = re.sub(r"[^a-z0-9_-]+", "-", str(live.get("name") or "").lower()).strip("-_")
    return slug or "agent"


def _target(root: Path, slug: str, env: str, agent_id: str) -> Path:
    if not SLUG_PATTERN.match(slug):
        raise UsageError(
            f"{slug!r} is not a valid agent slug (lowercase letters, digits, '-' and '_')"
        )
    directory = root / "agents" / slug
    if (directory / "agent.yaml").exists():
        raise UsageError(
            f"agents/{slug}/ already exists: run `convai-ops pull {slug}` to refresh it, "
            "or pass --slug to import under another name"
        )
    for agent in load_project(root).agents:
        if agent.agent_id(env) == agent_id:
            raise UsageError(
                f"agent {agent_id} is already in the repository as {agent.slug!r} ({env}): "
                f"run `convai-ops pull {agent.slug}` to refresh it"
            )
    return directory


def write_prompt(path: Path, text: str) -> Path:
    """Write a prompt file (``text`` and a final newline); returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")
    return path


# -- import --all -------------------------------------------------------------------------------

Progress = Callable[[int, int, str, str], None]
"""``progress(done, total, agent name, slug or reason)`` after each listed agent."""


def import_all(
    client: ConvaiClient,
    root: Path,
    *,
    env: str,
    tag: str | None = None,
    progress: Progress | None = None,
) -> BulkImportResult:
    """Import every agent of the workspace (with ``tag`` only, when given) into
    ``<root>/agents/<slug>/``, each as :func:`import_agent` does.

    Agents are taken oldest first (``created_at_unix_secs``, then id), so slugs are stable: a
    slug comes from the agent's managed tag or name; when taken (by a folder or an earlier
    agent), ``-2``, ``-3``... is added. Agents already managed (a ``convai-ops:<slug>`` tag whose
    folder exists, or an id pinned in an agent.yaml for any environment) are skipped. An agent
    whose import fails is reported in ``failed``; the others are still imported.
    Calls ``GET /v1/convai/agents?tags=...`` (cursor pages; ``tags`` filters server-side),
    then what :func:`import_agent` calls per agent. Raises ``ApiError`` when listing fails,
    ``SpecError`` when the repository does not load.
    """
    listed = sorted(
        client.iter_agents(tags=[tag] if tag else None),
        key=lambda a: (a.get("created_at_unix_secs") or 0, str(a["agent_id"])),
    )
    folders = _folders(root)
    run = _BulkRun(client, root, env, _pinned_ids(root), frozenset(folders), folders)
    for done, summary in enumerate(listed, 1):
        outcome = run.one(summary)
        if progress is not None:
            progress(done, len(listed), str(summary.get("name") or ""), outcome)
    return BulkImportResult(
        tuple(run.imported), dict(run.renamed), tuple(run.skipped), tuple(run.failed)
    )


@dataclass
class _BulkRun:
    """The state of one ``import --all``: what is taken, and what happened so far."""

    client: ConvaiClient
    root: Path
    env: str
    pinned: Mapping[str, str]
    folders: frozenset[str]
    """The folders under agents/ before the run."""
    taken: set[str]
    """Slugs taken: those folders and the slugs given so far."""
    imported: list[ImportResult] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    failed: list[Skipped] = field(default_factory=list)

    def one(self, summary: Mapping[str, Any]) -> str:
        """Import (or skip) one listed agent; returns what happened, in a few words."""
        agent_id, name = str(summary["agent_id"]), str(summary.get("name") or "")
        reason = _managed_reason(summary, self.pinned, self.folders)
        if reason:
            self.skipped.append(Skipped(agent_id, name, reason))
            return f"skipped ({reason})"
        wanted = _default_slug(summary)
        slug = _free_slug(wanted, self.taken)
        try:
            result = import_agent(self.client, agent_id, self.root, env=self.env, slug=slug)
        except ConvaiOpsError as exc:
            self.failed.append(Skipped(agent_id, name, str(exc)))
            return "failed"
        self.imported.append(result)
        if slug != wanted:
            self.renamed[slug] = wanted
        return f"agents/{slug}/"


def _pinned_ids(root: Path) -> dict[str, str]:
    """Agent id -> the slug whose agent.yaml pins it (any environment)."""
    return {
        agent_id: agent.slug
        for agent in load_project(root).agents
        for agent_id in agent.environments.values()
    }


def _folders(root: Path) -> set[str]:
    folder = root / "agents"
    return {p.name for p in folder.iterdir() if p.is_dir()} if folder.is_dir() else set()


def _managed_reason(
    summary: Mapping[str, Any], pinned: Mapping[str, str], folders: frozenset[str]
) -> str | None:
    """Why the repository already manages a listed agent, or None when it does not."""
    agent_id = str(summary["agent_id"])
    if agent_id in pinned:
        return f"pinned in agents/{pinned[agent_id]}/agent.yaml"
    for tag in summary.get("tags") or ():
        slug = tag.split(":", 1)[1] if tag.startswith("convai-ops:") else None
        if slug and slug in folders:
            return f"tagged {tag}: agents/{slug}/ exists"
    return None


def _free_slug(wanted: str, taken: set[str]) -> str:
    """``wanted``, else ``wanted-2``, ``wanted-3``...: the first not in ``taken`` (added to it)."""
    slug, number = wanted, 2
    while slug in taken:
        slug, number = f"{wanted}-{number}", number + 1
    taken.add(slug)
    return slug
