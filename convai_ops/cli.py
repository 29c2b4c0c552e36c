"""The ``convai-ops`` command line: each command parses, resolves ``Settings``, calls one
library function and renders its result. ``main`` is the one place exceptions become exit codes.

Exit codes: 0 success; 1 error (bad input, API error, usage error); 2 ``plan
--detailed-exitcode`` found changes (or ``drift`` found drift); 3 tests failed, nothing merged.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from convai_ops import __version__
from convai_ops.cli_common import api_options, load, make_client, progress_reporter, select_agents
from convai_ops.errors import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, ConvaiOpsError, UsageError, redact

__all__ = ["cli", "main"]

F = TypeVar("F", bound=Callable[..., Any])

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


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI and exit with its code; the single handler for every error."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        code = cli.main(args=args, prog_name="convai-ops", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        code = EXIT_ERROR
    except click.ClickException as exc:
        click.echo(f"error: {redact(exc.format_message())}", err=True)
        code = EXIT_ERROR  # never 2: 2 means "changes" to CI
    except ConvaiOpsError as exc:
        code = _report(exc, debug, str(exc))
    except Exception as exc:  # an unexpected failure: still one line, no secrets
        code = _report(exc, debug, f"internal error: {type(exc).__name__}: {redact(str(exc))}")
    sys.exit(code if isinstance(code, int) else EXIT_OK)


def _report(exc: BaseException, debug: bool, message: str) -> int:
    if debug:
        click.echo(redact("".join(traceback.format_exception(exc))), err=True)
    hint = "" if debug or isinstance(exc, ConvaiOpsError) else " (run with --debug for details)"
    click.echo(f"error: {message}{hint}", err=True)
    return getattr(exc, "exit_code", EXIT_ERROR)


class _DebugHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes redacted records to the *current* ``sys.stderr`` (which tests swap)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr  # not setStream: it flushes the previous (maybe closed) one
        record.msg = redact(record.getMessage())
        record.args = ()
        super().emit(record)


_DEBUG_HANDLER = _DebugHandler()
_DEBUG_HANDLER.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))


def _setup_logging(debug: bool) -> None:
    logger = logging.getLogger("convai_ops")
    if debug:
        logger.addHandler(_DEBUG_HANDLER)  # adding twice is a no-op
        logger.setLevel(logging.DEBUG)
    else:
        logger.removeHandler(_DEBUG_HANDLER)
        logger.setLevel(logging.WARNING)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="convai-ops")
@click.option(
    "--debug", is_flag=True, help="Tracebacks and HTTP debug logs (the key stays masked)."
)
@click.option(
    "-C",
    "--project-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="Run as if started in DIR; the project is the nearest folder from there up "
    "holding convai-ops.yaml or agents/.",
)
@click.pass_context
def cli(ctx: click.Context, debug: bool, project_dir: Path) -> None:
    """GitOps for ElevenLabs voice agents: plan, then a gated apply (branch, test, merge).

    \b
    Try it with no API key:   convai-ops demo
    Against the API:          export ELEVENLABS_API_KEY=...; convai-ops plan
    """
    ctx.obj = _Obj(debug=debug, start=project_dir)
    from convai_ops.settings import find_project_root

    root = find_project_root(project_dir)
    if root is not None or ctx.invoked_subcommand in _NO_PROJECT_NEEDED:
        ctx.obj["root"] = root or project_dir
    _setup_logging(debug)


_NO_PROJECT_NEEDED = ("demo", "emulator", "import", "schema")
"""Commands that run outside a project (``import`` starts one in the -C folder)."""


class _Obj(dict[str, Any]):
    """``ctx.obj``: ``"root"`` is the project root found from -C upwards; reading it when there
    is none raises the one-line ``UsageError`` (so ``--help`` still works outside a project)."""

    def __missing__(self, key: str) -> Any:
        if key != "root":
            raise KeyError(key)
        from convai_ops.settings import not_a_project

        raise not_a_project(self["start"])


@cli.command(epilog=EPILOG_PLAN)
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
    from convai_ops.plan import build_plan
    from convai_ops.render import render_plan
    from convai_ops.saved_plan import write_plan

    project, settings = load(ctx, **flags)
    project = select_agents(project, targets)
    with make_client(settings) as client:
        result, _ = build_plan(client, project, settings)
    click.echo(render_plan(result, fmt, colour=sys.stdout.isatty()), nl=False)
    if out:
        write_plan(result, out)
        click.echo(f"Saved the plan to {out}; apply exactly it with: convai-ops apply {out}")
    return EXIT_CHANGES if detailed_exitcode and result.has_changes else EXIT_OK


@cli.command(epilog=EPILOG_APPLY)
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
    from convai_ops.plan import build_plan
    from convai_ops.render import render_plan_text
    from convai_ops.saved_plan import check_fresh, read_plan

    saved = read_plan(plan_file) if plan_file else None
    project, settings = load(ctx, test_timeout=test_timeout, **flags)
    project = select_agents(project, targets)
    with make_client(settings) as client:
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


@cli.command()
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


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8765, show_default=True)
@click.option(
    "--latency-ms",
    type=float,
    default=0.0,
    show_default=True,
    help="Delay added to every response.",
)
@click.option(
    "--fail-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Share of requests answered 500.",
)
@click.option(
    "--rate-limit",
    type=float,
    default=None,
    help="Requests per second; beyond it 429 with Retry-After.",
)
@click.option(
    "--api-key",
    default=None,
    callback=lambda _ctx, _param, value: _emulator_key(value),
    help="Accept only this key, 16 characters or more (default: any such xi-api-key).",
)
@click.option(
    "--state",
    "state_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keep state in this JSON file across restarts.",
)
@click.option(
    "--test-delay",
    type=float,
    default=1.0,
    show_default=True,
    help="Seconds a test run stays pending.",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed of the judge's nondeterminism."
)
@click.option(
    "--nondeterminism",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Share of runs answered with the second-best reply (agents with temperature > 0).",
)
@click.option(
    "--seed-conversations",
    "conversations_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Load conversations from this JSON file.",
)
@click.option(
    "--agent-wide-on-branch",
    type=click.Choice(["live", "dropped"]),
    default="live",
    show_default=True,
    help="An agent-wide platform setting written on a branch: takes effect live, or is dropped.",
)
@click.option(
    "--identical-merge",
    type=click.Choice(["refuse", "commit-nothing"]),
    default="refuse",
    show_default=True,
    help="A merge of a branch identical to its target: refused (422), or commits nothing.",
)
@click.option(
    "--protect-main",
    is_flag=True,
    help="Protect every main branch: merges into main answer 403 (the key is not an admin).",
)
@click.option(
    "--rag-index-delay",
    type=click.FloatRange(min=0),
    default=3.0,
    show_default=True,
    metavar="SECONDS",
    help="Seconds before a document's RAG index succeeds.",
)
@click.option(
    "--request-log",
    "request_log_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append every request and its status to this file as JSON lines (no key values).",
)
def emulator(host: str, port: int, **knobs: Any) -> int:
    """Serve a local ElevenLabs API emulator (the /v1/convai surface convai-ops uses).

    \b
    Example:
      convai-ops emulator --port 8765 &
      export ELEVENLABS_API_KEY=sk_local_0123456789abcdef  # any key of 16+ characters
      ELEVENLABS_BASE_URL=http://127.0.0.1:8765 convai-ops plan
    """
    from convai_ops.emulator import EmulatorConfig, serve

    config = EmulatorConfig(
        latency_ms=knobs["latency_ms"],
        fail_rate=knobs["fail_rate"],
        rate_limit=knobs["rate_limit"],
        api_key=knobs["api_key"],
        state_file=knobs["state_file"],
        test_delay_s=knobs["test_delay"],
        seed=knobs["seed"],
        nondeterminism=knobs["nondeterminism"],
        conversations_file=knobs["conversations_file"],
        agent_wide_on_branch=knobs["agent_wide_on_branch"],
        identical_merge=knobs["identical_merge"],
        protect_main=knobs["protect_main"],
        rag_index_delay_s=knobs["rag_index_delay"],
        request_log_file=knobs["request_log_file"],
    )
    click.echo(f"ElevenLabs API emulator on http://{host}:{port} (Ctrl-C to stop)", err=True)
    serve(config, host, port)
    return EXIT_OK


def _emulator_key(value: str | None) -> str | None:
    from convai_ops.errors import MIN_API_KEY_LENGTH

    if value is not None and len(value) < MIN_API_KEY_LENGTH:
        raise click.BadParameter(f"at least {MIN_API_KEY_LENGTH} characters, like a real key")
    return value


@cli.command()
@click.option(
    "--example",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Example project to copy (default: the bundled one).",
)
def demo(example: Path | None) -> int:
    """Walk through plan and gated apply against a local emulator: no API key needed.

    One change whose tests pass is merged; one that breaks a test is blocked and main is left
    exactly as it was.
    """
    from convai_ops.demo import run_demo

    return run_demo(click.echo, example=example)


def _register_area_commands() -> None:
    from convai_ops import cli_ci, cli_conversations, cli_doctor, cli_state, cli_tests

    for module in (cli_tests, cli_state, cli_conversations, cli_ci, cli_doctor):
        for command in module.COMMANDS:
            cli.add_command(command)


_register_area_commands()
