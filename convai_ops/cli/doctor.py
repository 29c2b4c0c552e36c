"""Click commands of one area, registered on the ``convai-ops`` group by ``convai_ops.cli``.

This area checks the setup: ``doctor``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

__all__ = ["COMMANDS"]

EPILOG_DOCTOR = """\b
Examples:
  convai-ops doctor
  convai-ops doctor --env production
  ELEVENLABS_BASE_URL=http://127.0.0.1:8765 convai-ops doctor   # against the emulator

\b
Each check prints one line: ok, warn (worth knowing) or problem (a command will fail):
  api, key       the base URL answers; the key is accepted (it is never printed)
  tests, knowledge base
                 the key may list them (read-only probes; creating is tried by apply)
  <agent>        per managed agent: main's share of live traffic (warn below 100%),
                 whether main is protected (merges then need an admin key), and RAG
                 indexes of its knowledge-base documents still pending or failed

\b
Exit status: 0 healthy (no problem), 1 one or more problems.
"""


def _api_options(func: Any) -> Any:
    from convai_ops.cli.common import api_options

    return api_options(func)


@click.command("doctor", epilog=EPILOG_DOCTOR)
@_api_options
@click.pass_context
def doctor_command(ctx: click.Context, /, **flags: Any) -> int:
    """Check that convai-ops can work against an environment: connection, key, permissions,
    and what each managed agent's main branch holds in store (traffic, protection, RAG)."""
    from convai_ops.api import ConvaiClient
    from convai_ops.conversations import repository_agents
    from convai_ops.doctor import DoctorReport, Finding, run_doctor
    from convai_ops.settings import Settings
    from convai_ops.spec import load_config

    root: Path = ctx.obj["root"]
    config = load_config(root)
    settings = Settings.resolve(root, config, debug=ctx.obj["debug"], **flags)
    if not settings.api_key:
        missing = Finding("problem", "key", f"${settings.api_key_env} is not set")
        report = DoctorReport((missing,))
    else:
        agents = repository_agents(root, config).agents
        with ConvaiClient(
            settings.base_url,
            settings.api_key,
            max_retries=2,
            max_concurrency=settings.concurrency,
        ) as client:
            report = run_doctor(
                client,
                agents,
                settings.environment,
                base_url=settings.base_url,
                key_env=settings.api_key_env,
                concurrency=settings.concurrency,
            )
    click.echo(report.render(), nl=False)
    return 0 if report.healthy else 1


COMMANDS: list[click.Command] = [doctor_command]
