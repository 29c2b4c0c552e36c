"""Small helpers shared by the emulator's end-to-end tests."""

from __future__ import annotations

import time
from typing import Any

import httpx

GOOD_PROMPT = (
    "You are the support agent for Acme Bikes.\n"
    "Refunds are accepted within 30 days of purchase.\n"
    "Our shop is open Monday to Friday."
)
BAD_PROMPT = GOOD_PROMPT.replace("30 days", "14 days")


def create_agent(
    client: httpx.Client, prompt: str = GOOD_PROMPT, *, name: str = "Support", **extra: Any
) -> dict[str, Any]:
    """Create an agent with ``prompt`` and return it as GET answers it."""
    body = {"name": name, "conversation_config": {"agent": {"prompt": {"prompt": prompt}}}}
    body.update(extra)
    response = client.post("/v1/convai/agents/create", json=body)
    assert response.status_code == 200, response.text
    return get_agent(client, response.json()["agent_id"])


def get_agent(client: httpx.Client, agent_id: str, **params: str) -> dict[str, Any]:
    response = client.get(f"/v1/convai/agents/{agent_id}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def prompt_of(agent: dict[str, Any]) -> str:
    return str(agent["conversation_config"]["agent"]["prompt"]["prompt"])


def prompt_change(prompt: str) -> dict[str, Any]:
    return {"conversation_config": {"agent": {"prompt": {"prompt": prompt}}}}


def create_branch(
    client: httpx.Client, agent: dict[str, Any], name: str, **change: Any
) -> dict[str, Any]:
    body = {"parent_version_id": agent["version_id"], "name": name, "description": name, **change}
    response = client.post(f"/v1/convai/agents/{agent['agent_id']}/branches", json=body)
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


def create_test(client: httpx.Client, **body: Any) -> str:
    response = client.post("/v1/convai/agent-testing/create", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def refund_test(client: httpx.Client, name: str = "refund window") -> str:
    """An llm test that passes only when the agent says "30 days"."""
    return create_test(
        client,
        name=name,
        type="llm",
        chat_history=[
            {"role": "user", "message": "What is your refund policy?", "time_in_call_secs": 0}
        ],
        success_condition='The agent says refunds are accepted within "30 days"',
    )


def run_tests(
    client: httpx.Client, agent_id: str, test_ids: list[str], **extra: Any
) -> dict[str, Any]:
    body = {"tests": [{"test_id": test_id} for test_id in test_ids], **extra}
    response = client.post(f"/v1/convai/agents/{agent_id}/run-tests", json=body)
    assert response.status_code == 200, response.text
    started: dict[str, Any] = response.json()
    return started


def wait_for(client: httpx.Client, invocation_id: str, timeout: float = 5.0) -> dict[str, Any]:
    """Poll the invocation until no run is pending."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/v1/convai/test-invocations/{invocation_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if all(run["status"] != "pending" for run in body["test_runs"]):
            return body
        assert time.monotonic() < deadline, "test runs stayed pending"
        time.sleep(0.02)
