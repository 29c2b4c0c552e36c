"""Click commands of the canary area: ``canary status``, ``canary analyse``, ``canary promote``
and ``canary abort``. A canary's state lives in the API (``convai_ops.canary.state``), so
each command reads it afresh: a killed ``apply --canary`` is continued by ``canary analyse``.

Only click is imported at module level; each command imports the library inside its body.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from convai_ops.cli.common import api_options, echo_reporter, load, make_client, select_agents
from convai_ops.errors import EXIT_ERROR, EXIT_OK, EXIT_TESTS_FAILED, UsageError

__all__ = ["COMMANDS"]

EPILOG = """\b
Examples:
  convai-ops canary status
  convai-ops canary status support --format json
  convai-ops canary analyse            # one decision per running canary (a CI schedule)
  convai-ops canary promote support    # merge now, whatever the metrics say
  convai-ops canary abort support      # branch to 0%, kept, not merged
"""


@click.group(epilog=EPILOG)
def canary() -> None:
    """Canaries on live traffic started by `apply --canary`: status, analyse, promote, abort."""


@contextmanager
def _session(ctx: click.Context, slugs: tuple[str, ...], flags: dict[str, Any]) -> Iterator[Any]:
    """An ``ApplyContext`` on the project's (selected) agents, with its client open."""
    from convai_ops.apply import ApplyContext, ApplyOptions
    from convai_ops.state import fetch_index

    project, settings = load(ctx, **flags)
    project = select_agents(project, [s for s in slugs if s])
    with make_client(settings) as client:
        index = fetch_index(client, project.agents, settings.environment)
        options = ApplyOptions.from_settings(settings)
        yield ApplyContext(client, project, index, options, echo_reporter())


def _running(session: Any) -> list[tuple[str, Any]]:
    from convai_ops.canary.run import running_canaries
    from convai_ops.state import find_agent_ids

    env = session.options.environment
    ids = find_agent_ids(session.client, session.project.agents, env)
    return running_canaries(session, ids)


def _one(session: Any, slug: str) -> Any:
    found = [c for s, c in _running(session) if s == slug]
    if not found:
        raise UsageError(f"{slug}: no canary running in {session.options.environment}")
    return found[0]


@canary.command("status", epilog=EPILOG)
@api_options
@click.argument("slug", required=False)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.pass_context
def status_command(ctx: click.Context, /, slug: str | None, fmt: str, **flags: Any) -> int:
    """Show each running canary: shares, conversations so far per side, each metric with its
    interval on the difference (branch - main), the decision it would take, time left."""
    from convai_ops.canary.engine import status
    from convai_ops.canary.render import render_status

    with _session(ctx, (slug or "",), flags) as session:
        rows = [(s, status(session.client, c)) for s, c in _running(session)]
    click.echo(render_status(rows, fmt, session.options.environment), nl=False)
    return EXIT_OK


@canary.command("analyse", epilog=EPILOG)
@api_options
@click.option(
    "--target", "targets", multiple=True, metavar="SLUG", help="Only this agent (repeatable)."
)
@click.pass_context
def analyse_command(ctx: click.Context, /, targets: tuple[str, ...], **flags: Any) -> int:
    """Take the next decision for every running canary, then exit: wait, next step, merge
    (promoted), or roll back (exit 3, the failing metric named). One canary's error is
    reported and the others still get their decision (exit 1)."""
    codes = [EXIT_OK]
    with _session(ctx, targets, flags) as session:
        running = _running(session)
        codes += [_analyse_one(session, slug, found) for slug, found in running]
        if not running:
            click.echo(f"No canary running in {session.options.environment}.")
    return EXIT_ERROR if EXIT_ERROR in codes else max(codes)


def _analyse_one(session: Any, slug: str, found: Any) -> int:
    from convai_ops.canary.run import analyse, progress
    from convai_ops.errors import ConvaiOpsError

    try:
        result = analyse(session, slug, found)
    except ConvaiOpsError as exc:
        session.report(slug, f"error: {str(exc).removeprefix(f'{slug}: ')}")
        return EXIT_ERROR
    session.report(slug, f"{progress(result.judged)} -> {result.next}")
    return EXIT_TESTS_FAILED if result.next == "rolled_back" else EXIT_OK


@canary.command("promote", epilog=EPILOG)
@api_options
@click.argument("slug")
@click.pass_context
def promote_command(ctx: click.Context, /, slug: str, **flags: Any) -> int:
    """Merge SLUG's canary branch now (main back to 100%), whatever its metrics say."""
    from convai_ops.canary.run import promote

    with _session(ctx, (slug,), flags) as session:
        promote(session, slug, _one(session, slug))
    return EXIT_OK


@canary.command("abort", epilog=EPILOG)
@api_options
@click.argument("slug")
@click.pass_context
def abort_command(ctx: click.Context, /, slug: str, **flags: Any) -> int:
    """Roll SLUG's canary back: branch to 0% (main 100%), kept, not merged."""
    from convai_ops.canary.run import abort

    with _session(ctx, (slug,), flags) as session:
        abort(session, slug, _one(session, slug))
    return EXIT_OK


COMMANDS: list[click.Command] = [canary]
