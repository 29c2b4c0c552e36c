"""Click commands of one area, registered on the ``convai-ops`` group by ``convai_ops.cli``:
``import``, ``pull``, ``drift`` and ``schema`` (the repository's state against the live agents).

Only click is imported at module level so ``convai-ops --help`` stays fast; each command
imports the library it calls inside its body.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from convai_ops.cli.common import api_options, load, make_client, select_agents

__all__ = ["COMMANDS"]

SCHEMA_KINDS = ("project", "agent", "test", "tool")

EPILOG_IMPORT = """\b
Examples:
  convai-ops import agent_8901k2abcd --slug support
  convai-ops import agent_8901k2abcd --env production --slug support
  convai-ops import --all              # every agent of the workspace, one folder each
  convai-ops import --all --tag support-team
  convai-ops plan                      # afterwards: no changes for the imported agent
"""

EPILOG_PULL = """\b
Examples:
  convai-ops pull                      # every agent of the repository
  convai-ops pull support --env production
  git diff                             # exactly the values changed on the dashboard
  convai-ops pull --force              # even over uncommitted edits (they are lost)
"""

EPILOG_DRIFT = """\b
Examples:
  convai-ops drift                     # exit 0 none, 2 dashboard edits or not applied, 1 error
  convai-ops drift --env production --format json
  convai-ops pull                      # then: adopt the live values into the repository
"""

EPILOG_SCHEMA = """\b
Examples:
  convai-ops schema --write            # .convai-ops/schema/{project,agent,test}.schema.json
  convai-ops schema --kind test > test.schema.json
"""


@click.command("import", epilog=EPILOG_IMPORT)
@click.argument("agent_id", required=False)
@click.option("--slug", metavar="SLUG", help="Folder name under agents/ (default: from the name).")
@click.option("--all", "everything", is_flag=True, help="Import every agent of the workspace.")
@click.option("--tag", metavar="TAG", help="With --all: only agents carrying this tag.")
@api_options
@click.pass_context
def import_command(
    ctx: click.Context,
    /,
    agent_id: str | None,
    slug: str | None,
    everything: bool,
    tag: str | None,
    **flags: Any,
) -> int:
    """Write agents/<slug>/ from a live agent: agent.yaml (what differs from the API's
    defaults, the agent id under the environment), prompt.md, tests/*.yaml and knowledge-base
    references by id. Tags are declared only when the agent carries convai-ops:<slug>.

    With --all, every agent of the workspace (or those with --tag) gets its own folder: slugs
    come from names, a taken slug gets -2, -3..., and agents the repository already manages
    (pinned in an agent.yaml, or tagged convai-ops:<slug> with that folder present) are
    skipped. Both are reported. Exit 1 when any agent failed to import."""
    from convai_ops.errors import EXIT_ERROR, EXIT_OK
    from convai_ops.importer import import_agent, import_all

    _check_import_args(agent_id, slug, everything, tag)
    _, settings = load(ctx, **flags)
    with make_client(settings) as client:
        if agent_id is None:
            result = import_all(
                client, settings.root, env=settings.environment, tag=tag, progress=_progress()
            )
            click.echo(_import_all_text(result, settings.root, settings.environment), nl=False)
            return EXIT_ERROR if result.failed else EXIT_OK
        single = import_agent(client, agent_id, settings.root, env=settings.environment, slug=slug)
    click.echo(_import_text(single, settings.root), nl=False)
    return EXIT_OK


def _check_import_args(
    agent_id: str | None, slug: str | None, everything: bool, tag: str | None
) -> None:
    if everything == (agent_id is not None):
        raise click.UsageError("give either an AGENT_ID or --all")
    if everything and slug:
        raise click.UsageError("--slug names one agent: it cannot be used with --all")
    if tag is not None and not everything:
        raise click.UsageError("--tag filters --all: add --all, or drop --tag")


def _progress() -> Any:
    """On a terminal, one stderr line per listed agent (``[3/20] Support -> agents/support/``)."""
    if not sys.stderr.isatty():
        return None

    def report(done: int, total: int, name: str, outcome: str) -> None:
        click.echo(f"[{done}/{total}] {name or '(no name)'}: {outcome}", err=True)

    return report


def _import_all_text(result: Any, root: Path, env: str) -> str:
    lines = [f"Imported {len(result.imported)} agent(s) (environment {env!r}):"]
    for item in result.imported:
        wanted = result.renamed.get(item.slug)
        taken = f"  (slug {wanted!r} was taken)" if wanted else ""
        lines.append(f"  + {_shown(item.directory, root)}/ <- {item.agent_id}{taken}")
        lines += [f"      note: {note}" for note in item.notes]
    if result.skipped:
        lines.append(f"Skipped {len(result.skipped)} agent(s) the repository already manages:")
        lines += [f"  = {s.agent_id} ({s.name}): {s.reason}" for s in result.skipped]
    if result.failed:
        lines.append(f"Failed to import {len(result.failed)} agent(s):")
        lines += [f"  ! {s.agent_id} ({s.name}): {s.reason}" for s in result.failed]
    lines.append(
        "Next: `convai-ops plan` shows no changes for them (unless a note says otherwise)."
    )
    return "\n".join(lines) + "\n"


def _import_text(result: Any, root: Path) -> str:
    lines = [f"Imported {result.agent_id} into {_shown(result.directory, root)}/:"]
    lines += [f"  wrote {_shown(path, root)}" for path in result.files]
    lines += [f"  note: {note}" for note in result.notes]
    lines.append("Next: `convai-ops plan` shows no changes for it (unless a note says otherwise).")
    return "\n".join(lines) + "\n"


def _shown(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


@click.command("pull", epilog=EPILOG_PULL)
@click.argument("slugs", nargs=-1, metavar="[SLUG]...")
@click.option(
    "--force", is_flag=True, help="Overwrite files with uncommitted changes (they are lost)."
)
@api_options
@click.pass_context
def pull_command(ctx: click.Context, /, slugs: tuple[str, ...], force: bool, **flags: Any) -> int:
    """Adopt the live values of declared fields (dashboard edits) into the repository.

    Only changed values are rewritten: comments and key order survive, prompt.md is rewritten
    only when the prompt changed. No file is deleted; what cannot be adopted is noted.

    In a git repository, pull refuses (exit 1, naming them, nothing written) when a file it
    would write has uncommitted changes (modified, staged, or untracked), unless --force.
    Outside a git repository there is no such guard."""
    from convai_ops.errors import EXIT_OK
    from convai_ops.pull_guard import guarded_pull

    project, settings = load(ctx, **flags)
    project = select_agents(project, slugs)
    with make_client(settings) as client:
        results = guarded_pull(
            client,
            project,
            settings.environment,
            force=force,
            concurrency=settings.concurrency,
        )
    click.echo(_pull_text(results, settings.root), nl=False)
    return EXIT_OK


def _pull_text(results: Sequence[Any], root: Path) -> str:
    lines = []
    for result in results:
        if result.agent_id is None:
            lines.append(f"  {result.slug}: skipped")
        elif result.files:
            lines.append(f"~ {result.slug} ({result.agent_id}): pulled")
            lines += [f"    ~ {field}" for field in result.fields]
            lines += [f"    wrote {_shown(path, root)}" for path in result.files]
        else:
            lines.append(f"= {result.slug} ({result.agent_id}): up to date")
        lines += [f"    note: {note}" for note in result.notes]
    changed = sum(1 for r in results if r.files)
    lines.append(f"Pull: {changed} of {len(results)} agent(s) updated from the live agents.")
    return "\n".join(lines) + "\n"


@click.command("drift", epilog=EPILOG_DRIFT)
@api_options
@click.option(
    "--target", "targets", multiple=True, metavar="SLUG", help="Only this agent (repeatable)."
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.pass_context
def drift_command(ctx: click.Context, /, targets: tuple[str, ...], fmt: str, **flags: Any) -> int:
    """Report declared fields whose live value differs from the commit convai-ops applied
    (dashboard edits), and apart from them the repository's changes not applied yet (the
    commit main was applied from differs from the repository: e.g. an apply whose tests
    failed). The applied commit is read from main's version history; when it is unknown, live
    is compared with the repository and a note says why.

    Exit 0 neither, 2 dashboard edits or changes not applied yet (the JSON's has_drift and
    has_unapplied say which), 1 error. `pull` adopts the live values; `apply` restores the
    repository's."""
    from convai_ops.drift import detect_drift, render_drift
    from convai_ops.errors import EXIT_CHANGES, EXIT_OK

    project, settings = load(ctx, **flags)
    project = select_agents(project, targets)
    with make_client(settings) as client:
        report = detect_drift(
            client, project, settings.environment, concurrency=settings.concurrency
        )
        from convai_ops.cli.apply import warn_traffic

        warn_traffic(client, report, settings)
    click.echo(render_drift(report, fmt, colour=sys.stdout.isatty()), nl=False)
    return EXIT_CHANGES if report.has_drift or report.has_unapplied else EXIT_OK


@click.command("schema", epilog=EPILOG_SCHEMA)
@click.option(
    "--kind",
    type=click.Choice(SCHEMA_KINDS),
    default="agent",
    show_default=True,
    help="Which file's schema to print.",
)
@click.option("--write", is_flag=True, help="Write all three schemas to .convai-ops/schema/.")
@click.pass_context
def schema_command(ctx: click.Context, /, kind: str, write: bool) -> int:
    """Print the JSON Schema of convai-ops.yaml, agent.yaml or a test file; with --write,
    write all three where the files' `# yaml-language-server: $schema=...` lines point, so
    editors complete and check fields. No network, no API key needed."""
    import json

    from convai_ops.errors import EXIT_OK
    from convai_ops.spec import json_schema, write_schemas

    root: Path = ctx.obj["root"]
    if not write:
        click.echo(json.dumps(json_schema(kind), indent=2))
        return EXIT_OK
    for path in write_schemas(root):
        click.echo(f"wrote {_shown(path, root)}")
    return EXIT_OK


COMMANDS: list[click.Command] = [import_command, pull_command, drift_command, schema_command]
