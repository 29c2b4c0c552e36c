"""Deleting orphans one by one: an agent already gone counts as deleted, a refused delete is
reported with the API's reason and makes apply exit 1 (``httpx.MockTransport``)."""

from __future__ import annotations

import httpx

from convai_ops.api import ConvaiClient
from convai_ops.orphans import Orphan
from convai_ops.prune import delete_orphans, prune_exit_code
from convai_ops.render import render_prune_result

KEY = "sk_test_5f1b2c3d4e5f60718293a4b5"


def _api(request: httpx.Request) -> httpx.Response:
    agent_id = request.url.path.rsplit("/", 1)[-1]
    if agent_id == "agent_gone":
        return httpx.Response(404, json={"detail": {"status": "agent_not_found"}})
    if agent_id == "agent_locked":
        return httpx.Response(403, json={"detail": {"message": "not allowed"}})
    return httpx.Response(200, json={})


def test_gone_counts_as_deleted_and_a_refusal_is_reported() -> None:
    orphans = [Orphan(slug=s, agent_id=f"agent_{s}") for s in ("ok", "gone", "locked")]
    with ConvaiClient("https://api.test", KEY, transport=httpx.MockTransport(_api)) as client:
        outcomes = delete_orphans(client, orphans)
    assert [o.ok for o in outcomes] == [True, True, False]
    assert "not allowed" in outcomes[2].error
    assert prune_exit_code(outcomes) == 1
    assert prune_exit_code(outcomes[:2]) == 0
    text = render_prune_result(outcomes)
    assert "! locked: could not delete orphan agent agent_locked" in text
    assert "Prune: 2 orphan(s) deleted, 1 failed." in text
