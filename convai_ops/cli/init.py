"""Click command ``init``, registered on the ``convai-ops`` group by ``convai_ops.cli``: start a
repository of agents (convai-ops.yaml, agents/, tools/, the CI workflows, pre-commit, .gitignore).

Only click is imported at module level so ``convai-ops --help`` stays fast; the command imports
the library it calls inside its body.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

__all__ = ["COMMANDS"]

EPILOG_INIT = """\b
Examples:
  convai-ops init                      # on a terminal: asks for the environments
  convai-ops init agents-repo --env staging=https://api.elevenlabs.io \\
      --env production=https://api.elevenlabs.io
  convai-ops init --force              # rewrite the files init writes
  convai-ops import --all              # then: adopt the workspace's agents
  convai-ops plan
"""


@click.command("init", epilog=EPILOG_INIT)
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--env",
    "environments",
    multiple=True,
    metavar="NAME=URL",
    help="An environment and its API base URL (repeatable; the first is the default; "
    "NAME alone: the default base URL).",
)
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@click.pass_context
def init_command(
    ctx: click.Context, /, directory: Path | None, environments: tuple[str, ...], force: bool
) -> int:
    """Start a repository of agents in DIRECTORY (default: the -C folder): convai-ops.yaml
    with named environments, agents/ and tools/, three GitHub workflows (pull-request check,
    promotion after a merge, daily drift) calling the convai-ops action, a pre-commit config
    and a .gitignore. Existing files are kept (and listed) unless --force. No network."""
    from convai_ops.errors import EXIT_OK
    from convai_ops.init import init_project

    target = directory if directory is not None else ctx.obj["start"]
    chosen, note = _environments(environments)
    result = init_project(target, chosen, force=force)
    click.echo(_init_text(result, target, chosen, note), nl=False)
    return EXIT_OK


def _environments(given: tuple[str, ...]) -> tuple[list[Any], str | None]:
    """The environments from --env, else asked on a terminal, else the one default (noted)."""
    from convai_ops.errors import UsageError
    from convai_ops.init import check_environments, default_environments, parse_environment

    if given:
        return [parse_environment(text) for text in given], None
    if not sys.stdin.isatty():
        note = (
            "no --env given and no terminal to ask: one environment 'default' at the default "
            "base URL (add more to convai-ops.yaml, or rerun with --env NAME=URL --force)"
        )
        return default_environments(), note
    while True:
        try:
            chosen = _ask()
        except UsageError as exc:
            click.echo(f"error: {exc}", err=True)
            continue
        try:
            check_environments(chosen)
        except UsageError as exc:  # a bad answer: say why, ask again
            click.echo(f"error: {exc}", err=True)
            continue
        return chosen, None


def _ask() -> list[Any]:
    from convai_ops.init import parse_environment
    from convai_ops.settings import DEFAULT_BASE_URL

    names = click.prompt(
        "Environments (comma-separated, the first is the default)", "staging,production"
    )
    chosen = []
    for name in (n.strip() for n in names.split(",") if n.strip()):
        url = click.prompt(f"API base URL of {name}", DEFAULT_BASE_URL)
        chosen.append(parse_environment(name if url == DEFAULT_BASE_URL else f"{name}={url}"))
    return chosen


def _init_text(result: Any, target: Path, chosen: list[Any], note: str | None) -> str:
    from convai_ops.init import described, key_variable

    lines = [f"Initialised a convai-ops project in {target}:"]
    lines += [f"  wrote {path}" for path in result.written]
    lines += [f"  skipped {path} (exists; --force overwrites it)" for path in result.skipped]
    lines += [f"  note: {note}"] if note else []
    if "convai-ops.yaml" in result.skipped:
        lines.append(
            "  note: convai-ops.yaml was kept: the workflows written assume the environments "
            "below; make the two agree"
        )
    lines.append("Environments (the API key of each in its variable, and CI secret):")
    for index, (name, url) in enumerate(described(chosen).items()):
        lines.append(f"  {name}: {url} (key: {key_variable(index, name)})")
    lines.append("Next steps:")
    lines += [] if target.absolute() == Path.cwd() else [f"  cd {target}"]
    lines += [
        "  convai-ops import --all   # adopt the workspace's agents, one folder each",
        "  convai-ops plan           # then: no changes",
        "  git add -A && git commit -m 'convai-ops init'",
    ]
    return "\n".join(lines) + "\n"


COMMANDS: list[click.Command] = [init_command]
