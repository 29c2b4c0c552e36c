"""The emulator's recorded conversations over loopback HTTP: filters, pages, the agent-id rule,
shapes (checked strictly against the document by the ``server`` fixture)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from convai_ops.emulator import EmulatorConfig, run_in_thread
from convai_ops.emulator.contract import validate_response
from convai_ops.emulator.conversations import load_conversations
from tests.conversations.conftest import CANADA, KEY, OLD_FAILURE, ROMANIAN, create_agent

LIST = "/v1/convai/conversations"


def listed(http: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    response = http.get(LIST, params={"page_size": 100, **params})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["conversations"]
    return items


def test_bundled_fixture_is_rich_enough(http: httpx.Client) -> None:
    items = listed(http)
    assert len(items) >= 20
    languages = {item["main_language"] for item in items}
    results = {item["call_successful"] for item in items}
    assert "ro" in languages and results == {"success", "failure", "unknown"}
    assert any(item["tool_names"] for item in items)
    assert {item["agent_id"] for item in items} == {"unresolved:support", "unresolved:assistant"}
    starts = [item["start_time_unix_secs"] for item in items]
    assert starts == sorted(starts, reverse=True)


def test_failed_filter_keeps_only_failures(http: httpx.Client) -> None:
    failed = listed(http, call_successful="failure")
    assert failed and all(item["call_successful"] == "failure" for item in failed)
    assert len(failed) < len(listed(http))
    assert CANADA in [item["conversation_id"] for item in failed]


def test_agent_resolves_to_the_tagged_agent_once_it_exists(http: httpx.Client) -> None:
    before = listed(http, agent_id="unresolved:support")
    agent_id = create_agent(http, "support", "Orders ship within 2 business days.")
    after = listed(http, agent_id=agent_id)
    assert [i["conversation_id"] for i in after] == [i["conversation_id"] for i in before]
    assert {item["agent_name"] for item in after} == {"support"}
    assert all(item["branch_id"] and item["version_id"] for item in after)
    assert listed(http, agent_id="unresolved:support") == []
    detail = http.get(f"{LIST}/{CANADA}").json()
    assert detail["agent_id"] == agent_id
    agent_turns = [turn for turn in detail["transcript"] if turn["role"] == "agent"]
    assert {turn["agent_metadata"]["agent_id"] for turn in agent_turns} == {agent_id}


def test_time_search_language_and_tool_filters(http: httpx.Client) -> None:
    week_ago = int(time.time()) - 7 * 86400
    recent = listed(http, call_start_after_unix=week_ago)
    assert recent and all(item["start_time_unix_secs"] > week_ago for item in recent)
    assert OLD_FAILURE not in [item["conversation_id"] for item in recent]
    older = listed(http, call_start_before_unix=week_ago)
    assert len(recent) + len(older) == len(listed(http))
    canada = listed(http, search="CANADA")
    assert [item["conversation_id"] for item in canada] == [CANADA]
    romanian = listed(http, main_languages="ro")
    assert ROMANIAN in [i["conversation_id"] for i in romanian]
    assert all(i["main_language"] == "ro" for i in romanian)
    tools = listed(http, tool_names="create_ticket")
    assert tools and all("create_ticket" in item["tool_names"] for item in tools)


def test_cursor_pages_cover_everything_once(http: httpx.Client) -> None:
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"page_size": 7, **({"cursor": cursor} if cursor else {})}
        page = http.get(LIST, params=params).json()
        pages += 1
        seen += [item["conversation_id"] for item in page["conversations"]]
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        cursor = page["next_cursor"]
    everything = [item["conversation_id"] for item in listed(http)]
    assert seen == everything and pages == -(-len(everything) // 7)


def test_summary_mode_and_sort_direction(http: httpx.Client) -> None:
    plain = listed(http, page_size=1)[0]
    assert "transcript_summary" not in plain
    included = listed(http, page_size=1, summary_mode="include")[0]
    assert "wrong number" in included["transcript_summary"]
    oldest_first = listed(http, sort_direction="asc")
    assert oldest_first == list(reversed(listed(http)))


def test_detail_has_transcript_tool_calls_and_analysis(http: httpx.Client) -> None:
    body = http.get(f"{LIST}/{CANADA}").json()
    assert len(body["transcript"]) == 7
    assert body["transcript"][1] == {
        "role": "user",
        "message": "Hi, do you ship to Canada?",
        "tool_calls": [],
        "tool_results": [],
        "time_in_call_secs": 4,
        "interrupted": False,
    }
    analysis = body["analysis"]
    assert analysis["call_successful"] == "failure"
    assert analysis["evaluation_criteria_results"]["resolved_request"]["result"] == "failure"
    assert analysis["evaluation_criteria_results_list"][0]["criteria_id"] == "resolved_request"
    assert body["metadata"]["main_language"] == "en"
    assert validate_response("GET", f"{LIST}/{CANADA}", 200, body, strict=True) == []


def test_unknown_conversation_is_404(http: httpx.Client) -> None:
    response = http.get(f"{LIST}/conv_nope")
    assert response.status_code == 404
    assert response.json()["detail"]["status"] == "conversation_not_found"


def test_bad_filter_is_422(http: httpx.Client) -> None:
    response = http.get(LIST, params={"call_successful": "great"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:2] == ["query", "call_successful"]


def test_reset_keeps_the_conversations(server: Any, http: httpx.Client) -> None:
    count = len(listed(http))
    server.emulator.reset()
    assert len(listed(http)) == count


def test_conversations_file_replaces_the_bundled_ones(tmp_path: Path) -> None:
    record = {
        "conversation_id": "conv_mine",
        "agent_id": "agent_elsewhere",
        "start_time_unix_secs": 1_700_000_000,
        "call_duration_secs": 5,
        "transcript": [{"role": "user", "message": "hello", "time_in_call_secs": 0}],
    }
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps({"conversations": [record]}))
    with (
        run_in_thread(EmulatorConfig(conversations_file=path)) as running,
        httpx.Client(base_url=running.url, headers={"xi-api-key": KEY}) as client,
    ):
        [item] = client.get(LIST).json()["conversations"]
        detail = client.get(f"{LIST}/conv_mine").json()
    assert item["agent_id"] == "agent_elsewhere"
    assert item["call_successful"] == "unknown" and detail["analysis"] is None
    assert validate_response("GET", LIST, 200, {"conversations": [item], "has_more": False}) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "is not a conversations file"),
        ('{"conversations": [{"conversation_id": "c"}]}', "is not a conversations file"),
        (
            '{"conversations": [{"conversation_id": "c", "agent": "a", "started_ago_secs": 1,'
            ' "start_time_unix_secs": 2, "call_duration_secs": 1, "transcript": []}]}',
            "exactly one of",
        ),
    ],
)
def test_malformed_conversations_file_is_refused(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        load_conversations(path)


def test_relative_start_times_count_back_from_loading() -> None:
    loaded = load_conversations(None, now=2_000_000_000)
    by_id = {record.conversation_id: started for record, started in loaded}
    assert by_id[CANADA] == 2_000_000_000 - 3 * 3600
