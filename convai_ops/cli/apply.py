"""Click commands of the core area, registered on the ``convai-ops`` group by ``convai_ops.cli``:
``plan``, ``apply`` and ``validate``.

Only click is imported at module level so ``convai-ops --help`` stays fast; each command
imports the library it calls inside its body.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

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

__all__ = ["COMMANDS", "break_glass_options", "confirm", "warn_break_glass"]

F = TypeVar("F", bound=Callable[..., Any])

EPILOG_PLAN = """\b
Examples:
  convai-ops plan
  convai-ops plan --env production --detailed-exitcode
  convai-ops plan --format markdown > plan.md
  convai-ops plan --format json | jq '.orphans'   # managed agents with no folder
"""

EPILOG_APPLY = """\b
Examples:
  convai-ops apply                     # shows the plan, asks before applying
  convai-ops apply --auto-approve      # CI: no prompt
  convai-ops apply --target support    # one agent only
  convai-ops apply --prune             # also delete the orphans the plan lists
  convai-ops plan --out plan.json && convai-ops apply plan.json
  convai-ops apply --target support --skip-tests --reason "test service down, refund hotfix"
  convai-ops apply --canary 20         # after tests pass, 20% of live callers first
"""


def break_glass_options(func: F) -> F:
    """``--skip-tests`` and ``--reason`` (break-glass) of ``apply`` and ``rollback``; never of
    ``check``. Checked by ``breakglass.break_glass`` before anything is read or sent."""
    func = click.option(
        "--reason",
        metavar="TEXT",
        help="Why --skip-tests: recorded in the merged branch's description with your git "
        "user and the commit.",
    )(func)
    return click.option(
        "--skip-tests",
        is_flag=True,
        help="Break-glass: merge WITHOUT running the tests (needs --reason; exit 2 without). "
        "plan and drift flag main as untested until a tested apply.",
    )(func)


def warn_break_glass(break_glass: Any) -> None:
    """The loud warning of a ``--skip-tests`` run, on stderr (bold red on a terminal)."""
    click.secho(
        f"WARNING: --skip-tests: merging into main WITHOUT running any test "
        f"(by {break_glass.operator}, reason: {break_glass.reason!r})",
        fg="red",
        bold=True,
        err=True,
    )


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
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 no changes, 2 changes, 1 error. Orphans count as changes only when "
    "convai-ops.yaml has prune: true.",
)
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
    """Show, field by field, how the live agents differ from the repository, and the managed
    agents that have no folder (orphans; not with --target)."""
    early = start_early_reads(ctx, targets, **flags)  # before the imports below: start-up time
    from convai_ops.plan import build_plan
    from convai_ops.render import render_plan
    from convai_ops.saved_plan import write_plan

    project, settings = load(ctx, early, **flags)
    project = select_agents(project, targets)
    from convai_ops.breakglass import flag_plan, marked_slugs

    with make_client(settings, early) as client:
        traffic = traffic_reads(client, settings)
        result, snapshot = build_plan(
            client, project, settings, orphans=not targets, on_remote=traffic.on_remote
        )
        result = flag_plan(client, result, marked_slugs(snapshot), settings.concurrency)
        echo_warnings(traffic.warnings())
    result = result.model_copy(update={"prune": project.config.prune})
    click.echo(render_plan(result, fmt, colour=sys.stdout.isatty()), nl=False)
    if out:
        write_plan(result, out)
        click.echo(f"Saved the plan to {out}; apply exactly it with: convai-ops apply {out}")
    return EXIT_CHANGES if detailed_exitcode and result.has_work else EXIT_OK


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
    "--prune",
    is_flag=True,
    help="Also delete the orphans the plan lists: managed agents whose folder is gone "
    "(as prune: true in convai-ops.yaml).",
)
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
@break_glass_options
@click.option(
    "--canary",
    "canary_percent",
    type=click.FloatRange(0, 100, min_open=True, max_open=True),
    metavar="PERCENT",
    help="After the tests pass, deploy the branch to PERCENT of live traffic and merge only "
    "if callers did as well as on main (other settings: the environment's canary: block).",
)
@click.option(
    "--ignore-traffic-split",
    is_flag=True,
    help="Merge even into an agent whose live traffic is split by someone else.",
)
@click.pass_context
def apply(
    ctx: click.Context,
    /,
    plan_file: Path | None,
    targets: tuple[str, ...],
    auto_approve: bool,
    prune: bool,
    rebase: bool,
    cleanup: bool,
    test_timeout: float | None,
    skip_tests: bool,
    reason: str | None,
    canary_percent: float | None,
    ignore_traffic_split: bool,
    **flags: Any,
) -> int:
    """Stage each change on a new agent branch, run the agent's tests there, and merge into
    main only when every test passes. Exit 3 when tests failed (nothing merged). Name, tags
    and agent-wide platform settings (not part of a version) are written on main after the
    merge, or directly when nothing versioned changed.

    With PLAN (from `plan --out`), apply exactly that plan; refused if main or the repository
    moved since. With --prune (or prune: true in convai-ops.yaml), the orphans the plan lists
    (managed agents whose folder is gone) are deleted after the changes; never without it.

    With --skip-tests --reason TEXT (break-glass, e.g. the test service is down), the change
    is merged without running tests; the reason, your git user and the commit are recorded in
    the branch description, and plan and drift flag main until a tested apply.

    With --canary PERCENT (or a canary: block for the environment in convai-ops.yaml), a
    branch whose tests passed first serves PERCENT of live callers; it is merged (main back to
    100%) when every metric holds against main, rolled back (branch 0%, kept, exit 3) as soon
    as one is worse. A split made by someone else makes apply refuse to merge unless
    --ignore-traffic-split."""
    early = (
        None if plan_file else start_early_reads(ctx, targets, test_timeout=test_timeout, **flags)
    )
    from convai_ops.breakglass import break_glass
    from convai_ops.plan import build_plan
    from convai_ops.render import render_plan_text
    from convai_ops.saved_plan import check_fresh, read_plan

    glass = break_glass(skip_tests, reason, ctx.obj["root"])
    saved = read_plan(plan_file) if plan_file else None
    project, settings = load(ctx, early, test_timeout=test_timeout, **flags)
    project = select_agents(project, targets)
    with make_client(settings, early) as client:
        traffic = traffic_reads(client, settings)
        planned, snapshot = build_plan(
            client, project, settings, orphans=not targets, on_remote=traffic.on_remote
        )
        planned = check_fresh(saved, planned, targets) if saved else planned
        planned = planned.model_copy(update={"prune": prune or project.config.prune})
        echo_warnings(traffic.warnings())
        click.echo(render_plan_text(planned, colour=sys.stdout.isatty()), nl=False)
        if not planned.has_work and not cleanup:
            return EXIT_OK
        if glass is not None:
            warn_break_glass(glass)
        confirm(auto_approve or saved is not None)
        from convai_ops.apply import ApplyOptions, apply_plan  # only when there is work
        from convai_ops.git import commit_info
        from convai_ops.render import render_apply_result

        info = commit_info(settings.root)
        options = ApplyOptions.from_settings(
            settings,
            commit=info.describe() if info else None,
            rebase=rebase,
            cleanup=cleanup,
            break_glass=glass,
        )
        options = with_traffic_options(
            options, project, settings, canary_percent, ignore_traffic_split
        )
        with progress_reporter() as report:
            result = apply_plan(client, project, planned, snapshot.index, options, report)
        click.echo(render_apply_result(result), nl=False)
        pruned = _prune(client, planned)
        return result.exit_code if pruned == EXIT_OK else pruned


def _prune(client: Any, planned: Any) -> int:
    """Delete the orphans of ``planned`` when prune is on (the user confirmed the plan)."""
    if not planned.deletes:
        return EXIT_OK
    from convai_ops.prune import delete_orphans, prune_exit_code
    from convai_ops.render import render_prune_result

    outcomes = delete_orphans(client, planned.deletes)
    click.echo(render_prune_result(outcomes), nl=False)
    return prune_exit_code(outcomes)


def traffic_reads(client: Any, settings: Any) -> Any:
    """A ``canary.traffic.TrafficReads`` to pass to ``build_plan`` (``on_remote``)."""
    from convai_ops.canary.traffic import TrafficReads

    return TrafficReads(client, settings.concurrency)


def echo_warnings(lines: list[str]) -> None:
    """Print each line on stderr."""
    for line in lines:
        click.echo(line, err=True)


def warn_traffic(client: Any, planned: Any, settings: Any) -> None:
    """Print (stderr) the traffic split warnings of the plan's existing agents."""
    from convai_ops.canary.traffic import split_warnings

    refs = [(a.slug, a.agent_id, a.main_branch_id) for a in planned.agents if a.main_branch_id]
    for line in split_warnings(client, refs, settings.concurrency):
        click.echo(line, err=True)


def with_traffic_options(
    options: Any, project: Any, settings: Any, percent: float | None, ignore_split: bool
) -> Any:
    """``options`` with the canary (``--canary`` over the environment's ``canary:`` block)
    and ``--ignore-traffic-split``."""
    from dataclasses import replace

    from convai_ops.canary.config import CanaryConfig

    block = project.config.environments.get(settings.environment)
    configured = block.canary.config() if block is not None and block.canary else None
    canary = (configured or CanaryConfig()).with_percent(percent) if percent or configured else None
    return replace(options, canary=canary, ignore_traffic_split=ignore_split)


def confirm(auto_approve: bool, question: str = "Apply these changes?") -> None:
    """Ask on a terminal (only ``yes`` goes on; anything else aborts, exit 1); refuses
    without a terminal unless ``auto_approve``."""
    if auto_approve:
        return
    if not sys.stdin.isatty():
        raise UsageError("refusing to apply without a terminal to confirm: pass --auto-approve")
    if click.prompt(f"{question} Only 'yes' is accepted", default="") != "yes":
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
