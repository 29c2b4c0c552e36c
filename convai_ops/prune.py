"""Deleting orphans (managed agents with no folder, :mod:`convai_ops.orphans`): only on the
opt-in of ``apply --prune`` or ``prune: true`` in convai-ops.yaml, after the plan showed them and
the user confirmed (``--auto-approve`` skips the question)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from convai_ops.errors import EXIT_ERROR, EXIT_OK, ConvaiOpsError, NotFoundError

if TYPE_CHECKING:
    from convai_ops.api import ConvaiClient
    from convai_ops.orphans import Orphan

__all__ = ["PruneOutcome", "delete_orphans", "prune_exit_code"]


@dataclass(frozen=True)
class PruneOutcome:
    """What happened to one orphan: deleted (``error`` empty) or the error's message."""

    orphan: Orphan
    error: str = ""

    @property
    def ok(self) -> bool:
        """True when the agent is gone."""
        return not self.error


def delete_orphans(
    client: ConvaiClient,
    orphans: Sequence[Orphan],
    report: Callable[[str, str], None] | None = None,
) -> tuple[PruneOutcome, ...]:
    """Delete each orphan (``DELETE /v1/convai/agents/{agent_id}``), one after another, calling
    ``report(slug, message)`` after each; an agent already gone (404) counts as deleted. Never
    raises for one agent's failure: it becomes that outcome's ``error``."""
    outcomes = []
    for orphan in orphans:
        try:
            client.delete_agent(orphan.agent_id)
        except NotFoundError:
            pass
        except ConvaiOpsError as exc:
            outcomes.append(PruneOutcome(orphan, str(exc)))
            continue
        if report is not None:
            report(orphan.slug, f"deleted orphan agent {orphan.agent_id}")
        outcomes.append(PruneOutcome(orphan))
    return tuple(outcomes)


def prune_exit_code(outcomes: Sequence[PruneOutcome]) -> int:
    """1 when any deletion failed, else 0."""
    return EXIT_ERROR if any(not o.ok for o in outcomes) else EXIT_OK
