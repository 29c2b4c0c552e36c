"""Pieces shared by the click commands: API options, loading, the client, agent selection."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from convai_ops.errors import UsageError

__all__ = [
    "api_options",
    "echo_reporter",
    "load",
    "make_client",
    "progress_reporter",
    "select_agents",
    "start_early_reads",
]

F = TypeVar("F", bound=Callable[..., Any])


def api_options(func: F) -> F:
    """Options shared by every command that talks to the API: --env, --base-url,
    --concurrency, --allow-insecure-http (passed on as keyword arguments)."""
    options = [
        click.option(
            "--env",
            "environment",
            metavar="NAME",
            help="Environment from convai-ops.yaml (env: CONVAI_OPS_ENV).",
        ),
        click.option(
            "--base-url",
            metavar="URL",
            help="API base URL (env: ELEVENLABS_BASE_URL; default https://api.elevenlabs.io).",
        ),
        click.option(
            "--concurrency",
            type=click.IntRange(1, 64),
            help="API requests in flight at once (env: CONVAI_OPS_CONCURRENCY; default 8).",
        ),
        click.option(
            "--allow-insecure-http", is_flag=True, help="Allow a non-loopback http:// base URL."
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def start_early_reads(ctx: click.Context, targets: Sequence[str], **flags: Any) -> Any:
    """Start reading the agents' remote state before loading the project, when its files
    are those of a project that loaded without error before (``convai_ops.early_reads``);
    pass the result to :func:`load` and :func:`make_client`. Sends nothing otherwise."""
    from convai_ops import early_reads

    return early_reads.start(ctx.obj["root"], targets, debug=ctx.obj["debug"], **flags)


def load(ctx: click.Context, early: Any = None, **flags: Any) -> tuple[Any, Any]:
    """Load the project at ``-C`` and resolve ``Settings`` from the API options; with
    ``early`` (:func:`start_early_reads`), record the project as valid for the next run."""
    from convai_ops.settings import Settings
    from convai_ops.spec import load_project
    from convai_ops.tool_tests import check_tool_tests

    root: Path = ctx.obj["root"]
    project = load_project(root)
    check_tool_tests(project)
    if early is not None:
        early.remember(project)
        early.prepare()
    settings = Settings.resolve(root, project.config, debug=ctx.obj["debug"], **flags)
    return project, settings


def make_client(settings: Any, early: Any = None) -> Any:
    """A ``ConvaiClient`` for ``settings``; raises ``UsageError`` without an API key. With
    ``early`` (:func:`start_early_reads`), the client already reading for these settings."""
    from convai_ops.api import ConvaiClient

    reading = early.client_for(settings) if early is not None else None
    if reading is not None:
        return reading
    return ConvaiClient(
        settings.base_url, settings.require_api_key(), max_concurrency=settings.concurrency
    )


def select_agents(project: Any, targets: Sequence[str]) -> Any:
    """``project`` restricted to ``targets`` (all when empty); ``UsageError`` for unknown slugs."""
    unknown = sorted(set(targets) - {a.slug for a in project.agents})
    if unknown:
        known = ", ".join(a.slug for a in project.agents) or "none"
        raise UsageError(f"unknown agent {', '.join(unknown)} (agents: {known})")
    if not targets:
        return project
    return project.model_copy(
        update={"agents": tuple(a for a in project.agents if a.slug in targets)}
    )


def echo_reporter() -> Callable[[str, str], None]:
    """A thread-safe reporter printing ``  slug: message`` lines."""
    lock = threading.Lock()

    def report(slug: str, message: str) -> None:
        with lock:
            click.echo(f"  {slug}: {message}")

    return report


@contextmanager
def progress_reporter() -> Iterator[Callable[[str, str], None]]:
    """A reporter for long waits: on a terminal, a live table (rich) with each agent's latest
    step and elapsed seconds; elsewhere (CI logs), plain ``  slug: message`` lines."""
    if not sys.stdout.isatty():
        yield echo_reporter()
        return
    from rich.live import Live
    from rich.table import Table

    lock = threading.Lock()
    latest: dict[str, tuple[str, float, float | None]] = {}  # message, first seen, done at

    def table() -> Table:
        grid = Table.grid(padding=(0, 2))
        now = time.monotonic()
        with lock:
            for slug, (message, first, done) in latest.items():
                grid.add_row(f"[bold]{slug}[/]", f"{(done or now) - first:5.1f}s", message)
        return grid

    with Live(get_renderable=table, refresh_per_second=4):

        def report(slug: str, message: str) -> None:
            now = time.monotonic()
            with lock:
                first = latest.get(slug, (message, now, None))[1]
                final = message.startswith(_FINAL)
                latest[slug] = (message, first, now if final else None)

        yield report


_FINAL = ("merged", "tests failed", "error", "canary rolled back")
