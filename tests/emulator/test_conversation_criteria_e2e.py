"""``GET /v1/convai/conversations?evaluation_criteria_ids=...``: the summaries carry those
criteria's results, and no ``evaluation_criteria_results`` without the parameter (spec)."""

from __future__ import annotations

import httpx

from convai_ops.emulator import EmulatorServer
from convai_ops.emulator.traffic import generate
from tests.emulator.test_traffic_e2e import listed, support_agent


def test_summaries_carry_the_results_of_the_criteria_asked_for(
    server: EmulatorServer, client: httpx.Client
) -> None:
    agent = support_agent(client)
    generate(server.emulator, agent["agent_id"], 30)
    plain = listed(client, agent_id=agent["agent_id"])
    assert plain and all("evaluation_criteria_results" not in s for s in plain)
    asked = listed(client, agent_id=agent["agent_id"], evaluation_criteria_ids=["warranty_stated"])
    assert len(asked) == len(plain)
    for summary in asked:
        results = summary["evaluation_criteria_results"]
        assert set(results) == {"warranty_stated"}
        detail = client.get(f"/v1/convai/conversations/{summary['conversation_id']}").json()
        full = detail["analysis"]["evaluation_criteria_results"]["warranty_stated"]
        assert results["warranty_stated"]["result"] == full["result"]
    assert {s["evaluation_criteria_results"]["warranty_stated"]["result"] for s in asked} >= {
        "success",
        "unknown",
    }
