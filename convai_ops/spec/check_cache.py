"""Schema checks remembered across runs, so an unchanged file is not validated again.

``<root>/.convai-ops/cache/validation.json`` holds the keys of the values that passed
:func:`convai_ops.spec.validate.check`. A key is the SHA-256 of the schema kind and the exact
value checked (its ``repr``: plain ``dict``/``list``/``str``/``int``/``float``/``bool``/``None``,
so ``1``, ``1.0``, ``True`` and ``"1"`` all differ). The file also holds a fingerprint of
everything the schemas come from (the convai-ops version, the bundled OpenAPI document, the
source of ``convai_ops/spec/``, the pydantic version that turns its models into schemas, and the
installed jsonschema's validators module); when it differs, the whole file is ignored. Only
passes are remembered: a file that fails is checked, and reported with its ``file:line:col``, on
every run. The folder carries its own ``.gitignore``.

:func:`convai_ops.spec.validate.check` must therefore stay a pure function of the kind and the
value: a check that depends on a file's path, size or neighbours belongs outside it.

A cache that cannot be read counts as empty; one that cannot be written is skipped (logged at
debug level): both only cost time, never correctness.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from convai_ops import __version__

__all__ = ["CACHE_DIR", "ValidationCache", "active_cache", "remembering", "write_json"]

CACHE_DIR = ".convai-ops/cache"
_FILE = "validation.json"
_LOG = logging.getLogger(__name__)
_ACTIVE: ContextVar[ValidationCache | None] = ContextVar("validation_cache", default=None)


class ValidationCache:
    """The remembered passes of one project (see the module docstring)."""

    def __init__(self, path: Path, passed: set[str]) -> None:
        self.path = path
        self._passed = passed
        self._before = frozenset(passed)
        self._used: set[str] = set()

    @classmethod
    def load(cls, root: Path) -> ValidationCache:
        """The cache of the project at ``root``; empty when absent, unreadable or stale."""
        path = root / CACHE_DIR / _FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls(path, set())
        fresh = isinstance(data, dict) and data.get("fingerprint") == fingerprint()
        keys = data.get("passed") if fresh else None
        return cls(
            path, {k for k in keys if isinstance(k, str)} if isinstance(keys, list) else set()
        )

    @staticmethod
    def key(kind: str, value: Any) -> str:
        """The key of checking ``value`` against the schema ``kind`` (hex SHA-256)."""
        return hashlib.sha256(f"{kind}\0{value!r}".encode()).hexdigest()

    def passed(self, key: str) -> bool:
        """Whether ``key`` passed before (and keep it for the next run)."""
        if key in self._passed:
            self._used.add(key)
            return True
        return False

    def add(self, key: str) -> None:
        """Remember that ``key`` passed."""
        self._passed.add(key)
        self._used.add(key)

    def save(self, complete: bool) -> None:
        """Write the keys used in this run (all known ones if the run stopped early: the files
        it did not reach keep theirs); skipped when nothing changed or the folder is read-only."""
        keys = self._used if complete else self._passed
        if keys == self._before:
            return
        try:
            write_json(self.path, {"fingerprint": fingerprint(), "passed": sorted(keys)})
        except OSError as exc:
            _LOG.debug("validation cache not written: %s", exc)


def active_cache() -> ValidationCache | None:
    """The cache of the project being loaded by :func:`remembering`, else ``None``."""
    return _ACTIVE.get()


@contextmanager
def remembering(root: Path) -> Iterator[ValidationCache]:
    """Make ``root``'s cache the active one for the block; save it when the block ends."""
    loaded = ValidationCache.load(root)
    token = _ACTIVE.set(loaded)
    complete = False
    try:
        yield loaded
        complete = True
    finally:
        _ACTIVE.reset(token)
        loaded.save(complete)


@cache
def fingerprint() -> str:
    """SHA-256 of what the schemas are built from: version, OpenAPI document, spec sources, the
    pydantic version, and the path, size and time of jsonschema's validators (changed by any
    upgrade; found without importing jsonschema)."""
    from pydantic.version import VERSION as PYDANTIC_VERSION  # imported only when loading

    stamps = f"{__version__}\0{PYDANTIC_VERSION}\0{_jsonschema_stamp()}\0"
    digest = hashlib.sha256(stamps.encode())
    digest.update(
        resources.files("convai_ops.openapi").joinpath("openapi-convai.json").read_bytes()
    )
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()


def _jsonschema_stamp() -> str:
    spec = importlib.util.find_spec("jsonschema")  # a top-level name: nothing is imported
    if spec is None or spec.origin is None:
        return "no jsonschema"
    validators = Path(spec.origin).with_name("validators.py")
    try:
        stat = validators.stat()
    except OSError:  # an unusual install: no stamp, so no cache entry can ever match twice
        return f"unstamped {os.urandom(8).hex()}"
    return f"{validators}:{stat.st_size}:{stat.st_mtime_ns}"


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as JSON to ``path`` in the cache folder, atomically (a temporary file
    renamed), creating the folder and its ``.gitignore``. Raises ``OSError``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ignore = path.parent / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# written by convai-ops\n*\n", encoding="utf-8")
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
