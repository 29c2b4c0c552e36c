"""Settings: every knob resolved once, flag > environment variable > ``convai-ops.yaml``.

``Settings.resolve(config, ...)`` is the only place that reads ``os.environ`` for convai-ops; the
rest of the library receives a frozen ``Settings``. The API key is held but never printed: its
``repr`` is masked and it is registered with :func:`convai_ops.errors.register_secret`.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from convai_ops.errors import UsageError, check_api_key, register_secret

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_KEY_ENV",
    "ENV_BASE_URL",
    "Settings",
    "check_base_url",
    "find_project_root",
    "not_a_project",
]

DEFAULT_BASE_URL = "https://api.elevenlabs.io"
DEFAULT_KEY_ENV = "ELEVENLABS_API_KEY"
ENV_BASE_URL = "ELEVENLABS_BASE_URL"
ENV_ENVIRONMENT = "CONVAI_OPS_ENV"
ENV_CONCURRENCY = "CONVAI_OPS_CONCURRENCY"
ENV_POLL_INTERVAL = "CONVAI_OPS_POLL_INTERVAL"
ENV_TEST_TIMEOUT = "CONVAI_OPS_TEST_TIMEOUT"
DEFAULT_ENVIRONMENT = "default"
PROJECT_MARKERS = ("convai-ops.yaml", "agents")
"""What makes a folder a project root: its ``convai-ops.yaml`` file or ``agents/`` folder."""


class EnvironmentView(Protocol):
    """One environment of ``convai-ops.yaml`` as settings read it (``EnvironmentConfig``)."""

    @property
    def base_url(self) -> str | None: ...

    @property
    def api_key_env(self) -> str: ...


class ConfigView(Protocol):
    """What settings read of ``convai-ops.yaml``: a ``ProjectConfig``, or the copy
    :mod:`convai_ops.early_reads` keeps of it."""

    @property
    def environments(self) -> Mapping[str, EnvironmentView]: ...

    @property
    def default_environment(self) -> str | None: ...

    @property
    def concurrency(self) -> int | None: ...


@dataclass(frozen=True)
class Settings:
    """Resolved settings for one run against one environment.

    ``base_url`` has no trailing slash; times are seconds; ``api_key`` is ``None`` when the
    command needs no API (``validate``).
    """

    root: Path
    environment: str
    base_url: str
    api_key_env: str
    api_key: str | None = field(default=None, repr=False)
    concurrency: int = 8
    poll_initial: float = 1.0
    poll_max: float = 15.0
    test_timeout: float = 1200.0
    debug: bool = False

    @classmethod
    def resolve(
        cls,
        root: Path,
        config: ConfigView,
        *,
        environment: str | None = None,
        base_url: str | None = None,
        concurrency: int | None = None,
        allow_insecure_http: bool = False,
        environ: Mapping[str, str] | None = None,
        poll_initial: float | None = None,
        poll_max: float = 15.0,
        test_timeout: float | None = None,
        debug: bool = False,
    ) -> Settings:
        """Resolve flags (arguments here), then ``environ`` (default: ``os.environ`` over the
        project's ``.env`` file), then ``config``.

        Raises ``UsageError`` for an environment not in ``convai-ops.yaml`` or an ``http://``
        base URL that is not loopback (unless ``allow_insecure_http``).
        """
        env = _environment(root) if environ is None else environ
        name = _environment_name(config, environment or env.get(ENV_ENVIRONMENT))
        declared = config.environments.get(name)
        url = base_url or env.get(ENV_BASE_URL) or (declared and declared.base_url)
        url = check_base_url(url or DEFAULT_BASE_URL, allow_insecure_http=allow_insecure_http)
        key_env = declared.api_key_env if declared else DEFAULT_KEY_ENV
        key = env.get(key_env) or None
        register_secret(key)
        workers = concurrency or _int_env(env, ENV_CONCURRENCY) or config.concurrency or 8
        poll_initial = poll_initial or _float_env(env, ENV_POLL_INTERVAL) or 1.0
        test_timeout = test_timeout or _float_env(env, ENV_TEST_TIMEOUT) or 1200.0
        return cls(
            root, name, url, key_env, key, workers, poll_initial, poll_max, test_timeout, debug
        )

    def require_api_key(self) -> str:
        """Return the API key, or raise ``UsageError`` naming the variable to set: when it is
        unset, or shorter than :data:`~convai_ops.errors.MIN_API_KEY_LENGTH` characters."""
        if not self.api_key:
            raise UsageError(
                f"no API key: set {self.api_key_env} (environment {self.environment!r}); "
                "for a local try without a key run `convai-ops demo`"
            )
        check_api_key(self.api_key, self.api_key_env)
        return self.api_key


def _environment(root: Path) -> Mapping[str, str]:
    """``os.environ`` over the variables of ``root/.env`` (the shell wins; never committed)."""
    dotenv = root / ".env"
    if not dotenv.is_file():
        return os.environ
    from dotenv import dotenv_values

    values = {k: v for k, v in dotenv_values(dotenv).items() if v is not None}
    return {**values, **os.environ}


def _environment_name(config: ConfigView, requested: str | None) -> str:
    names = list(config.environments)
    if requested:
        if names and requested not in names:
            raise UsageError(
                f"unknown environment {requested!r}: convai-ops.yaml defines {', '.join(names)}"
            )
        return requested
    return config.default_environment or (names[0] if names else DEFAULT_ENVIRONMENT)


def _int_env(environ: Mapping[str, str], name: str) -> int | None:
    raw = environ.get(name)
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise UsageError(f"{name}={raw!r} is not a whole number") from None
    if value < 1:
        raise UsageError(f"{name} must be at least 1")
    return value


def _float_env(environ: Mapping[str, str], name: str) -> float | None:
    raw = environ.get(name)
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise UsageError(f"{name}={raw!r} is not a number of seconds") from None
    if value <= 0:
        raise UsageError(f"{name} must be more than 0 seconds")
    return value


def check_base_url(url: str, *, allow_insecure_http: bool = False) -> str:
    """Return ``url`` without a trailing slash, or raise ``UsageError``.

    ``http://`` is accepted only for loopback hosts (127.0.0.0/8, ::1, localhost) unless
    ``allow_insecure_http``: the API key would otherwise cross the network in clear text.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise UsageError(f"base URL {url!r} is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise UsageError(f"base URL {url!r} is not an http(s) URL")
    if parts.scheme == "http" and not (allow_insecure_http or _is_loopback(host)):
        raise UsageError(
            f"refusing plain http to {host}: the API key would travel unencrypted "
            "(use https, or pass --allow-insecure-http)"
        )
    return url.rstrip("/")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def find_project_root(start: Path) -> Path | None:
    """The nearest of ``start`` and its parents holding ``convai-ops.yaml`` or ``agents/``
    (as git finds ``.git``); ``None`` when there is none. A relative ``start`` gives a path
    relative to the working folder (``..``), so messages name files as the user sees them."""
    here = start.absolute()
    for folder in (here, *here.parents):
        if (folder / PROJECT_MARKERS[0]).is_file() or (folder / PROJECT_MARKERS[1]).is_dir():
            return folder if start.is_absolute() else Path(os.path.relpath(folder))
    return None


def not_a_project(start: Path) -> UsageError:
    """The one-line error for a command run outside any project (see :func:`find_project_root`)."""
    return UsageError(
        f"not a convai-ops project: no convai-ops.yaml or agents/ in {start.absolute()} "
        "or any parent folder (cd into the repository, or pass -C DIR)"
    )
