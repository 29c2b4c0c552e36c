"""Click commands that need no project and no API key, registered on the ``convai-ops`` group
by ``convai_ops.cli``: ``emulator`` (serve the local API emulator) and ``demo``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from convai_ops.errors import EXIT_OK

__all__ = ["COMMANDS"]


@click.command()
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
@click.option(
    "--live-branch-archive",
    type=click.Choice(["refuse", "to-main"]),
    default="refuse",
    show_default=True,
    help="Archiving a branch that holds live traffic: refused (400), or its share goes to main.",
)
@click.option(
    "--traffic",
    "traffic_rate",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    metavar="RATE",
    help="Synthetic live conversations per second per agent, split between its branches as "
    "deployed, judged by its evaluation criteria (0: none; deterministic given --seed).",
)
def emulator(host: str, port: int, **knobs: Any) -> int:
    """Serve a local ElevenLabs API emulator (the /v1/convai surface convai-ops uses).

    \b
    Example:
      convai-ops emulator --port 8765 &
      export ELEVENLABS_API_KEY=sk_local_0123456789abcdef  # any key of 16+ characters
      ELEVENLABS_BASE_URL=http://127.0.0.1:8765 convai-ops plan
      convai-ops emulator --traffic 5 --seed 7   # 5 live conversations/s per agent
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
        live_branch_archive=knobs["live_branch_archive"],
        traffic_rate=knobs["traffic_rate"],
    )
    click.echo(f"ElevenLabs API emulator on http://{host}:{port} (Ctrl-C to stop)", err=True)
    serve(config, host, port)
    return EXIT_OK


def _emulator_key(value: str | None) -> str | None:
    from convai_ops.errors import MIN_API_KEY_LENGTH

    if value is not None and len(value) < MIN_API_KEY_LENGTH:
        raise click.BadParameter(f"at least {MIN_API_KEY_LENGTH} characters, like a real key")
    return value


@click.command()
@click.option(
    "--example",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Example project to copy (default: the bundled one).",
)
@click.option(
    "--canary",
    is_flag=True,
    help="Then two changes whose tests pass meet emulated live callers first (a canary).",
)
def demo(example: Path | None, canary: bool) -> int:
    """Walk through plan and gated apply against a local emulator: no API key needed.

    One change whose tests pass is merged; one that breaks a test is blocked and main is left
    exactly as it was. With --canary, a change promoted by its canary on live traffic follows,
    then one rolled back there (it broke a fact no test covers).
    """
    from convai_ops.demo import run_demo

    return run_demo(click.echo, example=example, canary=canary)


COMMANDS: list[click.Command] = [emulator, demo]
