"""An agent GET's defaults-filled config is worked out once per distinct stored config: the
answers must stay exactly those of a fresh resolution, whatever changed in between."""

from __future__ import annotations

import httpx

from .helpers import create_agent, get_agent, prompt_change, prompt_of

AGENTS = "/v1/convai/agents"
LIMIT = {"platform_settings": {"call_limits": {"agent_concurrency_limit": 5}}}


def test_a_change_shows_in_the_next_read(client: httpx.Client) -> None:
    agent = create_agent(client, "First prompt.")
    assert get_agent(client, agent["agent_id"]) == agent  # read twice: the same answer
    patched = client.patch(f"{AGENTS}/{agent['agent_id']}", json=prompt_change("Second prompt."))
    assert patched.status_code == 200, patched.text
    assert prompt_of(get_agent(client, agent["agent_id"])) == "Second prompt."
    client.patch(f"{AGENTS}/{agent['agent_id']}", json=LIMIT)
    limits = get_agent(client, agent["agent_id"])["platform_settings"]["call_limits"]
    assert limits["agent_concurrency_limit"] == 5


def test_agents_with_equal_configs_do_not_share_changes(client: httpx.Client) -> None:
    first = create_agent(client, "Same prompt.", name="One")
    second = create_agent(client, "Same prompt.", name="One")
    assert first["conversation_config"] == second["conversation_config"]
    client.patch(f"{AGENTS}/{first['agent_id']}", json=prompt_change("Only the first."))
    answer = get_agent(client, second["agent_id"])
    assert prompt_of(answer) == "Same prompt."
    assert answer["conversation_config"] == second["conversation_config"]


def test_an_answer_keeps_the_stored_key_order(client: httpx.Client) -> None:
    agent = create_agent(client, "Ordered.")
    fresh = get_agent(client, agent["agent_id"])
    assert list(fresh["conversation_config"]) == list(agent["conversation_config"])
    assert list(fresh["platform_settings"]) == list(agent["platform_settings"])
