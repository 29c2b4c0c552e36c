"""Traffic awareness for plan, apply and drift: say when a managed agent's main does not
hold all live traffic (``current_live_percentage`` of its branches, ``GET
/v1/convai/agents/{id}/branches``): a merge into main reaches only main's share of callers."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from convai_ops.canary.config import parse_description
from convai_ops.canary.state import foreign_split
from convai_ops.state import map_bounded

if TYPE_CHECKING:
    from convai_ops.api import ConvaiClient
    from convai_ops.state import RemoteAgent

__all__ = ["TrafficReads", "split_warnings"]

#: ``(slug, agent id, main branch id)`` of one managed agent.
AgentRef = tuple[str, str, str]


def _agent_warnings(client: ConvaiClient, ref: AgentRef) -> list[str]:
    slug, agent_id, main_branch_id = ref
    branches = client.list_branches(agent_id)
    lines = []
    foreign = foreign_split(branches, main_branch_id)
    if foreign:
        split = ", ".join(f"branch {name} {share:g}%" for name, share in foreign.items())
        lines.append(
            f"warning: {slug}: main holds {100 - sum(foreign.values()):g}% of live traffic "
            f"(a traffic split not made by convai-ops: {split}); a merge reaches only main's "
            "share of callers, and apply refuses to merge without --ignore-traffic-split"
        )
    for branch in branches:
        share = float(branch.get("current_live_percentage") or 0)
        if share > 0 and parse_description(branch.get("description")) is not None:
            lines.append(
                f"note: {slug}: canary running on branch {branch.get('name')} ({share:g}% of "
                f"live traffic): `convai-ops canary status {slug}`"
            )
    return lines


def split_warnings(client: ConvaiClient, agents: Sequence[AgentRef], workers: int = 8) -> list[str]:
    """One line per agent whose live traffic is split: a warning for a split not made by
    convai-ops, a note for a running canary. Calls ``GET .../branches`` per agent, side by
    side (``workers`` at once)."""
    found = map_bounded(lambda ref: _agent_warnings(client, ref), list(agents), workers)
    return [line for lines in found for line in lines]


class TrafficReads:
    """The branch reads of :func:`split_warnings`, started as each agent's main is read
    (``build_plan(..., on_remote=reads.on_remote)``), so they overlap the plan's own reads
    instead of following them; the client's limiter still bounds the requests in flight."""

    def __init__(self, client: ConvaiClient, workers: int = 8) -> None:
        self._client = client
        self._pool = ThreadPoolExecutor(max_workers=workers)
        self._found: list[Future[list[str]]] = []

    def on_remote(self, slug: str, remote: RemoteAgent) -> None:
        """Start ``GET .../branches`` of a live agent that has a main branch."""
        if remote.main_branch_id:
            ref = (slug, remote.agent_id, remote.main_branch_id)
            self._found.append(self._pool.submit(_agent_warnings, self._client, ref))

    def warnings(self) -> list[str]:
        """The lines of every agent read (waits for the reads; raises what a read raised).
        Then the early answers still kept (``build_plan(..., on_remote=...)``) are dropped:
        every later GET goes to the network."""
        try:
            return [line for found in self._found for line in found.result()]
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._client.end_early_reads(drop=True)
