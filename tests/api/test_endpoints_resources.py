"""Knowledge base, tool, conversation and simulation calls: endpoint, query, body, result."""

from __future__ import annotations

import pytest

from .fakes import Case, FakeApi, MakeClient, Reply, check_case, one_page

DOCUMENT = {"id": "d1", "name": "faq"}
TOOL = {"id": "tl1", "tool_config": {"name": "lookup"}}

CASES: dict[str, Case] = {
    "create_text_document": Case(
        lambda c: c.create_text_document("Opening hours: 9-5", name="hours"),
        "POST",
        "/v1/convai/knowledge-base/text",
        Reply(json={"id": "d1", "name": "hours"}),
        {"id": "d1", "name": "hours"},
        body={"text": "Opening hours: 9-5", "name": "hours"},
    ),
    "create_url_document": Case(
        lambda c: c.create_url_document("https://example.com/faq", name="faq"),
        "POST",
        "/v1/convai/knowledge-base/url",
        Reply(json=DOCUMENT),
        DOCUMENT,
        body={"url": "https://example.com/faq", "name": "faq"},
    ),
    "iter_documents": Case(
        lambda c: list(c.iter_documents(search="fa", types=["file", "url"])),
        "GET",
        "/v1/convai/knowledge-base",
        Reply(json=one_page("documents", DOCUMENT)),
        [DOCUMENT],
        query=(("search", "fa"), ("types", "file"), ("types", "url"), ("page_size", "100")),
    ),
    "get_document": Case(
        lambda c: c.get_document("d1"),
        "GET",
        "/v1/convai/knowledge-base/d1",
        Reply(json=DOCUMENT),
        DOCUMENT,
    ),
    "get_document_content": Case(
        lambda c: c.get_document_content("d1"),
        "GET",
        "/v1/convai/knowledge-base/d1/content",
        Reply(text="<p>Opening hours</p>", headers={"content-type": "text/html"}),
        "<p>Opening hours</p>",
    ),
    "delete_document": Case(
        lambda c: c.delete_document("d1"),
        "DELETE",
        "/v1/convai/knowledge-base/d1",
        Reply(json={}),
        None,
    ),
    "delete_document_forced": Case(
        lambda c: c.delete_document("d1", force=True),
        "DELETE",
        "/v1/convai/knowledge-base/d1",
        Reply(json={}),
        None,
        query=(("force", "true"),),
    ),
    "document_dependent_agents": Case(
        lambda c: c.document_dependent_agents("d1"),
        "GET",
        "/v1/convai/knowledge-base/d1/dependent-agents",
        Reply(json={**one_page("agents", {"id": "a1", "type": "available"}), "branches": []}),
        [{"id": "a1", "type": "available"}],
    ),
    "iter_tools": Case(
        lambda c: list(c.iter_tools()),
        "GET",
        "/v1/convai/tools",
        Reply(json=one_page("tools", TOOL)),
        [TOOL],
        query=(("page_size", "100"),),
    ),
    "get_tool": Case(
        lambda c: c.get_tool("tl1"), "GET", "/v1/convai/tools/tl1", Reply(json=TOOL), TOOL
    ),
    "create_tool": Case(
        lambda c: c.create_tool({"tool_config": {"name": "lookup"}}),
        "POST",
        "/v1/convai/tools",
        Reply(json=TOOL),
        TOOL,
        body={"tool_config": {"name": "lookup"}},
    ),
    "update_tool": Case(
        lambda c: c.update_tool("tl1", {"tool_config": {"name": "find"}}),
        "PATCH",
        "/v1/convai/tools/tl1",
        Reply(json={"id": "tl1", "tool_config": {"name": "find"}}),
        {"id": "tl1", "tool_config": {"name": "find"}},
        body={"tool_config": {"name": "find"}},
    ),
    "delete_tool": Case(
        lambda c: c.delete_tool("tl1"), "DELETE", "/v1/convai/tools/tl1", Reply(204), None
    ),
    "tool_dependents": Case(
        lambda c: c.tool_dependents("tl1"),
        "GET",
        "/v1/convai/tools/tl1/dependent-agents",
        Reply(
            json={
                **one_page("agents", {"id": "a1", "type": "available"}),
                "branches": [{"branch_id": "b1", "is_main": False}],
            }
        ),
        {
            "agents": [{"id": "a1", "type": "available"}],
            "branches": [{"branch_id": "b1", "is_main": False}],
        },
        query=(("page_size", "100"),),
    ),
    "iter_conversations": Case(
        lambda c: list(
            c.iter_conversations(
                agent_id="a1",
                call_successful="success",
                call_start_after_unix=1_700_000_000,
                page_size=20,
            )
        ),
        "GET",
        "/v1/convai/conversations",
        Reply(json=one_page("conversations", {"conversation_id": "c1"})),
        [{"conversation_id": "c1"}],
        query=(
            ("agent_id", "a1"),
            ("call_successful", "success"),
            ("call_start_after_unix", "1700000000"),
            ("page_size", "20"),
        ),
    ),
    "iter_message_search": Case(
        lambda c: list(
            c.iter_message_search(
                "refund policy", agent_id="a1", call_successful="failure", page_size=10
            )
        ),
        "GET",
        "/v1/convai/conversations/messages/text-search",
        Reply(json=one_page("results", {"conversation_id": "c1", "transcript_index": 2})),
        [{"conversation_id": "c1", "transcript_index": 2}],
        query=(
            ("text_query", "refund policy"),
            ("agent_id", "a1"),
            ("call_successful", "failure"),
            ("sort_by", "created_at"),
            ("page_size", "10"),
        ),
    ),
    "get_conversation": Case(
        lambda c: c.get_conversation("c1"),
        "GET",
        "/v1/convai/conversations/c1",
        Reply(json={"conversation_id": "c1", "transcript": []}),
        {"conversation_id": "c1", "transcript": []},
    ),
    "simulate_conversation": Case(
        lambda c: c.simulate_conversation("a1", {"simulation_specification": {}}),
        "POST",
        "/v1/convai/agents/a1/simulate-conversation",
        Reply(json={"simulated_conversation": [], "analysis": {}}),
        {"simulated_conversation": [], "analysis": {}},
        body={"simulation_specification": {}},
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_method_calls_endpoint_and_returns_answer(make_client: MakeClient, case: Case) -> None:
    check_case(make_client, case)


def test_file_document_is_uploaded_as_multipart(make_client: MakeClient) -> None:
    api = FakeApi(Reply(json={"id": "d9", "name": "manual"}))
    created = make_client(api).create_file_document("manual.pdf", b"%PDF-1.7 bytes", name="manual")

    request = api.last
    assert (request.method, request.url.path) == ("POST", "/v1/convai/knowledge-base/file")
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    content = request.content
    assert b'name="file"; filename="manual.pdf"' in content
    assert b"Content-Type: application/pdf\r\n\r\n%PDF-1.7 bytes\r\n" in content
    assert b'name="name"\r\n\r\nmanual\r\n' in content
    assert created == {"id": "d9", "name": "manual"}


def test_file_document_without_name_sends_only_the_file(make_client: MakeClient) -> None:
    api = FakeApi(Reply(json={"id": "d9", "name": "notes.txt"}))
    make_client(api).create_file_document("notes.txt", b"hello")

    assert b'name="name"' not in api.last.content
    assert b'filename="notes.txt"' in api.last.content
