"""Simulation routes: ``POST /v1/convai/agents/{agent_id}/simulate-conversation`` and
``.../simulate-conversation/stream`` (both deprecated in the document in favour of simulation
tests); behaviour in :mod:`convai_ops.emulator.simulation`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from convai_ops.emulator.agents import find_agent
from convai_ops.emulator.http import Body, Emu
from convai_ops.emulator.simulation import simulate

__all__ = ["router"]

router = APIRouter()
_SIMULATE = "/v1/convai/agents/{agent_id}/simulate-conversation"


@router.post(_SIMULATE)
def run_conversation_simulation_route(agent_id: str, emu: Emu, body: Body) -> dict[str, Any]:
    """``AgentSimulatedChatTestResponseModel``: the new messages and their analysis."""
    with emu.lock:
        return simulate(emu, find_agent(emu, agent_id), body).response()


@router.post(_SIMULATE + "/stream")
def run_conversation_simulation_route_stream(
    agent_id: str, emu: Emu, body: Body
) -> StreamingResponse:
    """Newline-delimited JSON: one list of messages per turn, then ``{"analysis": ...}``.

    The simulation runs before the first byte is sent, so an unknown agent or a bad body still
    answers 404/422 with the usual error body.
    """
    with emu.lock:
        simulation = simulate(emu, find_agent(emu, agent_id), body)
    return StreamingResponse(simulation.lines(), media_type="application/x-ndjson")
