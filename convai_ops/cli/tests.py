"""Click commands ``test`` and ``gc``, registered on the ``convai-ops`` group by ``cli``.

Only click is imported at module level so ``convai-ops --help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from convai_ops.cli.common import api_options, load, make_client, progress_reporter, select_agents
from convai_ops.errors import EXIT_OK, EXIT_TESTS_FAILED

if TYPE_CHECKING:
    from convai_ops.testing import AgentTestRun

__all__ = ["COMMANDS"]

EPILOG_TEST = """\b
Examples:
  convai-ops test                          # every agent's tests on its main branch
  convai-ops test support --repeat 5       # one agent, each test 5 times, all 5 must pass
  convai-ops test --repeat 5 --min-pass 4  # each test 5 times, 4 passes needed
  convai-ops test support --branch convai-ops-pr-42
"""


@click.command("test", epilog=EPILOG_TEST)
@api_options
@click.argument("slugs", nargs=-1, metavar="[SLUG]...")
@click.option("--branch", metavar="NAME|ID", help="Run on this agent branch instead of main.")
@click.option(
    "--repeat",
    type=click.IntRange(1, 50),
    metavar="N",
    help="Run each test N times (overrides the YAML repeat and min_pass): all N must pass.",
)
@click.option(
    "--min-pass",
    type=click.IntRange(1, 50),
    metavar="M",
    help="With --repeat N: M of the N runs must pass (M <= N).",
)
@click.option(
    "--junit", type=click.Path(dir_okay=False, path_type=str), help="Write JUnit XML here."
)
@click.pass_context
def test_command(
    ctx: click.Context,
    /,
    slugs: tuple[str, ...],
    branch: str | None,
    repeat: int | None,
    min_pass: int | None,
    junit: str | None,
    **flags: object,
) -> int:
    """Run agents' tests on main (or a branch) without changing anything.

    Each test's result reads ``passed x/N (needs M)``. Without --repeat a test runs as its
    YAML says (repeat, min_pass); --repeat N needs all N runs to pass unless --min-pass M is
    given. Exit 0 when every test passed, 3 when some failed, 1 on an error (bad flags, an API
    error, or runs that stay pending after one resubmit)."""
    from convai_ops.render import render_test_runs
    from convai_ops.testing import PollPolicy, check_threshold, test_agents

    check_threshold(repeat, min_pass)
    project, settings = load(ctx, **flags)
    project = select_agents(project, slugs)
    policy = PollPolicy(settings.poll_initial, settings.poll_max, settings.test_timeout)
    with make_client(settings) as client, progress_reporter() as reporter:
        runs = test_agents(
            client,
            project.agents,
            settings.environment,
            branch=branch,
            repeat=repeat,
            min_pass=min_pass,
            policy=policy,
            progress=reporter,
            project_tools=project.tools,
        )
    click.echo(render_test_runs(runs), nl=False)
    if junit:
        _write_junit(runs, junit)
    failed = any(r.report and not r.report.ok for r in runs)
    return EXIT_TESTS_FAILED if failed else EXIT_OK


def _write_junit(runs: Sequence[AgentTestRun], path: str) -> None:
    from convai_ops.junit import write_test_runs_junit

    write_test_runs_junit(runs, path)
    click.echo(f"JUnit report: {path}")


@click.command("gc")
@api_options
@click.option("--yes", is_flag=True, help="Delete what is listed (default: only list).")
@click.option(
    "--min-age-days",
    type=click.FloatRange(min=0),
    default=7.0,
    show_default=True,
    help="Leave anything younger (a pull-request check may still use it).",
)
@click.pass_context
def gc_command(ctx: click.Context, /, yes: bool, min_age_days: float, **flags: object) -> int:
    """List knowledge-base documents, tests and tools convai-ops created that no agent's main
    uses any more (tools: also none a branch uses); with --yes, delete them.

    \b
    Example:
      convai-ops gc && convai-ops gc --yes
    """
    from convai_ops.gc import collect_garbage, delete_garbage

    project, settings = load(ctx, **flags)
    with make_client(settings) as client:
        garbage = collect_garbage(client, project, settings.environment, min_age_days=min_age_days)
        for item in garbage.items:
            click.echo(f"  {item.kind} {item.id}  {item.name}")
        if not yes:
            click.echo(
                f"{len(garbage.items)} unused item(s). Delete them with: convai-ops gc --yes"
            )
            return EXIT_OK
        results = delete_garbage(client, garbage)
    for item, result in results:
        click.echo(f"  {result}: {item.kind} {item.name}")
    kept = sum(1 for _, r in results if r.startswith("kept"))
    click.echo(f"Deleted {len(results) - kept}, kept {kept}.")
    return EXIT_OK


COMMANDS: list[click.Command] = [test_command, gc_command]
