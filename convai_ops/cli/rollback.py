"""Click command ``rollback``, registered on the ``convai-ops`` group by ``convai_ops.cli``.

Only click is imported at module level so ``convai-ops --help`` stays fast.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from convai_ops.cli.apply import break_glass_options, confirm, warn_break_glass
from convai_ops.cli.common import api_options, load, make_client, progress_reporter, select_agents
from convai_ops.errors import EXIT_OK, UsageError

__all__ = ["COMMANDS"]

EPILOG_ROLLBACK = """\b
Examples:
  convai-ops rollback support                  # undo main's latest change, after the tests
  convai-ops rollback support --steps 2 --auto-approve
  convai-ops rollback support --to agtvrsn_0123abcd
  convai-ops rollback support --skip-tests --reason "test service down, bad prompt live"
"""


@click.command("rollback", epilog=EPILOG_ROLLBACK)
@api_options
@click.argument("slug")
@click.option("--to", "to", metavar="VERSION_ID", help="Restore this version of the agent.")
@click.option(
    "--steps",
    type=click.IntRange(min=1),
    help="Restore the version main held before its N latest changes (default 1).",
)
@click.option("--auto-approve", is_flag=True, help="Roll back without asking (for CI).")
@click.option(
    "--test-timeout",
    type=click.FloatRange(min=1),
    help="Seconds to wait for test runs (env: CONVAI_OPS_TEST_TIMEOUT; default 1200).",
)
@break_glass_options
@click.pass_context
def rollback(
    ctx: click.Context,
    /,
    slug: str,
    to: str | None,
    steps: int | None,
    auto_approve: bool,
    test_timeout: float | None,
    skip_tests: bool,
    reason: str | None,
    **flags: Any,
) -> int:
    """Make main of agent SLUG hold an earlier version's config again, through the gate: a
    branch from the current main with that version's config, the repository's tests there,
    and the merge only when all pass (exit 3 when tests failed: nothing merged).

    Prints the `git revert` to run so the repository agrees."""
    from convai_ops.breakglass import break_glass

    if to is not None and steps is not None:
        raise UsageError("pass either --to VERSION_ID or --steps N, not both")
    glass = break_glass(skip_tests, reason, ctx.obj["root"])
    project, settings = load(ctx, test_timeout=test_timeout, **flags)
    project = select_agents(project, [slug])
    with make_client(settings) as client:
        return _rollback(client, project, settings, glass, to, steps or 1, auto_approve)


def _rollback(
    client: Any,
    project: Any,
    settings: Any,
    glass: Any,
    to: str | None,
    steps: int,
    auto_approve: bool,
) -> int:
    from convai_ops.apply import ApplyResult
    from convai_ops.render import render_apply_result
    from convai_ops.rollback import plan_rollback, revert_advice
    from convai_ops.state import read_snapshot

    spec = project.agents[0]
    snapshot = read_snapshot(client, project.agents, settings.environment)
    remote = snapshot.agents.get(spec.slug)
    if remote is None:
        raise UsageError(f"{spec.slug}: no live agent in {settings.environment!r} to roll back")
    planned = plan_rollback(client, spec.slug, remote.agent_id, to=to, steps=steps)
    click.echo(_render(planned, spec), nl=False)
    if not planned.changes:
        click.echo(
            f"Nothing to roll back: main holds version {planned.target_version_id}'s config."
        )
        return EXIT_OK
    if glass is not None:
        warn_break_glass(glass)
    confirm(auto_approve, "Roll back main to this version?")
    outcome = _run(client, project, settings, snapshot.index, glass, planned)
    result = ApplyResult((outcome,))
    click.echo(render_apply_result(result, title="Rollback"), nl=False)
    if outcome.status == "merged":
        click.echo("\n".join(revert_advice(planned)) + "\n", nl=False)
    return result.exit_code


def _render(planned: Any, spec: Any) -> str:
    """The field diff main -> target, drawn by the plan renderer."""
    from convai_ops.plan import AgentPlan, Plan
    from convai_ops.render import render_plan_text

    agent = AgentPlan(
        slug=spec.slug,
        action="update" if planned.changes else "no-op",
        agent_id=planned.main.agent_id,
        base_version_id=planned.main.version_id,
        changes=planned.changes,
        tests=tuple(t.name for t in spec.tests),
    )
    plan = Plan(environment="", base_url="", agents=(agent,))
    head = f"Rollback of {spec.slug}: main {planned.main.version_id} -> version "
    return f"{head}{planned.target_version_id}\n" + render_plan_text(
        plan, colour=sys.stdout.isatty()
    )


def _run(client: Any, project: Any, settings: Any, index: Any, glass: Any, planned: Any) -> Any:
    from dataclasses import replace

    from convai_ops.apply import ApplyContext, ApplyOptions
    from convai_ops.git import commit_info
    from convai_ops.rollback import run_rollback

    info = commit_info(settings.root)
    at = f" (repository at {info.describe()})" if info else ""
    description = f"convai-ops rollback to version {planned.target_version_id}{at}"
    options = ApplyOptions.from_settings(settings, break_glass=glass)
    options = replace(options, description=glass.describe(description) if glass else description)
    with progress_reporter() as report:
        ctx = ApplyContext(client, project, index, options, report)
        return run_rollback(ctx, project.agents[0], planned)


COMMANDS: list[click.Command] = [rollback]
