"""``run_simulation`` against the emulator over loopback: tool mocks on both routes, the
agent's own criteria on a branch, and the temporary test removed even when the run fails."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from convai_ops.api import ConvaiClient
from convai_ops.conversations import repository_agents
from convai_ops.emulator import EmulatorConfig, run_in_thread
from convai_ops.errors import TestRunError, UsageError
from convai_ops.simulate import SimulationRequest
from convai_ops.simulate_run import SimulateOptions, run_simulation
from convai_ops.spec import ProjectConfig
from convai_ops.testing import PollPolicy
from tests.conversations.conftest import KEY, create_agent

PROMPT = "Orders ship within 2 business days.\nUse lookup_order to find an order."
POLICY = PollPolicy(initial=0.05, cap=0.05, timeout=10)
LOOKUP = {
    "type": "client",
    "name": "lookup_order",
    "description": "Find an order by its id",
    "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}},
}


@pytest.fixture
def shop(http: httpx.Client, tmp_path: Path) -> dict[str, Any]:
    return make_shop(http, tmp_path)


def make_shop(http: httpx.Client, tmp_path: Path) -> dict[str, Any]:
    """A workspace tool and an agent ``shop`` using it, plus a project folder for it."""
    tool_id = http.post("/v1/convai/tools", json={"tool_config": LOOKUP}).json()["id"]
    prompt = {"prompt": PROMPT, "tool_ids": [tool_id]}
    agent_id = create_agent(http, "shop", PROMPT, agent={"prompt": prompt})
    (tmp_path / "agents" / "shop").mkdir(parents=True)
    (tmp_path / "agents" / "shop" / "agent.yaml").write_text("name: Shop\n")
    project = repository_agents(tmp_path, ProjectConfig())
    return {"tool_id": tool_id, "agent_id": agent_id, "project": project}


def run(server: Any, shop: dict[str, Any], **options: Any) -> Any:
    request = options.pop("request", SimulationRequest(scenario="Where is order A-5?"))
    with ConvaiClient(server.url, KEY) as client:
        chosen = SimulateOptions("shop", request, **options)
        return run_simulation(client, shop["project"], "staging", chosen, policy=POLICY)


def tool_result(transcript: Any) -> dict[str, Any]:
    [result] = [r for m in transcript for r in m.get("tool_results") or []]
    return dict(result)


def test_mock_all_on_the_endpoint_mocks_the_agents_tools(server: Any, shop: Any) -> None:
    request = SimulationRequest(scenario="Where is order A-5?", mock_tools=("all",))
    done = run(server, shop, request=request)
    assert tool_result(done.result.transcript)["result_value"] == "Tool Called."
    sent = next(e.body for e in server.emulator.request_log if "simulate" in e.path)
    assert sent["simulation_specification"]["tool_mock_config"] == {"lookup_order": {}}
    unmocked = run(server, shop)
    assert tool_result(unmocked.result.transcript)["is_error"] is True


def test_named_mocks_become_tool_ids_in_a_test(server: Any, shop: Any) -> None:
    request = SimulationRequest(scenario="Where is order A-5?", mock_tools=("lookup_order",))
    done = run(server, shop, request=request, via_test=True)
    created = next(e.body for e in server.emulator.request_log if "agent-testing/create" in e.path)
    assert created["tool_mock_config"] == {
        "mocking_strategy": "selected",
        "mocked_tool_ids": [shop["tool_id"]],
    }
    assert created["success_conditions"] == ["The agent replies to the user."]
    assert done.result.via == "simulation test on main" and done.result.ok
    with pytest.raises(UsageError, match="no workspace tool named ghost"):
        run(
            server,
            shop,
            request=SimulationRequest(scenario="x", mock_tools=("ghost",)),
            via_test=True,
        )


def test_a_branch_run_judges_the_agents_own_criteria(
    server: Any, shop: Any, http: httpx.Client
) -> None:
    main = http.get(f"/v1/convai/agents/{shop['agent_id']}").json()
    criteria = [{"id": "speed", "name": "speed", "conversation_goal_prompt": 'Says "2 days"'}]
    branch = {
        "parent_version_id": main["version_id"],
        "name": "criteria",
        "description": "criteria",
        "platform_settings": {"evaluation": {"criteria": criteria}},
    }
    http.post(f"/v1/convai/agents/{shop['agent_id']}/branches", json=branch).raise_for_status()
    # the agent calls its client tool here: unmocked, that alone would fail the run
    request = SimulationRequest(scenario="How fast do orders ship?", mock_tools=("all",))
    done = run(server, shop, request=request, branch="criteria")
    assert [(c.id, c.result) for c in done.result.criteria] == [("speed", "failure")]
    assert 'lacks "2 days"' in done.result.criteria[0].rationale
    assert server.emulator.store.tests == {}


def test_the_temporary_test_is_removed_when_waiting_fails(tmp_path: Path) -> None:
    impatient = PollPolicy(initial=0.01, cap=0.01, timeout=0.0)
    with (
        run_in_thread(EmulatorConfig(rag_index_delay_s=0.05, test_delay_s=60)) as slow,
        httpx.Client(base_url=slow.url, headers={"xi-api-key": KEY}) as http,
        ConvaiClient(slow.url, KEY) as client,
    ):
        shop = make_shop(http, tmp_path)
        chosen = SimulateOptions("shop", SimulationRequest(scenario="Hi"), via_test=True)
        with pytest.raises(TestRunError):
            run_simulation(client, shop["project"], "staging", chosen, policy=impatient)
        assert slow.emulator.store.tests == {}
        deletes = [e.path for e in slow.emulator.request_log if e.method == "DELETE"]
    assert len(deletes) == 1 and deletes[0].startswith("/v1/convai/agent-testing/")
