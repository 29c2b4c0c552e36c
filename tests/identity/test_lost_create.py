"""A create whose answer was lost is never blindly sent again: the agents carrying the new
agent's managed tag are listed first (``httpx.MockTransport`` faking an API that creates the
agent and then loses the answer)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from convai_ops.api import ConvaiClient
from convai_ops.errors import AmbiguousAgentError, ServerError

KEY = "sk_test_5f1b2c3d4e5f60718293a4b5"
TAG = "convai-ops:support"
BODY = {"name": "Support", "tags": [TAG], "conversation_config": {}}
CREATE = "/v1/convai/agents/create"


class LossyApi:
    """Creates agents for real, then loses the answer of the first ``lose`` creates
    (``mode``: ``"500"`` answers 500, ``"timeout"`` raises a read timeout); ``carry_out``
    False loses them before the agent is made."""

    def __init__(self, lose: int, mode: str = "500", carry_out: bool = True) -> None:
        self.lose, self.mode, self.carry_out = lose, mode, carry_out
        self.agents: list[dict[str, Any]] = []
        self.calls: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(f"{request.method} {request.url.path}")
        if request.url.path == CREATE:
            return self._create(request)
        tags = request.url.params.get_list("tags")
        listed = [a for a in self.agents if not tags or set(tags) & set(a["tags"])]
        return httpx.Response(200, json={"agents": listed, "has_more": False})

    def _create(self, request: httpx.Request) -> httpx.Response:
        losing = self.lose > 0
        self.lose -= 1
        if not losing or self.carry_out:
            body = json.loads(request.content)
            agent_id = f"agent_{len(self.agents) + 1}"
            self.agents.append({"agent_id": agent_id, "name": body["name"], "tags": body["tags"]})
        if not losing:
            return httpx.Response(200, json={"agent_id": self.agents[-1]["agent_id"]})
        if self.mode == "timeout":
            raise httpx.ReadTimeout("lost", request=request)
        return httpx.Response(500, json={"detail": "internal error"})


def _client(api: LossyApi) -> ConvaiClient:
    return ConvaiClient(
        "https://api.test", KEY, transport=httpx.MockTransport(api), sleep=lambda s: None
    )


@pytest.mark.parametrize("mode", ["500", "timeout"])
def test_an_agent_made_by_a_create_whose_answer_was_lost_is_adopted(mode: str) -> None:
    api = LossyApi(lose=1, mode=mode)
    with _client(api) as client:
        agent_id = client.create_agent(BODY, identity_tag=TAG)
    assert agent_id == "agent_1"
    assert len(api.agents) == 1  # one call, one agent
    assert api.calls == [f"POST {CREATE}", "GET /v1/convai/agents"]


def test_a_create_lost_before_it_was_carried_out_is_sent_again() -> None:
    api = LossyApi(lose=2, carry_out=False)
    with _client(api) as client:
        agent_id = client.create_agent(BODY, identity_tag=TAG)
    assert agent_id == "agent_1" and len(api.agents) == 1
    listing = "GET /v1/convai/agents"
    assert api.calls == [f"POST {CREATE}", listing, f"POST {CREATE}", listing, f"POST {CREATE}"]


def test_resending_is_bounded_by_the_retry_budget() -> None:
    api = LossyApi(lose=100, carry_out=False)
    with (
        ConvaiClient(
            "https://api.test",
            KEY,
            transport=httpx.MockTransport(api),
            sleep=lambda s: None,
            max_retries=2,
        ) as client,
        pytest.raises(ServerError),
    ):
        client.create_agent(BODY, identity_tag=TAG)
    assert api.calls.count(f"POST {CREATE}") == 3
    assert api.agents == []


def test_without_an_identity_tag_a_lost_create_is_not_sent_again() -> None:
    api = LossyApi(lose=1)
    with _client(api) as client, pytest.raises(ServerError):
        client.create_agent(BODY)
    assert api.calls == [f"POST {CREATE}"]
    assert len(api.agents) == 1  # the lost answer's agent exists; nothing made a second one


def test_two_agents_found_after_a_lost_answer_are_refused() -> None:
    api = LossyApi(lose=1)
    api.agents.append({"agent_id": "agent_0", "name": "Support", "tags": [TAG]})
    with _client(api) as client, pytest.raises(AmbiguousAgentError) as caught:
        client.create_agent(BODY, identity_tag=TAG)
    assert "agent_0" in str(caught.value) and "agent_2" in str(caught.value)
    assert api.calls.count(f"POST {CREATE}") == 1
