"""The conversations library without a server: time filters, rendering, agent resolution and
lazy paging (``httpx.MockTransport``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from convai_ops.api import ConvaiClient
from convai_ops.conversations import (
    ConversationQuery,
    agent_slugs,
    list_conversations,
    parse_since,
    render_conversation,
    render_table,
    render_turn,
    repository_agents,
    resolve_agent_id,
)
from convai_ops.errors import UsageError
from convai_ops.spec import ProjectConfig

NOW = 1_800_000_000
CONVERSATION: dict[str, Any] = {
    "conversation_id": "conv_1",
    "agent_id": "agent_1",
    "agent_name": "Acme Support",
    "branch_id": "agtbrch_1",
    "status": "done",
    "metadata": {"start_time_unix_secs": NOW, "call_duration_secs": 65, "main_language": "en"},
    "transcript": [
        {"role": "agent", "message": "Hi!", "time_in_call_secs": 0},
        {"role": "user", "message": "Where is A-1?\nIt is late.", "time_in_call_secs": 3},
        {
            "role": "agent",
            "message": None,
            "time_in_call_secs": 5,
            "tool_calls": [{"tool_name": "lookup_order", "params_as_json": '{"order_id": "A-1"}'}],
        },
        {
            "role": "agent",
            "message": None,
            "time_in_call_secs": 6,
            "tool_results": [
                {"tool_name": "lookup_order", "result_value": "gone", "is_error": True}
            ],
        },
        {"role": "agent", "message": "It shipped.", "time_in_call_secs": 8},
    ],
    "analysis": {
        "call_successful": "failure",
        "call_summary_title": "Late order",
        "transcript_summary": "The agent invented a shipment.",
        "evaluation_criteria_results": {
            "accurate": {"criteria_id": "accurate", "result": "failure", "rationale": "Invented."}
        },
        "data_collection_results": {
            "order_id": {"data_collection_id": "order_id", "value": "A-1", "rationale": "Said."}
        },
    },
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", NOW - 7 * 86400),
        ("24h", NOW - 86400),
        ("30m", NOW - 1800),
        ("2w", NOW - 14 * 86400),
        ("90s", NOW - 90),
        ("2027-01-15", 1_799_971_200),
        ("2027-01-15T06:00+02:00", 1_799_971_200 + 4 * 3600),
    ],
)
def test_since_accepts_durations_and_dates(text: str, expected: int) -> None:
    assert parse_since(text, now=NOW) == expected


@pytest.mark.parametrize("text", ["7 days", "yesterday", "-3d", ""])
def test_since_refuses_anything_else(text: str) -> None:
    with pytest.raises(UsageError, match="--since"):
        parse_since(text, now=NOW)


def test_table_has_one_row_per_conversation_with_the_title() -> None:
    rows: list[dict[str, Any]] = [
        {
            "conversation_id": "conv_1",
            "start_time_unix_secs": NOW,
            "call_duration_secs": 65,
            "status": "done",
            "call_successful": "failure",
            "call_summary_title": "x" * 80,
        },
        {"conversation_id": "conv_22", "status": "failed", "call_successful": "unknown"},
    ]
    lines = render_table(rows).splitlines()
    header = ["CONVERSATION", "STARTED", "(UTC)", "DURATION", "STATUS", "RESULT", "TITLE"]
    assert lines[0].split() == header
    assert lines[1].split()[:6] == ["conv_1", "2027-01-15", "08:00", "1:05", "done", "failure"]
    assert lines[1].endswith("x" * 57 + "...")
    assert lines[2].split() == ["conv_22", "-", "-", "failed", "unknown"]
    assert render_table([]) == "No conversations.\n"


def test_text_rendering_numbers_every_turn_and_shows_tools_and_analysis() -> None:
    text = render_conversation(CONVERSATION)
    assert "  agent:    Acme Support (agent_1)\n  ran on:   branch agtbrch_1, version -" in text
    assert "1:05 long" in text and "result:   failure - Late order" in text
    assert "  [1]  0:00 agent  Hi!" in text
    assert "  [2]  0:03 user   Where is A-1?\n                   It is late." in text
    assert '  [3]  0:05 agent  -> lookup_order {"order_id": "A-1"}' in text
    assert "  [4]  0:06 agent  <- lookup_order: gone  [error]" in text
    assert "  [5]  0:08 agent  It shipped." in text
    assert "  accurate: failure - Invented." in text
    assert '  order_id = "A-1" (Said.)' in text
    assert text.index("Evaluation criteria") < text.index("Data collection") < text.index("Summary")


def test_json_and_yaml_rendering_keep_the_whole_body() -> None:
    assert json.loads(render_conversation(CONVERSATION, "json")) == CONVERSATION
    yaml_text = render_conversation(CONVERSATION, "yaml")
    assert "conversation_id: conv_1" in yaml_text and "tool_name: lookup_order" in yaml_text
    with pytest.raises(UsageError):
        render_conversation(CONVERSATION, "xml")


def test_a_turn_without_message_or_tools() -> None:
    assert render_turn({"role": "agent"}, 12, 2).endswith("(no message)")


class ConversationsApi:
    """Serves ``total`` conversation summaries in pages and records each request."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/v1/convai/agents":
            tagged = {"agent_id": "agent_tagged", "tags": ["x", "convai-ops:support"]}
            return httpx.Response(200, json={"agents": [tagged], "has_more": False})
        size = int(request.url.params["page_size"])
        start = int(request.url.params.get("cursor") or 0)
        end = min(start + size, self.total)
        items = [{"conversation_id": f"conv_{i}"} for i in range(start, end)]
        more = end < self.total
        page = {"conversations": items, "has_more": more, "next_cursor": str(end) if more else None}
        return httpx.Response(200, json=page)


def client_for(api: ConversationsApi) -> ConvaiClient:
    return ConvaiClient(
        "https://api.test", "key-123456-abcdef-7890", transport=httpx.MockTransport(api)
    )


def test_listing_fetches_only_the_pages_the_limit_needs() -> None:
    api = ConversationsApi(total=250)
    with client_for(api) as client:
        found = list_conversations(client, ConversationQuery(limit=120, failed=True))
    assert [c["conversation_id"] for c in found] == [f"conv_{i}" for i in range(120)]
    assert len(api.requests) == 2
    params = api.requests[0].url.params
    assert params["call_successful"] == "failure" and params["page_size"] == "100"


def test_filters_are_sent_as_query_parameters() -> None:
    api = ConversationsApi(total=3)
    query = ConversationQuery(agent="agent_x", since_unix=NOW, limit=5)
    with client_for(api) as client:
        assert len(list_conversations(client, query)) == 3
    params = api.requests[0].url.params
    assert params["agent_id"] == "agent_x" and params["call_start_after_unix"] == str(NOW)
    assert "search" not in params and "call_successful" not in params


def make_project(root: Path) -> Any:
    for slug, extra in (("support", ""), ("assistant", "environments: {staging: agent_written}\n")):
        folder = root / "agents" / slug
        (folder / "tests").mkdir(parents=True)
        (folder / "agent.yaml").write_text(f"name: {slug.title()}\n{extra}")
        (folder / "tests" / "unfinished.yaml").write_text("success_condition: 'TODO: later'\n")
    return repository_agents(root, ProjectConfig())


def test_repository_agents_ignore_unfinished_tests(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    assert [(a.slug, a.name, a.environments) for a in project.agents] == [
        ("assistant", "Assistant", {"staging": "agent_written"}),
        ("support", "Support", {}),
    ]


def test_agents_are_found_by_written_id_or_by_tag(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    api = ConversationsApi(total=0)
    with client_for(api) as client:
        assert agent_slugs(client, project, "staging") == {
            "agent_written": "assistant",
            "agent_tagged": "support",
        }
        assert resolve_agent_id(client, project, "staging", "support") == "agent_tagged"
        assert resolve_agent_id(client, project, "staging", "assistant") == "agent_written"
        assert resolve_agent_id(client, project, "staging", "agent_other") == "agent_other"
        with pytest.raises(UsageError, match="did you mean 'support'"):
            resolve_agent_id(client, project, "staging", "suport")
    assert [r.url.path for r in api.requests] == ["/v1/convai/agents", "/v1/convai/agents"]


def test_an_agent_not_created_yet_is_a_usage_error(tmp_path: Path) -> None:
    project = make_project(tmp_path)

    def no_agents(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"agents": [], "has_more": False})

    transport = httpx.MockTransport(no_agents)
    with (
        ConvaiClient("https://api.test", "key-123456-abcdef-7890", transport=transport) as client,
        pytest.raises(UsageError, match="does not exist in environment 'staging' yet"),
    ):
        resolve_agent_id(client, project, "staging", "support")
