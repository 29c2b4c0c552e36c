"""Start a command's reads while the project is still loading, when it is known valid.

Loading a project (pydantic models, the YAML reader, schema checks) takes longer than the
first round trip of a small plan. A project whose files are byte for byte those of a project
that loaded without error before, under the same convai-ops and libraries, loads without error
again: :func:`start` recognises it from a record written after the last successful load
(``.convai-ops/cache/project.json``: a digest of every file under ``convai-ops.yaml``,
``agents/`` and ``tools/`` (:data:`PROJECT_INPUTS`), a stamp of the installed code, and what the
reads need to know of the project: ``convai-ops.yaml``'s environments and each agent's slug, ids
and whether it has tests, knowledge and tools). It then resolves the settings as the command
will, and reads the agents' remote state (``state.read_snapshot``: only GETs) in a thread
through :meth:`ConvaiClient.early_reader`; the command, once it has loaded the project and
resolved the same settings, gets that client (:meth:`EarlyReads.client_for`) and its own reads
take the answers already there (:mod:`convai_ops.api.early`).

Nothing is sent unless the record matches: a changed, added or removed file, another
convai-ops or library version, or a record that cannot be read means the command loads the
project first, as without this module, so bad input still sends nothing. Settings that fail to
resolve, a missing or refused key, or an unknown ``--target`` also send nothing here (the
command then reports them). The record is written after a successful load only when the files
did not change while loading.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convai_ops import __version__
from convai_ops.errors import ConvaiOpsError

if TYPE_CHECKING:
    from convai_ops.api import ConvaiClient
    from convai_ops.settings import Settings
    from convai_ops.spec import Project

__all__ = ["PROJECT_INPUTS", "EarlyReads", "known_valid", "start", "tree_digest"]

PROJECT_INPUTS = ("convai-ops.yaml", "agents", "tools")
"""Every file ``load_project`` reads lies under these (a new kind of project file goes here)."""
RECORD = Path(".convai-ops") / "cache" / "project.json"
_LIBRARIES = ("pydantic", "pydantic_core", "jsonschema", "ruamel.yaml", "click")
_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Environment:
    base_url: str | None
    api_key_env: str


@dataclass(frozen=True)
class _Config:
    environments: Mapping[str, _Environment]
    default_environment: str | None
    concurrency: int | None


@dataclass(frozen=True)
class _Test:
    type: str


@dataclass(frozen=True)
class _Target:
    """An agent as reading it needs (``state.ReadTarget``), from the record."""

    slug: str
    environments: Mapping[str, str]
    tests: tuple[_Test, ...]
    knowledge: tuple[bool, ...]
    tools: tuple[str, ...] | None

    def agent_id(self, env: str | None) -> str | None:
        return self.environments.get(env) if env is not None else None


@dataclass
class EarlyReads:
    """What :func:`start` did: ``digest`` of the project's files before loading (``None`` when
    they could not be read), and the client whose reads are under way (``None``: none)."""

    root: Path
    digest: str | None
    known_valid: bool = False
    client: ConvaiClient | None = None
    settings: Settings | None = None
    _thread: threading.Thread | None = field(default=None, repr=False)

    def client_for(self, settings: Settings) -> ConvaiClient | None:
        """The reading client when ``settings`` are those it was made for, else ``None`` (its
        early answers are then dropped and it is closed)."""
        client, self.client = self.client, None
        if client is None:
            return None
        if self.settings == settings:
            return client
        client.end_early_reads(drop=True)
        client.close()
        return None

    def prepare(self) -> None:
        """While reads started here wait on the network, parse the bundled OpenAPI document
        the plan needs for the API's defaults: one call holding the GIL for ~20 ms that,
        made when the first answers arrive, would delay sending the next reads."""
        if self._thread is not None:
            from convai_ops.spec import openapi

            openapi.document()

    def remember(self, project: Project) -> None:
        """Record ``project`` (just loaded without error) as valid, unless the record already
        says so or its files changed since :func:`start` read them. Never raises for I/O."""
        if self.digest is None or self.known_valid:
            return  # nothing to compare, or the record already says so
        if tree_digest(self.root) != self.digest:
            return
        try:
            _write(self.root / RECORD, _record(project, self.digest))
        except OSError as exc:
            _LOG.debug("project record not written: %s", exc)


def start(root: Path, targets: Sequence[str], *, debug: bool = False, **flags: Any) -> EarlyReads:
    """Start reading the remote state of ``root``'s agents (restricted to ``targets``) when
    the project is known valid (see the module docstring); ``flags`` are those of
    ``Settings.resolve``. Never raises for the project or the settings: the command's own
    loading reports every problem."""
    digest, record = _matching_record(root)
    early = EarlyReads(root, digest, known_valid=record is not None)
    if record is None:
        return early
    try:
        _start_reads(early, record, targets, debug, flags)
    except (ConvaiOpsError, KeyError, TypeError, ValueError, AttributeError) as exc:
        _LOG.debug("no early reads: %s", exc)
    return early


def known_valid(root: Path) -> bool:
    """Whether the project at ``root`` is, file for file, one that loaded without error
    before under this code (the record of the module docstring). Sends nothing."""
    return _matching_record(root)[1] is not None


def _matching_record(root: Path) -> tuple[str | None, dict[str, Any] | None]:
    """The digest of ``root``'s files, and the record when it is of exactly those files."""
    digest = tree_digest(root)
    record = _read_record(root / RECORD)
    if digest is None or record is None or record.get("tree") != digest:
        return digest, None
    return digest, record


def _start_reads(
    early: EarlyReads,
    record: dict[str, Any],
    targets: Sequence[str],
    debug: bool,
    flags: dict[str, Any],
) -> None:
    from convai_ops.settings import Settings

    agents = [_target(item) for item in record["agents"]]
    if set(targets) - {a.slug for a in agents}:
        return
    chosen = [a for a in agents if not targets or a.slug in targets]
    settings = Settings.resolve(early.root, _config(record["config"]), debug=debug, **flags)
    key = settings.require_api_key()
    from convai_ops.api import ConvaiClient
    from convai_ops.canary.traffic import TrafficReads  # here too
    from convai_ops.state import read_snapshot  # here: never import in two threads at once

    client = ConvaiClient(settings.base_url, key, max_concurrency=settings.concurrency)
    view = client.early_reader()
    early.client, early.settings = client, settings
    early._thread = threading.Thread(
        target=_read,
        args=(read_snapshot, client, view, chosen, settings, not targets, TrafficReads),
        name="early-reads",
        daemon=True,
    )
    _SWITCH.set_short()
    early._thread.start()


def _read(
    read_snapshot: Callable[..., object],
    client: ConvaiClient,
    view: ConvaiClient,
    agents: list[_Target],
    s: Settings,
    list_agents: bool,
    traffic_reads: Callable[..., Any],
) -> None:
    """Read as the command will: the agents list too when it lists orphans (no --target),
    and each live agent's branches (its traffic split) as soon as the agent is read."""
    traffic = traffic_reads(view, s.concurrency)
    try:
        read_snapshot(
            view,
            agents,
            s.environment,
            concurrency=s.concurrency,
            list_agents=list_agents,
            on_agent=lambda spec, remote, _: remote and traffic.on_remote(spec.slug, remote),
        )
        traffic.warnings()  # the answers are the command's; the lines are not needed here
    except Exception as exc:  # the command makes the same request and reports its error
        _LOG.debug("early reads stopped: %s", type(exc).__name__)
    finally:
        client.end_early_reads(drop=False)
        _SWITCH.restore()


class _SwitchInterval:
    """While early reads run, the loading thread (pure CPU) hands the GIL to the threads
    waiting on the network every 0.5 ms instead of every 5 ms, so an answer is sent on within
    a millisecond of its arrival rather than queuing behind the loading. Counted, so that
    overlapping early reads (commands run in one process) restore the interval once."""

    SHORT_S = 0.0005

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._before = 0.0

    def set_short(self) -> None:
        with self._lock:
            if self._users == 0:
                self._before = sys.getswitchinterval()
                sys.setswitchinterval(self.SHORT_S)
            self._users += 1

    def restore(self) -> None:
        with self._lock:
            self._users -= 1
            if self._users == 0:
                sys.setswitchinterval(self._before)


_SWITCH = _SwitchInterval()


# --- the record ----------------------------------------------------------------------------


def _record(project: Project, digest: str) -> dict[str, Any]:
    config = project.config
    return {
        "stamp": code_stamp(),
        "tree": digest,
        "config": {
            "environments": {
                name: {"base_url": env.base_url, "api_key_env": env.api_key_env}
                for name, env in config.environments.items()
            },
            "default_environment": config.default_environment,
            "concurrency": config.concurrency,
        },
        "agents": [
            {
                "slug": agent.slug,
                "environments": dict(agent.environments),
                "tests": [test.type for test in agent.tests],
                "knowledge": len(agent.knowledge),
                "tools": list(agent.tools) if agent.tools is not None else None,
            }
            for agent in project.agents
        ],
    }


def _read_record(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("stamp") != code_stamp():
        return None
    return data


def _config(data: dict[str, Any]) -> _Config:
    environments = {
        str(name): _Environment(env["base_url"], str(env["api_key_env"]))
        for name, env in data["environments"].items()
    }
    return _Config(environments, data["default_environment"], data["concurrency"])


def _target(item: dict[str, Any]) -> _Target:
    tools = item["tools"]
    return _Target(
        slug=str(item["slug"]),
        environments={str(k): str(v) for k, v in item["environments"].items()},
        tests=tuple(_Test(str(t)) for t in item["tests"]),
        knowledge=(True,) * int(item["knowledge"]),
        tools=tuple(str(t) for t in tools) if tools is not None else None,
    )


def _write(path: Path, data: dict[str, Any]) -> None:
    from convai_ops.spec.check_cache import write_json  # the cache folder and its .gitignore

    write_json(path, data)


# --- digests -------------------------------------------------------------------------------


def tree_digest(root: Path) -> str | None:
    """SHA-256 of every file under :data:`PROJECT_INPUTS` of ``root``: relative paths, kinds
    (file, folder, symbolic link and its target) and contents; ``None`` when one cannot be
    read."""
    digest = hashlib.sha256()
    try:
        for name in PROJECT_INPUTS:
            _add(digest, root, name)
    except OSError:
        return None
    return digest.hexdigest()


def _add(digest: Any, root: Path, relative: str) -> None:
    path = os.path.join(root, relative)
    try:
        stat = os.lstat(path)
    except FileNotFoundError:
        digest.update(f"missing\0{relative}\0".encode())
        return
    if os.path.islink(path):
        digest.update(f"link\0{relative}\0{os.readlink(path)}\0".encode())
    if os.path.isdir(path) and not os.path.islink(path):
        digest.update(f"folder\0{relative}\0".encode())
        for entry in sorted(os.listdir(path)):
            _add(digest, root, f"{relative}/{entry}")
    elif os.path.isfile(path):  # a file, or a link to one: its content
        with open(path, "rb") as handle:
            digest.update(f"file\0{relative}\0{stat.st_size}\0".encode())
            digest.update(hashlib.file_digest(handle, "sha256").digest())


@cache
def code_stamp() -> str:
    """The installed code loading depends on: convai-ops's version, the path, size and time
    of each of its source files and of the libraries that check the files (found without
    importing them)."""
    package = Path(__file__).parent
    parts = [__version__]
    for folder, dirs, files in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        parts.extend(_stamp(os.path.join(folder, f)) for f in sorted(files))
    for name in _LIBRARIES:
        spec = importlib.util.find_spec(name)
        parts.append(_stamp(spec.origin) if spec and spec.origin else f"no {name}")
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _stamp(path: str) -> str:
    stat = os.stat(path)
    return f"{path}:{stat.st_size}:{stat.st_mtime_ns}"
