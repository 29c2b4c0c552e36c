"""``conversations list --search`` uses ``GET /v1/convai/conversations/messages/text-search``:
the client's query (``httpx.MockTransport``), the emulator's answers (shapes checked against
the document by the fixture) and the CLI end to end over loopback."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from convai_ops.api import ConvaiClient
from convai_ops.conversations import ConversationQuery, list_conversations, render_search_table
from convai_ops.errors import UsageError
from tests.conversations.conftest import CANADA

SEARCH = "/v1/convai/conversations/messages/text-search"


class SearchApi:
    """Serves text-search results two per page: conversations c0, c0, c1, c2, c2, c3."""

    RESULTS = [("c0", 1), ("c0", 4), ("c1", 0), ("c2", 2), ("c2", 5), ("c3", 3)]

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        start = int(request.url.params.get("cursor") or 0)
        chunk = self.RESULTS[start : start + 2]
        results = [
            {
                "conversation_id": cid,
                "agent_id": "agent_1",
                "agent_name": "Ava",
                "transcript_index": index,
                "chunk_text": f"refund text {cid}/{index}",
                "score": 0.5,
                "conversation_start_time_unix_secs": 1_800_000_000,
            }
            for cid, index in chunk
        ]
        more = start + 2 < len(self.RESULTS)
        page = {"results": results, "has_more": more, "next_cursor": str(start + 2)}
        return httpx.Response(200, json=page)


def test_search_calls_text_search_and_groups_messages_by_conversation() -> None:
    api = SearchApi()
    query = ConversationQuery(agent="agent_1", failed=True, since_unix=5, search="refund", limit=2)
    transport = httpx.MockTransport(api)
    with ConvaiClient("https://api.test", "key-123456-abcdef-7890", transport=transport) as client:
        rows = list_conversations(client, query)
    assert [request.url.path for request in api.requests] == [SEARCH, SEARCH]
    params = dict(api.requests[0].url.params)
    assert params == {
        "text_query": "refund",
        "agent_id": "agent_1",
        "call_successful": "failure",
        "call_start_after_unix": "5",
        "sort_by": "created_at",
        "page_size": "2",
    }
    assert [row["conversation_id"] for row in rows] == ["c0", "c1"]
    assert rows[0]["matches"] == [
        {"turn": 2, "text": "refund text c0/1"},
        {"turn": 5, "text": "refund text c0/4"},
    ]
    assert render_search_table(rows).splitlines()[1] == "  turn 2: refund text c0/1"


def test_a_blank_search_is_refused_before_any_request() -> None:
    api = SearchApi()
    transport = httpx.MockTransport(api)
    with (
        ConvaiClient("https://api.test", "key-123456-abcdef-7890", transport=transport) as client,
        pytest.raises(UsageError, match="--search"),
    ):
        list_conversations(client, ConversationQuery(search="  "))
    assert api.requests == []


def search(http: httpx.Client, **params: Any) -> dict[str, Any]:
    response = http.get(SEARCH, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_emulator_finds_messages_holding_every_term(http: httpx.Client) -> None:
    found = search(http, text_query="ship Canada")["results"]
    assert found
    for result in found:
        text = result["chunk_text"].lower()
        assert "canada" in text and "ship" in text
        assert "".join(part["value"] for part in result["chunk_highlights"]) == result["chunk_text"]
        assert {p["value"].lower() for p in result["chunk_highlights"] if p["is_hit"]} <= {
            "ship",
            "ships",
            "canada",
        }
    conversation = http.get(f"/v1/convai/conversations/{CANADA}").json()
    canada = [r for r in found if r["conversation_id"] == CANADA]
    assert canada and all(
        conversation["transcript"][r["transcript_index"]]["message"] == r["chunk_text"]
        for r in canada
    )
    assert search(http, text_query="Canada zeppelin")["results"] == []


def test_emulator_search_filters_sorts_and_pages(http: httpx.Client) -> None:
    everything = search(http, text_query="order", sort_by="created_at", page_size=50)["results"]
    starts = [r["conversation_start_time_unix_secs"] for r in everything]
    assert len(everything) > 2 and starts == sorted(starts, reverse=True)
    first = search(http, text_query="order", sort_by="created_at", page_size=2)
    second = search(http, text_query="order", sort_by="created_at", cursor=first["next_cursor"])
    assert first["has_more"] and first["results"] == everything[:2]
    assert second["results"][0] == everything[2]
    scored = search(http, text_query="order")["results"]
    assert [r["score"] for r in scored] == sorted((r["score"] for r in scored), reverse=True)
    failed = search(http, text_query="order", call_successful="failure")["results"]
    assert 0 < len(failed) < len(everything)
    assert http.get(SEARCH).status_code == 422
    assert http.get(SEARCH, params={"text_query": "x", "page_size": 51}).status_code == 422


def test_cli_search_lists_conversations_whose_transcript_matches(cli: Any, server: Any) -> None:
    code, out, _ = cli("conversations", "list", "--search", "Canada", "--limit", "50")
    assert code == 0
    heads = [line for line in out.splitlines() if not line.startswith("  ")]
    turns = [line for line in out.splitlines() if line.startswith("  turn ")]
    assert CANADA in {line.split()[0] for line in heads}
    assert turns and all("canada" in line.lower() for line in turns)
    paths = {entry.path for entry in server.emulator.request_log}
    assert SEARCH in paths and "/v1/convai/conversations" not in paths
    assert all("search=" not in e.query for e in server.emulator.request_log if e.path != SEARCH)
    code, out, _ = cli("conversations", "list", "--search", "Canada", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and all(row["matches"] for row in rows)
