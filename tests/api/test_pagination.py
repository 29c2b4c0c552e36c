"""``iter_*`` methods follow ``next_cursor`` while ``has_more``, one page at a time."""

from __future__ import annotations

import httpx
import pytest

from convai_ops.errors import ApiError

from .fakes import FakeApi, MakeClient, Reply, query_of


def page(items: list[str], cursor: str | None) -> Reply:
    agents = [{"agent_id": item} for item in items]
    return Reply(json={"agents": agents, "has_more": cursor is not None, "next_cursor": cursor})


def test_three_pages_are_followed_in_order(make_client: MakeClient) -> None:
    api = FakeApi(page(["a1", "a2"], "c2"), page(["a3"], "c3"), page(["a4"], None))

    agents = list(make_client(api).iter_agents(page_size=2))

    assert [agent["agent_id"] for agent in agents] == ["a1", "a2", "a3", "a4"]
    cursors = [dict(query_of(request)).get("cursor") for request in api.requests]
    assert cursors == [None, "c2", "c3"]
    assert all(dict(query_of(r))["page_size"] == "2" for r in api.requests)


def test_pages_are_fetched_lazily(make_client: MakeClient) -> None:
    api = FakeApi(page(["a1", "a2"], "c2"), page(["a3"], None))

    agents = make_client(api).iter_agents()
    assert api.requests == []

    assert next(agents)["agent_id"] == "a1"
    assert next(agents)["agent_id"] == "a2"
    assert len(api.requests) == 1

    assert next(agents)["agent_id"] == "a3"
    assert len(api.requests) == 2


def test_has_more_false_stops_even_with_a_cursor(make_client: MakeClient) -> None:
    last = Reply(json={"agents": [{"agent_id": "a1"}], "has_more": False, "next_cursor": "c2"})
    api = FakeApi(last, page(["never"], None))

    assert len(list(make_client(api).iter_agents())) == 1
    assert len(api.requests) == 1


def test_repeated_cursor_raises_instead_of_looping(make_client: MakeClient) -> None:
    api = FakeApi(page(["a1"], "c2"), page(["a2"], "c2"))

    with pytest.raises(ApiError, match="repeated page cursor 'c2'"):
        list(make_client(api).iter_agents())

    assert len(api.requests) == 2


def test_page_without_the_list_raises(make_client: MakeClient) -> None:
    api = FakeApi(Reply(json={"has_more": False}))

    with pytest.raises(ApiError, match="expected a list under 'agents'") as caught:
        list(make_client(api).iter_agents())

    assert caught.value.path == "/v1/convai/agents"


def test_a_failed_later_page_raises_its_error(make_client: MakeClient) -> None:
    api = FakeApi(page(["a1"], "c2"), Reply(404, json={"detail": "cursor expired"}))
    agents = make_client(api).iter_agents()

    assert next(agents)["agent_id"] == "a1"
    with pytest.raises(ApiError, match="cursor expired"):
        next(agents)


def test_dependent_agents_follow_all_pages(make_client: MakeClient) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        more = cursor is None
        body = {"agents": [{"id": cursor or "first"}], "has_more": more, "next_cursor": "c2"}
        return httpx.Response(200, json=body)

    assert make_client(answer).document_dependent_agents("d1") == [{"id": "first"}, {"id": "c2"}]
