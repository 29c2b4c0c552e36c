"""Fixtures of the identity tests: the emulator on loopback, a copy of agents/, the CLI, and
helpers reading the live agents and the writes the emulator received."""

from __future__ import annotations

from typing import Any

import httpx

from tests.example_fixtures import KEY  # server, project, cli: tests/conftest.py

WRITES = frozenset({"POST", "PATCH", "PUT", "DELETE"})


def live_agents(server: Any) -> list[dict[str, Any]]:
    """Every agent of the emulator: ``{agent_id, name, tags, ...}``."""
    response = httpx.get(
        f"{server.url}/v1/convai/agents", params={"page_size": 100}, headers={"xi-api-key": KEY}
    )
    response.raise_for_status()
    agents: list[dict[str, Any]] = response.json()["agents"]
    return agents


def tagged(server: Any, slug: str) -> list[str]:
    """Ids of the live agents carrying ``convai-ops:<slug>``."""
    return [a["agent_id"] for a in live_agents(server) if f"convai-ops:{slug}" in a["tags"]]


def create_agent(server: Any, name: str, tags: list[str]) -> str:
    """Make an agent as someone in the dashboard would (outside convai-ops)."""
    body = {"name": name, "tags": tags, "conversation_config": {}}
    response = httpx.post(
        f"{server.url}/v1/convai/agents/create", json=body, headers={"xi-api-key": KEY}
    )
    response.raise_for_status()
    agent_id: str = response.json()["agent_id"]
    return agent_id


def writes_since(server: Any, start: int) -> list[str]:
    """``METHOD path`` of every write the emulator received after entry ``start`` of its log."""
    log = server.emulator.request_log[start:]
    return [f"{e.method} {e.path}" for e in log if e.method in WRITES]
