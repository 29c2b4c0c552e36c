"""Tool mocks end to end over loopback: a simulation test file without ``tool_mock_config``
runs with every tool mocked (no real tool call in the emulator's request log); the same test
opting in with ``mocking_strategy: none`` calls the webhook for real."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.conftest import KEY
from tests.helpers import Runner

WEBHOOK_URL = "https://orders.example.com/lookup"
PROMPT = "You are the Acme order desk.\nUse lookup_order to find an order by its number.\n"
TEST = """\
type: simulation
simulation_scenario: Where is my order A-77?
simulation_max_turns: 1
success_conditions:
  - The agent talks about the "order".
"""
OPT_IN = TEST + "tool_mock_config:\n  mocking_strategy: none\n"


def _webhook_tool(server: Any) -> str:
    config = {
        "type": "webhook",
        "name": "lookup_order",
        "description": "Find an order by its number",
        "api_schema": {
            "url": WEBHOOK_URL,
            "method": "POST",
            "request_body_schema": {
                "type": "object",
                "properties": {"order_id": {"type": "string", "description": "order number"}},
            },
        },
    }
    response = httpx.post(
        f"{server.url}/v1/convai/tools", json={"tool_config": config}, headers={"xi-api-key": KEY}
    )
    response.raise_for_status()
    return str(response.json()["id"])


def _shop_project(project: Path, tool_id: str) -> Path:
    shutil.rmtree(project / "agents")
    shop = project / "agents" / "shop"
    (shop / "tests").mkdir(parents=True)
    prompt = f"  agent:\n    prompt:\n      tool_ids: [{tool_id}]\n"
    (shop / "agent.yaml").write_text(
        f"name: Shop\nprompt_file: prompt.md\nconversation_config:\n{prompt}"
    )
    (shop / "prompt.md").write_text(PROMPT)
    (shop / "tests" / "order-status.yaml").write_text(TEST)
    return shop


def _real_calls(server: Any) -> list[Any]:
    return [entry for entry in server.emulator.request_log if entry.outbound]


def test_a_test_without_mocks_runs_with_every_tool_mocked(
    cli: Runner, server: Any, project: Path
) -> None:
    shop = _shop_project(project, _webhook_tool(server))
    code, out, err = cli("apply", "--auto-approve")
    assert code == 0, out + err
    created = [e.body for e in server.emulator.request_log if e.path.endswith("testing/create")]
    assert created[0]["tool_mock_config"] == {
        "mocking_strategy": "all",
        "fallback_strategy": "raise_error",
    }
    runs = [e for e in server.emulator.request_log if e.path.startswith("/v1/convai/test-inv")]
    calls = [
        call
        for e in runs
        for run in e.response_body.get("test_runs") or []
        for message in run.get("agent_responses") or []
        for call in message.get("tool_calls") or []
    ]
    assert calls and not any(call["tool_has_been_called"] for call in calls)
    assert _real_calls(server) == []

    (shop / "tests" / "order-status.yaml").write_text(OPT_IN)
    code, out, err = cli("test", "shop")
    assert code == 0, out + err
    [call] = _real_calls(server)
    assert (call.method, call.path, call.body) == ("POST", WEBHOOK_URL, {"order_id": "A-77"})
