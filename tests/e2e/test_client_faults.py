"""The client's retries against injected faults: 20% of requests answered 500 and a 20 rps
rate limit (429 with Retry-After), over real loopback HTTP."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from convai_ops.api import ConvaiClient
from convai_ops.emulator import EmulatorConfig, run_in_thread

CALLS = 200


@pytest.fixture
def faulty() -> Iterator[Any]:
    with run_in_thread(
        EmulatorConfig(fail_rate=0.2, rate_limit=20, seed=3, rag_index_delay_s=0.05)
    ) as handle:
        yield handle


def _script(client: ConvaiClient) -> Iterator[Any]:
    """A realistic mix: create agents, read them, patch them on main, list them."""
    agent_ids: list[str] = []
    for step in range(CALLS):
        kind = step % 4
        if kind == 0 or not agent_ids:
            tag = f"convai-ops:agent-{step}"
            body = {
                "name": f"agent {step}",
                "tags": [tag],
                "conversation_config": {"agent": {"first_message": "Hi"}},
            }
            agent_ids.append(client.create_agent(body, identity_tag=tag))
            yield agent_ids[-1]
        elif kind == 1:
            yield client.get_agent(agent_ids[-1])["agent_id"]
        elif kind == 2:
            patch = {"conversation_config": {"agent": {"first_message": f"Hello {step}"}}}
            yield client.update_agent(agent_ids[-1], patch)["version_id"]
        else:
            yield len(list(client.iter_agents(page_size=100)))


def test_200_calls_succeed_through_500s_and_429s(faulty: Any) -> None:
    # max_retries 8: with 20% independent failures, eight retries make a call's final failure
    # odds 0.2**9 (about 5e-7), so the scripted run is reliable.
    with ConvaiClient(
        faulty.url, "fault-key-0123456789", max_retries=8, backoff_base=0.05, backoff_max=1.0
    ) as client:
        results = list(_script(client))
        stats = client.stats
    assert len(results) == CALLS
    assert all(results)
    statuses = Counter(entry.status for entry in faulty.emulator.request_log)
    assert statuses[500] > 0 and statuses[429] > 0, statuses
    assert statuses[200] >= CALLS  # every call eventually answered 200 (list pages add more)
    # a create is never retried blindly: after its 500 the agents carrying its tag are listed
    # first, and the create is sent again only when none does
    creates = [e for e in faulty.emulator.request_log if e.path == "/v1/convai/agents/create"]
    lost = sum(1 for e in creates if e.status == 500)
    assert sum(1 for e in creates if e.status == 200) == CALLS // 4  # one agent per create
    assert stats.retries == statuses[500] + statuses[429] - lost
