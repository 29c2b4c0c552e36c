"""Click commands of one area, registered on the ``convai-ops`` group by ``convai_ops.cli``.

This area changes an agent's place in the repository: ``mv``.
"""

from __future__ import annotations

import click

from convai_ops.errors import EXIT_OK

__all__ = ["COMMANDS"]

EPILOG_MV = """\b
Examples:
  convai-ops mv support helpdesk        # agents/support -> agents/helpdesk
  git mv agents/support agents/helpdesk && convai-ops mv support helpdesk
                                        # moved by hand: records the rename only
  convai-ops plan                       # ~ tag convai-ops:support -> convai-ops:helpdesk
"""


@click.command("mv", epilog=EPILOG_MV)
@click.argument("old", metavar="OLD")
@click.argument("new", metavar="NEW")
@click.pass_context
def mv(ctx: click.Context, old: str, new: str) -> int:
    """Rename the agent folder agents/OLD to agents/NEW (git mv when git tracks it) and record
    OLD under previous_slugs: in its agent.yaml, so the next plan/apply re-tags the live agent
    (convai-ops:OLD -> convai-ops:NEW) instead of creating a second one. Refused when NEW
    exists or is not a valid slug. No API call."""
    from convai_ops.rename import move_agent

    moved = move_agent(ctx.obj["root"], old, new)
    action = {
        "git mv": f"moved agents/{old} to agents/{new} (git mv)",
        "renamed": f"moved agents/{old} to agents/{new}",
        "already moved": f"agents/{old} is already gone and agents/{new} exists",
    }[moved.how]
    click.echo(
        f"{action}; recorded previous_slugs: {list(moved.previous_slugs)} in {moved.agent_yaml}"
    )
    click.echo(
        f"The next apply re-tags the live agent: convai-ops:{old} -> convai-ops:{new} "
        "(run convai-ops plan to see it)."
    )
    return EXIT_OK


COMMANDS: list[click.Command] = [mv]
