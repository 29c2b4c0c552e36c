"""``gc.delete_garbage`` on ``httpx.MockTransport``: any refusing 4xx keeps the item and names
its dependants; 404 is already gone; 5xx and 401 still raise."""

from __future__ import annotations

import pytest

from convai_ops.errors import AuthenticationError, ServerError
from convai_ops.gc import Garbage, Item, delete_garbage

from .fakes import FakeApi, MakeClient, Reply

DOCUMENT = Item("document", "doc1", "support/faq.md #0123abcd")
TEST = Item("test", "t1", "support/refunds #0123abcd")
DEPENDANTS = {
    "agents": [{"id": "agent_1", "name": "Support", "type": "available"}],
    "branches": [
        {
            "agent_id": "agent_1",
            "agent_name": "Support",
            "branch_id": "b1",
            "branch_name": "Main",
            "is_main": True,
        },
        {
            "agent_id": "agent_1",
            "agent_name": "Support",
            "branch_id": "b2",
            "branch_name": "fix-faq",
            "is_main": False,
        },
    ],
    "has_more": False,
}


def refusal(status: int) -> Reply:
    return Reply(status, json={"detail": {"status": "in_use", "message": "still used"}})


@pytest.mark.parametrize("status", [400, 403, 409, 422])
def test_any_refusing_4xx_keeps_the_document_naming_its_dependants(
    make_client: MakeClient, status: int
) -> None:
    api = FakeApi(refusal(status), Reply(json=DEPENDANTS))
    [(_, result)] = delete_garbage(make_client(api), Garbage((DOCUMENT,)))
    assert result == "kept, in use by agent Support, branch fix-faq of Support"
    assert api.last.url.path == "/v1/convai/knowledge-base/doc1/dependent-agents"


def test_a_refused_test_delete_gives_the_apis_reason(make_client: MakeClient) -> None:
    api = FakeApi(refusal(400))
    [(_, result)] = delete_garbage(make_client(api), Garbage((TEST,)))
    assert result.startswith("kept, in use by ? (") and "still used" in result


def test_gone_items_and_real_failures(make_client: MakeClient) -> None:
    gone = FakeApi(Reply(404, json={"detail": {"status": "not_found", "message": "gone"}}))
    assert delete_garbage(make_client(gone), Garbage((TEST,)))[0][1] == "already deleted"
    with pytest.raises(AuthenticationError):
        delete_garbage(make_client(FakeApi(refusal(401))), Garbage((TEST,)))
    with pytest.raises(ServerError):
        delete_garbage(make_client(FakeApi(refusal(500)), max_retries=0), Garbage((TEST,)))
