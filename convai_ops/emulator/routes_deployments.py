"""Deployment route: ``POST /v1/convai/agents/{agent_id}/deployments`` (a traffic split between
the agent's branches); rules in :mod:`convai_ops.emulator.deployments`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from convai_ops.emulator import agents
from convai_ops.emulator.deployments import deploy
from convai_ops.emulator.http import Body, Emu

__all__ = ["router"]

router = APIRouter()


@router.post("/v1/convai/agents/{agent_id}/deployments")
def create_agent_deployment_route(agent_id: str, emu: Emu, body: Body) -> dict[str, Any]:
    """``AgentDeploymentResponse`` ``{"traffic_percentage_branch_id_map": {branch_id: P}}``;
    ``404`` for an unknown agent, ``400 agent_not_versioned``, ``422`` for a split that does not
    total 100 or names a branch twice, an unknown or an archived branch."""
    with emu.lock:
        agent = agents.find_agent(emu, agent_id)
        agents.require_versioned(agent)
        split = deploy(emu, agent, body)
    return {"traffic_percentage_branch_id_map": split}
