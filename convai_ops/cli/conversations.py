"""Click commands of one area, registered on the ``convai-ops`` group by ``convai_ops.cli``.

Only click is imported at module level so ``convai-ops --help`` stays fast; each command
imports the library it calls inside its body.

This area turns calls into tests: ``conversations list|show``, ``tests new`` and ``simulate``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["COMMANDS"]

EPILOG_LIST = """\b
Examples:
  convai-ops conversations list --agent support --failed --since 7d
  convai-ops conversations list --search refund --limit 50 --format json
"""

EPILOG_TESTS_NEW = """\b
Examples:
  convai-ops tests new --from-conversation conv_123 --at-turn 3
  convai-ops tests new --from-conversation conv_123 --at-turn 5 --type tool --name order-lookup
  convai-ops tests new --from-conversation conv_123 --at-turn 3 --type simulation
"""

EPILOG_SIMULATE = """\b
Examples:
  convai-ops simulate support --scenario "Do you ship to Canada?" --stream \\
      --criterion 'canada: The agent says it ships to "Canada"'
  convai-ops simulate support --branch fix-canada --from-conversation conv_123 --at-turn 3
  convai-ops simulate support --first-message "Alo, da?" --language ro --save-test romanian-caller

\b
Routes:
  main        POST /v1/convai/agents/{id}/simulate-conversation (or /stream with --stream).
              The API document marks these endpoints deprecated in favour of simulation tests.
  --branch    the endpoints take no branch, so the scenario runs as a temporary simulation test
              (create, run-tests with branch_id, then deleted); --via-test does that on main.
"""


def _api_options(func: Any) -> Any:
    """``cli_common.api_options``, imported when the commands are defined."""
    from convai_ops.cli.common import api_options

    return api_options(func)


def _load(ctx: click.Context, flags: dict[str, Any]) -> tuple[Any, Any]:
    """The repository's agents (ids and folders only: an unfinished test does not block) and
    the settings."""
    from convai_ops.conversations import repository_agents
    from convai_ops.settings import Settings
    from convai_ops.spec import load_config

    root: Path = ctx.obj["root"]
    config = load_config(root)
    settings = Settings.resolve(root, config, debug=ctx.obj["debug"], **flags)
    return repository_agents(root, config), settings


@click.group("conversations")
def conversations() -> None:
    """Find the calls where an agent underperformed and read them turn by turn."""


@conversations.command("list", epilog=EPILOG_LIST)
@_api_options
@click.option("--agent", metavar="SLUG|ID", help="Only this agent's conversations.")
@click.option("--failed", is_flag=True, help="Only calls whose evaluation failed.")
@click.option(
    "--since",
    metavar="WHEN",
    help="Only calls started after WHEN: a duration back from now (7d, 24h, 30m) or a UTC "
    "date (2025-06-01).",
)
@click.option(
    "--search",
    metavar="TEXT",
    help="Only conversations with messages matching TEXT (the API's full-text search), each "
    "shown with its matching turns.",
)
@click.option("--limit", type=click.IntRange(1, 10000), default=20, show_default=True)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.pass_context
def list_command(
    ctx: click.Context,
    /,
    agent: str | None,
    failed: bool,
    since: str | None,
    search: str | None,
    limit: int,
    fmt: str,
    **flags: Any,
) -> int:
    """List conversations, newest first: id, start time, duration, status, call result and
    summary title. Pages are fetched only as far as --limit needs.

    With --search: the conversations whose messages match TEXT, each with the turns that
    matched (numbered as `conversations show` numbers them, ready for `tests new --at-turn`)."""
    import json
    import time

    from convai_ops.cli.common import make_client
    from convai_ops.conversations import (
        ConversationQuery,
        list_conversations,
        parse_since,
        render_search_table,
        render_table,
    )

    since_unix = parse_since(since, now=time.time()) if since else None
    project, settings = _load(ctx, flags)
    query = ConversationQuery(agent, failed, since_unix, search, limit)
    with make_client(settings) as client:
        found = list_conversations(client, query, project=project, env=settings.environment)
    table = render_table if search is None else render_search_table
    text = json.dumps(found, indent=2, ensure_ascii=False) + "\n" if fmt == "json" else None
    click.echo(text or table(found), nl=False)
    return 0


@conversations.command("show")
@_api_options
@click.argument("conversation_id", metavar="CONV_ID")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "yaml"]),
    default="text",
    show_default=True,
)
@click.pass_context
def show_command(ctx: click.Context, /, conversation_id: str, fmt: str, **flags: Any) -> int:
    """Show one conversation: the transcript turn by turn (numbered, with tool calls and
    results), then the evaluation-criteria results and data collection."""
    from convai_ops.cli.common import make_client
    from convai_ops.conversations import render_conversation

    _, settings = _load(ctx, flags)
    with make_client(settings) as client:
        conversation = client.get_conversation(conversation_id)
    click.echo(render_conversation(conversation, fmt), nl=False)
    return 0


@click.group("tests")
def tests() -> None:
    """Write tests: from a conversation's moment (`tests new`)."""


@tests.command("new", epilog=EPILOG_TESTS_NEW)
@_api_options
@click.option(
    "--from-conversation",
    "conversation_id",
    metavar="CONV_ID",
    required=True,
    help="The conversation (see `conversations list`).",
)
@click.option(
    "--at-turn",
    type=click.IntRange(min=1),
    required=True,
    help="The agent turn to reproduce (turn numbers as `conversations show` prints them).",
)
@click.option(
    "--type",
    "test_type",
    type=click.Choice(["llm", "tool", "simulation"]),
    default="llm",
    show_default=True,
)
@click.option("--name", metavar="NAME", help="File name (default: <conversation>-turn-<N>).")
@click.option("--agent", "slug", metavar="SLUG", help="Agent folder (default: the call's agent).")
@click.option("--force", is_flag=True, help="Overwrite an existing test file.")
@click.pass_context
def new_command(
    ctx: click.Context,
    /,
    conversation_id: str,
    at_turn: int,
    test_type: str,
    name: str | None,
    slug: str | None,
    force: bool,
    **flags: Any,
) -> int:
    """Write agents/<slug>/tests/<name>.yaml reproducing an agent turn of a conversation.

    chat_history is the transcript before that turn (tool calls and results kept), the
    original reply is recorded in from_conversation_metadata and, for an llm test, is the
    failure example. The success condition is a TODO: placeholder that `convai-ops validate`
    refuses until you replace it. --type simulation replays the moment with the caller's
    later messages as the scenario, in the conversation's language."""
    from convai_ops.cli.common import make_client
    from convai_ops.conversation_tests import new_test

    project, settings = _load(ctx, flags)
    with make_client(settings) as client:
        written = new_test(
            client,
            project,
            settings.environment,
            conversation_id,
            at_turn,
            test_type,
            name=name,
            slug=slug,
            overwrite=force,
        )
    click.echo(f"Wrote {written.path} ({test_type} test for agent {written.slug}).")
    if written.todo:
        click.echo(
            "Fill in the TODO: placeholder, then run: convai-ops validate && "
            f"convai-ops test {written.slug}"
        )
    return 0


@click.command("simulate", epilog=EPILOG_SIMULATE)
@_api_options
@click.argument("slug", metavar="SLUG")
@click.option("--branch", metavar="NAME|ID", help="Simulate on this agent branch (as a test).")
@click.option("--via-test", is_flag=True, help="Run as a temporary simulation test on main too.")
@click.option("--scenario", metavar="TEXT", help="What the simulated caller says and wants.")
@click.option(
    "--scenario-file",
    type=click.File("r", encoding="utf-8"),
    help="Read the scenario from this file.",
)
@click.option("--first-message", metavar="TEXT", help="The caller's first message.")
@click.option("--language", metavar="CODE", help="The caller's language (ro, en, ...).")
@click.option("--turns", type=click.IntRange(1, 10000), help="At most N caller turns.")
@click.option(
    "--from-conversation",
    "conversation_id",
    metavar="CONV_ID",
    help="Start from a recorded call: its history before --at-turn, its caller's lines.",
)
@click.option("--at-turn", type=click.IntRange(min=1), help="The agent turn to replay.")
@click.option(
    "--mock-tools",
    multiple=True,
    metavar="all|none|NAME",
    help="Tools answered by a mock (repeatable; default none).",
)
@click.option(
    "--criterion",
    "criteria",
    multiple=True,
    metavar='"ID: PROMPT"',
    help="An extra evaluation criterion (repeatable).",
)
@click.option(
    "--var",
    "variables",
    multiple=True,
    metavar="NAME=VALUE",
    help="A dynamic variable filling the agent's {{NAME}} (repeatable).",
)
@click.option("--stream", is_flag=True, help="Print turns as they arrive (main only).")
@click.option("--save-test", metavar="NAME", help="Also save the scenario as a simulation test.")
@click.pass_context
def simulate(ctx: click.Context, /, slug: str, **options: Any) -> int:
    """Simulate a conversation between the agent and a scripted caller, print it turn by turn,
    then each evaluation criterion's result and rationale and the summary.

    On main this calls the simulate-conversation endpoints, which the API document marks
    deprecated in favour of simulation tests; with --branch (or --via-test) it runs as a
    temporary simulation test instead. Exit 3 when the call is judged a failure."""
    from convai_ops.cli.common import make_client
    from convai_ops.conversations import render_turn
    from convai_ops.simulate import render_result
    from convai_ops.simulate_run import run_simulation
    from convai_ops.testing import PollPolicy

    flags = {k: options.pop(k) for k in ("environment", "base_url", "concurrency")}
    flags["allow_insecure_http"] = options.pop("allow_insecure_http")
    chosen = _simulate_options(slug, options)
    project, settings = _load(ctx, flags)
    policy = PollPolicy(settings.poll_initial, settings.poll_max, settings.test_timeout)
    click.echo(f"Simulating {slug} {_route(chosen)}")
    with make_client(settings) as client:
        run = run_simulation(
            client,
            project,
            settings.environment,
            chosen,
            policy=policy,
            on_turn=lambda message, number: click.echo(render_turn(message, number)),
            progress=lambda message: click.echo(f"  {message}", err=True),
        )
    click.echo(render_result(run.result), nl=False)
    if run.saved:
        click.echo(f"Saved simulation test {run.saved}.")
    return 0 if run.result.ok else 3


def _route(options: Any) -> str:
    if options.branch:
        return f"on branch {options.branch} (a temporary simulation test)"
    if options.via_test:
        return "on main (a temporary simulation test)"
    endpoint = "simulate-conversation/stream" if options.stream else "simulate-conversation"
    return f"on main via {endpoint} (deprecated endpoint)"


def _simulate_options(slug: str, given: dict[str, Any]) -> Any:
    """``SimulateOptions`` from the flags (which checks them together); ``UsageError`` before
    anything is sent."""
    from convai_ops.errors import UsageError
    from convai_ops.simulate import Criterion, SimulationRequest, parse_variables
    from convai_ops.simulate_run import SimulateOptions, parse_mock_tools

    scenario, path = given.pop("scenario"), given.pop("scenario_file")
    if scenario and path:
        raise UsageError("give --scenario or --scenario-file, not both")
    request = SimulationRequest(
        scenario=path.read().strip() if path else scenario or "",
        first_message=given.pop("first_message"),
        language=given.pop("language"),
        turns=given.pop("turns"),
        mock_tools=parse_mock_tools(given.pop("mock_tools")),
        criteria=tuple(Criterion.parse(text) for text in given.pop("criteria")),
        variables=parse_variables(given.pop("variables")),
    )
    return SimulateOptions(slug, request, **given)


COMMANDS: list[click.Command] = [conversations, tests, simulate]
