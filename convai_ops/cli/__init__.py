"""The ``convai-ops`` command line: each command parses, resolves ``Settings``, calls one
library function and renders its result. ``main`` is the one place exceptions become exit codes.

Exit codes: 0 success; 1 error (bad input, API error, usage error); 2 ``plan
--detailed-exitcode`` found changes (or ``drift`` found drift); 3 tests failed, nothing merged.
"""

from __future__ import annotations

import gc
import logging
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from convai_ops import __version__
from convai_ops.errors import EXIT_ERROR, EXIT_OK, ConvaiOpsError, redact

__all__ = ["cli", "main"]

F = TypeVar("F", bound=Callable[..., Any])


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
    if argv is None:  # the process ends here: spare its final collection a walk over every
        gc.freeze()  # object the loaded libraries made (about 25 ms of a 0.5 s command)
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


_NO_PROJECT_NEEDED = ("demo", "emulator", "import", "init", "schema")
"""Commands that run outside a project (``import`` and ``init`` start one in the -C folder)."""


class _Obj(dict[str, Any]):
    """``ctx.obj``: ``"root"`` is the project root found from -C upwards; reading it when there
    is none raises the one-line ``UsageError`` (so ``--help`` still works outside a project)."""

    def __missing__(self, key: str) -> Any:
        if key != "root":
            raise KeyError(key)
        from convai_ops.settings import not_a_project

        raise not_a_project(self["start"])


def _register_area_commands() -> None:
    from convai_ops.cli import (
        apply,
        canary,
        ci,
        conversations,
        doctor,
        init,
        lifecycle,
        local,
        rollback,
        state,
        tests,
    )

    modules = (apply, tests, state, conversations, ci, doctor, local, init, lifecycle, rollback)
    for module in (*modules, canary):
        for command in module.COMMANDS:
            cli.add_command(command)


_register_area_commands()
