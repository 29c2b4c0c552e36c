"""Rebuild, from the API and the repository, what the gated apply's merge needs for a canary
branch whose apply process is gone (``canary analyse`` / ``canary promote`` in a later run).

- main's version the branch was made from comes from the branch description (the merge must
  land on it, else ``MainMovedError`` as in apply);
- the tested branch version is the branch's tip (``GET /v1/convai/agents/{id}?branch_id=``);
- the plan is made afresh against main (its ungated fields are written after the merge);
- the agent's tests are synced again (content-addressed: found, not created twice) so the
  attached tests are written as apply would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from convai_ops.plan import make_agent_plan
from convai_ops.stage import Staged, sync_agent_tools
from convai_ops.state import RemoteAgent
from convai_ops.testing import TestReport, sync_tests

if TYPE_CHECKING:
    from convai_ops.canary.state import Canary
    from convai_ops.plan import AgentPlan
    from convai_ops.stage import ApplyContext

__all__ = ["rebuild"]


def rebuild(ctx: ApplyContext, slug: str, canary: Canary) -> tuple[AgentPlan, Staged]:
    """``(planned, staged)`` for :func:`convai_ops.apply.merge_tested`. Calls ``GET
    /v1/convai/agents/{id}`` (main and the branch) and the tool and test lookups of
    ``sync_agent_tools`` / ``sync_tests``."""
    client, agent_id = ctx.client, canary.agent_id
    spec = ctx.project.agent(slug)
    main = RemoteAgent(agent_id, client.get_agent(agent_id))
    ignore = tuple(ctx.project.config.ignore)
    planned = make_agent_plan(spec, main, ctx.index, ctx.options.environment, ignore)
    tool_ids = sync_agent_tools(ctx, spec, main)
    tests = tuple(sync_tests(client, slug, spec.tests, ctx.index, tool_ids))
    tip = client.get_agent(agent_id, branch_id=canary.branch_id).get("version_id")
    base = RemoteAgent(
        agent_id,
        {"version_id": canary.plan.main_version, "main_branch_id": canary.main_branch_id},
    )
    report = TestReport(agent_id, canary.branch_id, (), ())
    return planned, Staged(agent_id, False, base, canary.branch_id, tests, report, tip)
