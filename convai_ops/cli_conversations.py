"""Click commands of one area, registered on the ``convai-ops`` group by ``convai_ops.cli``.

Only click is imported at module level so ``convai-ops --help`` stays fast; each command
imports the library it calls inside its body.
"""

from __future__ import annotations

import click

__all__ = ["COMMANDS"]

COMMANDS: list[click.Command] = []
