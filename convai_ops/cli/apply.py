"""Click commands of the core area, registered on the ``convai-ops`` group by ``convai_ops.cli``:
``plan``, ``apply`` and ``validate``.

Only click is imported at module level so ``convai-ops --help`` stays fast; each command
imports the library it calls inside its body.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from convai_ops.cli.common import (
    api_options,
    load,
    make_client,
    progress_reporter,
    select_agents,
    start_early_reads,
)
from convai_ops.errors import EXIT_CHANGES, EXIT_OK, UsageError

__all__ = ["COMMANDS"]

EPILOG_PLAN = """\b
Examples:
  convai-ops plan
  convai-ops plan --env production --detailed-exitcode
  convai-ops plan --format markdown > plan.md
"""

EPILOG_APPLY = """\b
Examples:
  convai-ops apply                     # shows the plan, asks before applying
  convai-ops apply --auto-approve      # CI: no prompt
  convai-ops apply --target support    # one agent only
  convai-ops plan --out plan.json && convai-ops apply plan.json
"""


@click.command(epilog=EPILOG_PLAN)
@api_options
@click.option(
    "--target", "targets", multiple=True, metavar="SLUG", help="Only this agent (repeatable)."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also save the plan as JSON, for `convai-ops apply FILE`.",
)
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 no changes, 2 changes, 1 error.")
@click.pass_context
def plan(
    ctx: click.Context,
    /,
    targets: tuple[str, ...],
    fmt: str,
    out: Path | None,
    detailed_exitcode: bool,
    **flags: Any,
) -> int:
    """Show, field by field, how the live agents differ from the repository."""
    early = start_early_reads(ctx, targets, **flags)  # before the imports below: start-up time
    from convai_ops.plan import build_plan
    from convai_ops.render import render_plan
    from convai_ops.saved_plan import write_plan

    project, settings = load(ctx, early, **flags)
    project = select_agents(project, targets)
    with make_client(settings, early) as client:
        result, _ = build_plan(client, project, settings)
    click.echo(render_plan(result, fmt, colour=sys.stdout.isatty()), nl=False)
    if out:
        write_plan(result, out)
        click.echo(f"Saved the plan to {out}; apply exactly it with: convai-ops apply {out}")
    return EXIT_CHANGES if detailed_exitcode and result.has_changes else EXIT_OK


@click.command(epilog=EPILOG_APPLY)
@api_options
@click.argument(
    "plan_file",
    metavar="[PLAN]",
    required=False,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--target", "targets", multiple=True, metavar="SLUG", help="Only this agent (repeatable)."
)
@click.option("--auto-approve", is_flag=True, help="Apply without asking (for CI).")
@click.option(
    "--rebase",
    is_flag=True,
    help="If main moves while tests run, re-plan on the new main and test again (once).",
)
@click.option(
    "--cleanup",
    is_flag=True,
    help="Archive the branches that failed applies kept for inspection.",
)
@click.option(
    "--test-timeout",
    type=click.FloatRange(min=1),
    help="Seconds to wait for test runs (env: CONVAI_OPS_TEST_TIMEOUT; default 1200).",
)
@click.pass_context
def apply(
    ctx: click.Context,
    /,
    plan_file: Path | None,
    targets: tuple[str, ...],
    auto_approve: bool,
    rebase: bool,
    cleanup: bool,
    test_timeout: float | None,
    **flags: Any,
) -> int:
    """Stage each change on a new agent branch, run the agent's tests there, and merge into
    main only when every test passes. Exit 3 when tests failed (nothing merged). Name, tags
    and agent-wide platform settings (not part of a version) are written on main after the
    merge, or directly when nothing versioned changed.

    With PLAN (from `plan --out`), apply exactly that plan; refused if main or the repository
    moved since."""
    early = (
        None if plan_file else start_early_reads(ctx, targets, test_timeout=test_timeout, **flags)
    )
    from convai_ops.plan import build_plan
    from convai_ops.render import render_plan_text
    from convai_ops.saved_plan import check_fresh, read_plan

    saved = read_plan(plan_file) if plan_file else None
    project, settings = load(ctx, early, test_timeout=test_timeout, **flags)
    project = select_agents(project, targets)
    with make_client(settings, early) as client:
        planned, snapshot = build_plan(client, project, settings)
        planned = check_fresh(saved, planned, targets) if saved else planned
        click.echo(render_plan_text(planned, colour=sys.stdout.isatty()), nl=False)
        if not planned.has_changes and not cleanup:
            return EXIT_OK
        _confirm(auto_approve or saved is not None)
        from convai_ops.apply import ApplyOptions, apply_plan  # only when there is work
        from convai_ops.git import commit_info
        from convai_ops.render import render_apply_result

        info = commit_info(settings.root)
        options = ApplyOptions.from_settings(
            settings, commit=info.describe() if info else None, rebase=rebase, cleanup=cleanup
        )
        with progress_reporter() as report:
            result = apply_plan(client, project, planned, snapshot.index, options, report)
    click.echo(render_apply_result(result), nl=False)
    return result.exit_code


def _confirm(auto_approve: bool) -> None:
    if auto_approve:
        return
    if not sys.stdin.isatty():
        raise UsageError("refusing to apply without a terminal to confirm: pass --auto-approve")
    if click.prompt("Apply these changes? Only 'yes' is accepted", default="") != "yes":
        raise click.exceptions.Abort()


@click.command()
@click.pass_context
def validate(ctx: click.Context) -> int:
    """Check every YAML file of the repository; no network, no API key needed."""
    from convai_ops.spec import load_project
    from convai_ops.tool_tests import check_tool_tests

    project = load_project(ctx.obj["root"])
    check_tool_tests(project)
    tests = sum(len(a.tests) for a in project.agents)
    click.echo(f"OK: {len(project.agents)} agent(s), {tests} test(s) valid.")
    return EXIT_OK


COMMANDS: list[click.Command] = [plan, apply, validate]
