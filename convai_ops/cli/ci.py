"""Click commands of one area, registered on the ``convai-ops`` group by ``convai_ops.cli``.

Only click is imported at module level so ``convai-ops --help`` stays fast; each command
imports the library it calls inside its body.

This area is CI: ``check`` (the pull-request check) and ``promote`` (staging -> production).
"""

from __future__ import annotations

from typing import Any

import click

__all__ = ["COMMANDS"]

EPILOG_CHECK = """\b
Examples:
  convai-ops check --changed-since origin/main
  convai-ops check --changed-since HEAD~1 --markdown check.md --junit check.xml
  convai-ops check --branch-name convai-ops-try-shorter-prompt
  convai-ops check --base origin/main   # other environments' offline plans from this base
  convai-ops check --close          # the pull request closed: archive its branches
"""

EPILOG_PROMOTE = """\b
Examples:
  convai-ops promote --from staging --to production
  convai-ops promote --from staging --to production --auto-approve   # CI
"""

_FILE = click.Path(dir_okay=False, writable=True)


def _api_options(func: Any) -> Any:
    """``cli_common.api_options``, imported when the commands are defined."""
    from convai_ops.cli.common import api_options

    return api_options(func)


@click.command(epilog=EPILOG_CHECK)
@_api_options
@click.option(
    "--changed-since",
    metavar="REF",
    help="Only agents whose files changed since this git ref (uncommitted edits count). "
    "Default: every agent with changes in the plan.",
)
@click.option(
    "--base",
    metavar="REF",
    help="The commit the pull request merges into, for the offline plan of each environment "
    "whose API key variable is not set. Default: --changed-since, else the merge-base with "
    "origin/$GITHUB_BASE_REF, else with origin/main.",
)
@click.option(
    "--branch-name",
    metavar="NAME",
    help="Agent branch to stage on. Default: from the pull request (GITHUB_REF "
    "refs/pull/<n>/merge -> convai-ops-pr-<n>), else GITHUB_HEAD_REF, else the git branch.",
)
@click.option(
    "--close",
    is_flag=True,
    help="The pull request closed: archive its agent branch on every agent that has one. "
    "Stages, tests and merges nothing.",
)
@click.option("--markdown", type=_FILE, metavar="FILE", help="Write the pull-request report here.")
@click.option("--junit", type=_FILE, metavar="FILE", help="Write JUnit XML here.")
@click.option(
    "--step-summary",
    type=_FILE,
    metavar="FILE",
    envvar="GITHUB_STEP_SUMMARY",
    help="Append the report to this file (env: GITHUB_STEP_SUMMARY).",
)
@click.pass_context
def check(
    ctx: click.Context,
    /,
    changed_since: str | None,
    base: str | None,
    branch_name: str | None,
    close: bool,
    markdown: str | None,
    junit: str | None,
    step_summary: str | None,
    **flags: Any,
) -> int:
    """The pull-request check: stage each changed agent's change on a branch named after the
    pull request and run its tests there. Never merges. Then, for every environment of
    convai-ops.yaml, what the merge changes there: the live plan where its API key variable is
    set, else an offline plan (base commit -> head, that environment's overrides applied).
    Exit 0 all passed, 3 tests failed, 1 error."""
    import os
    import sys
    from dataclasses import replace

    from convai_ops.check import check_branch, run_check, select_changed
    from convai_ops.cli.common import echo_reporter, load, make_client
    from convai_ops.env_plans import environment_plans, find_base
    from convai_ops.plan import build_plan
    from convai_ops.render import render_plan_text
    from convai_ops.report import publish_check, render_check_text

    project, settings = load(ctx, **flags)
    branch = check_branch(branch_name, os.environ, project.root)
    if close:
        _refuse_with_close(changed_since=changed_since, base=base, markdown=markdown, junit=junit)
        return _close(project, settings, branch)
    base_commit = find_base(project.root, base, changed_since, os.environ)
    click.echo(f"Agent branch: {branch.name} (from {branch.source}); nothing will be merged.")
    every_slug = [a.slug for a in project.agents]
    project = select_changed(project, changed_since) if changed_since else project
    with make_client(settings) as client:
        planned, snapshot = build_plan(client, project, settings)
        if planned.agents:
            click.echo(render_plan_text(planned, colour=sys.stdout.isatty()), nl=False)
        index, report = snapshot.index, echo_reporter()
        result = run_check(
            client, project, planned, index, settings, branch, since=changed_since, report=report
        )
    environments = environment_plans(
        project, planned, _env_settings(ctx, project, flags), base_commit, all_slugs=every_slug
    )
    result = replace(result, environments=environments)
    click.echo(render_check_text(result), nl=False)
    publish_check(result, **_paths(markdown=markdown, junit=junit, step_summary=step_summary))
    return int(result.exit_code)


def _env_settings(ctx: click.Context, project: Any, flags: dict[str, Any]) -> Any:
    """``name -> Settings`` of another environment: its own base URL and key variable from
    convai-ops.yaml (``--env`` and ``--base-url`` are the check's own)."""
    shared = {k: v for k, v in flags.items() if k in ("concurrency", "allow_insecure_http")}
    return lambda name: _settings(ctx, project, name, shared)


def _refuse_with_close(**options: str | None) -> None:
    from convai_ops.errors import UsageError

    given = [f"--{name.replace('_', '-')}" for name, value in options.items() if value]
    if given:
        raise UsageError(f"--close stages and tests nothing: drop {', '.join(given)}")


def _close(project: Any, settings: Any, branch: Any) -> int:
    """``check --close``: archive ``branch`` on every agent; exit 0 (1 on an API error)."""
    from convai_ops.check import close_check
    from convai_ops.cli.common import echo_reporter, make_client
    from convai_ops.report import render_close_text

    click.echo(f"Agent branch: {branch.name} (from {branch.source}); archiving it.")
    with make_client(settings) as client:
        closed = close_check(client, project, settings, branch, echo_reporter())
    click.echo(render_close_text(branch, closed), nl=False)
    return 0


def _paths(**paths: str | None) -> dict[str, Any]:
    from pathlib import Path

    return {name: Path(value) if value else None for name, value in paths.items()}


@click.command(epilog=EPILOG_PROMOTE)
@click.option("--from", "source", metavar="ENV", required=True, help="Environment promoted from.")
@click.option("--to", "target", metavar="ENV", required=True, help="Environment promoted to.")
@click.option(
    "--target", "targets", multiple=True, metavar="SLUG", help="Only this agent (repeatable)."
)
@click.option("--auto-approve", is_flag=True, help="Promote without asking (for CI).")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    help="API requests in flight at once (env: CONVAI_OPS_CONCURRENCY; default 8).",
)
@click.option("--allow-insecure-http", is_flag=True, help="Allow a non-loopback http:// base URL.")
@click.pass_context
def promote(
    ctx: click.Context,
    /,
    source: str,
    target: str,
    targets: tuple[str, ...],
    auto_approve: bool,
    **flags: Any,
) -> int:
    """Apply to --to what --from runs: refused unless --from's live agents match the repository
    and their tests pass on its main; then the normal gated apply (branch, tests, merge).
    Each environment uses its own base URL and API key variable from convai-ops.yaml.
    Exit 0 promoted, 3 tests failed (--to untouched), 1 error."""
    from convai_ops.cli.common import echo_reporter, make_client, select_agents
    from convai_ops.promote import Environment, prepare_promotion, run_promotion
    from convai_ops.render import render_plan_text
    from convai_ops.report import render_promote_result
    from convai_ops.spec import load_project

    project = select_agents(load_project(ctx.obj["root"]), targets)
    settings = [_settings(ctx, project, name, flags) for name in (source, target)]
    with make_client(settings[0]) as source_client, make_client(settings[1]) as target_client:
        promotion = prepare_promotion(
            project,
            Environment(settings[0], source_client),
            Environment(settings[1], target_client),
        )
        click.echo(f"{source} matches the repository. Plan for {target}:")
        click.echo(render_plan_text(promotion.target_plan), nl=False)
        if promotion.target_plan.has_changes:
            _confirm(auto_approve, target)
        result = run_promotion(promotion, echo_reporter())
    click.echo(render_promote_result(result), nl=False)
    return int(result.exit_code)


def _settings(ctx: click.Context, project: Any, environment: str, flags: dict[str, Any]) -> Any:
    from convai_ops.settings import Settings

    return Settings.resolve(
        ctx.obj["root"], project.config, environment=environment, debug=ctx.obj["debug"], **flags
    )


def _confirm(auto_approve: bool, environment: str) -> None:
    import sys

    from convai_ops.errors import UsageError

    if auto_approve:
        return
    if not sys.stdin.isatty():
        raise UsageError("refusing to promote without a terminal to confirm: pass --auto-approve")
    if click.prompt(f"Promote to {environment}? Only 'yes' is accepted", default="") != "yes":
        raise click.exceptions.Abort()


COMMANDS: list[click.Command] = [check, promote]
