"""Conversations carry the ``branch_id`` and ``version_id`` they ran on (BEHAVIOUR.md "Live
traffic"; fields of the document's conversation responses): recorded conversations report the
agent's main branch and its current version, simulated ones the branch and version they ran on,
and ``conversations show`` prints both."""

from __future__ import annotations

from typing import Any

import httpx

from convai_ops.emulator.contract import validate_response
from convai_ops.emulator.schema import document
from tests.conversations.conftest import CANADA

SCHEMAS = ("GetConversationResponseModel", "ConversationSummaryResponseModel")


def main_of(http: httpx.Client, agent_id: str) -> tuple[str, str]:
    agent = http.get(f"/v1/convai/agents/{agent_id}").json()
    return agent["main_branch_id"], agent["version_id"]


def support_id(http: httpx.Client) -> str:
    agents = http.get("/v1/convai/agents").json()["agents"]
    return next(a["agent_id"] for a in agents if "convai-ops:support" in a["tags"])


def test_the_document_defines_branch_and_version_on_conversations() -> None:
    schemas = document()["components"]["schemas"]
    for name in SCHEMAS:
        assert {"branch_id", "version_id"} <= set(schemas[name]["properties"]), name


def test_recorded_conversations_report_mains_branch_and_current_version(
    cli: Any, http: httpx.Client
) -> None:
    before = http.get(f"/v1/convai/conversations/{CANADA}").json()
    assert before["branch_id"] is None and before["version_id"] is None  # no agent yet
    assert cli("apply", "--auto-approve")[0] == 0
    agent_id = support_id(http)
    branch, version = main_of(http, agent_id)
    response = http.get(f"/v1/convai/conversations/{CANADA}")
    assert validate_response("GET", response.url.path, 200, response.json(), strict=True) == []
    served = response.json()
    assert (served["agent_id"], served["branch_id"], served["version_id"]) == (
        agent_id,
        branch,
        version,
    )
    metadata = [t["agent_metadata"] for t in served["transcript"] if t["role"] == "agent"]
    assert metadata and all(m["version_id"] == version for m in metadata)
    listed = http.get("/v1/convai/conversations", params={"agent_id": agent_id}).json()
    summary = next(c for c in listed["conversations"] if c["conversation_id"] == CANADA)
    assert (summary["branch_id"], summary["version_id"]) == (branch, version)
    patched = http.patch(f"/v1/convai/agents/{agent_id}", json={"version_description": "v2"})
    assert patched.status_code == 200
    _, newer = main_of(http, agent_id)
    assert newer != version
    assert http.get(f"/v1/convai/conversations/{CANADA}").json()["version_id"] == newer


def test_show_prints_the_branch_and_version(cli: Any, http: httpx.Client) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    branch, version = main_of(http, support_id(http))
    code, out, _ = cli("conversations", "show", CANADA)
    assert code == 0
    assert f"  ran on:   branch {branch}, version {version}" in out.splitlines()


def test_a_simulated_conversation_carries_the_branch_and_version_it_ran_on(
    cli: Any, http: httpx.Client
) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    agent_id = support_id(http)
    branch, version = main_of(http, agent_id)
    user = {"prompt": {"prompt": "What is your refund policy?"}}
    body = {"simulation_specification": {"simulated_user_config": user}}
    answer = http.post(f"/v1/convai/agents/{agent_id}/simulate-conversation", json=body).json()
    agent_turns = [m for m in answer["simulated_conversation"] if m["role"] == "agent"]
    assert agent_turns
    for message in agent_turns:
        meta = message["agent_metadata"]
        assert (meta["agent_id"], meta["branch_id"], meta["version_id"]) == (
            agent_id,
            branch,
            version,
        )
