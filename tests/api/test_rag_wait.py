"""``knowledge.wait_for_rag_indexes`` on ``httpx.MockTransport``: which documents it waits for,
the endpoints and body it sends, and the errors naming the documents."""

from __future__ import annotations

from typing import Any

import pytest

from convai_ops.errors import KnowledgeIndexError
from convai_ops.knowledge import rag_documents, wait_for_rag_indexes
from convai_ops.testing import PollPolicy

from .fakes import FakeApi, MakeClient, Reply, body_of

POLICY = PollPolicy(initial=0.01, cap=0.01, timeout=5, sleep=lambda _: None)


def agent(*, enabled: bool = True, mode: str = "auto", model: str | None = None) -> dict[str, Any]:
    rag: dict[str, Any] = {"enabled": enabled}
    if model:
        rag["embedding_model"] = model
    locator = {"type": "text", "name": "faq", "id": "doc1", "usage_mode": mode}
    return {"conversation_config": {"agent": {"prompt": {"knowledge_base": [locator], "rag": rag}}}}


def index(status: str, model: str = "e5_mistral_7b_instruct") -> dict[str, Any]:
    usage = {"used_bytes": 0}
    return {
        "id": "i1",
        "model": model,
        "status": status,
        "progress_percentage": 0,
        "document_model_index_usage": usage,
    }


def test_only_auto_documents_of_a_rag_agent_need_an_index() -> None:
    assert rag_documents(agent())[1][0]["id"] == "doc1"
    assert rag_documents(agent(enabled=False))[1] == []
    assert rag_documents(agent(mode="prompt"))[1] == []
    assert rag_documents(agent(model="multilingual_e5_large_instruct"))[0] == (
        "multilingual_e5_large_instruct"
    )


def test_requests_the_index_then_polls_until_succeeded(make_client: MakeClient) -> None:
    api = FakeApi(
        Reply(json=agent()),
        Reply(json=index("processing")),
        Reply(json={"indexes": [index("processing")]}),
        Reply(json={"indexes": [index("succeeded")]}),
    )
    said: list[str] = []
    wait_for_rag_indexes(make_client(api), "agent_1", "br_1", POLICY, said.append)
    paths = [(r.method, r.url.path) for r in api.requests]
    assert paths == [
        ("GET", "/v1/convai/agents/agent_1"),
        ("POST", "/v1/convai/knowledge-base/doc1/rag-index"),
        ("GET", "/v1/convai/knowledge-base/doc1/rag-index"),
        ("GET", "/v1/convai/knowledge-base/doc1/rag-index"),
    ]
    assert api.requests[0].url.params["branch_id"] == "br_1"
    assert body_of(api.requests[1]) == {"model": "e5_mistral_7b_instruct"}
    assert said == [
        "waiting for the RAG index of 'faq' (doc1: processing)",
        "RAG index succeeded for 1 document(s)",
    ]


def test_an_index_of_another_model_does_not_count(make_client: MakeClient) -> None:
    other = index("succeeded", model="multilingual_e5_large_instruct")
    api = FakeApi(
        Reply(json=agent()), Reply(json=index("processing")), Reply(json={"indexes": [other]})
    )
    policy = PollPolicy(initial=0.01, cap=0.01, timeout=0.05)
    with pytest.raises(KnowledgeIndexError, match=r"not ready after 0.05s .*'faq' \(doc1: none\)"):
        wait_for_rag_indexes(make_client(api), "agent_1", None, policy)


def test_a_failed_index_stops_at_once_naming_the_document(make_client: MakeClient) -> None:
    api = FakeApi(
        Reply(json=agent()),
        Reply(json=index("processing")),
        Reply(json={"indexes": [index("rag_limit_exceeded")]}),
    )
    with pytest.raises(KnowledgeIndexError, match="'faq' \\(doc1\\) is 'rag_limit_exceeded'"):
        wait_for_rag_indexes(make_client(api), "agent_1", None, POLICY)
    assert len(api.requests) == 3


def test_nothing_to_wait_for_without_rag(make_client: MakeClient) -> None:
    api = FakeApi(Reply(json=agent(enabled=False)))
    wait_for_rag_indexes(make_client(api), "agent_1", None, POLICY)
    assert len(api.requests) == 1
