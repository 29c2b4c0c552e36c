"""Resolving tools/<name>.yaml to workspace tools by content, and the plan's tools view."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from convai_ops.api import ConvaiClient
from convai_ops.spec import ToolSpec
from convai_ops.workspace_tools import ToolIndex, comparable, desired_tools_view, remote_tools_view

DECLARED = {
    "type": "webhook",
    "name": "lookup_order",
    "description": "Looks up an order.",
    "api_schema": {"url": "https://api.acme.example/orders/{order_id}", "method": "GET"},
}


def _spec(config: dict[str, Any] = DECLARED, **body: Any) -> ToolSpec:
    return ToolSpec(
        name=str(config["name"]),
        path=Path("tools") / f"{config['name']}.yaml",
        body={"tool_config": config, **body},
        content_hash="0" * 12,
    )


def _listed(tool_id: str, config: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A tool as GET /v1/convai/tools answers it: defaults filled."""
    return {"id": tool_id, "tool_config": comparable(config), **extra}


class _Api:
    """Answers POST /v1/convai/tools with new ids; counts the creates."""

    def __init__(self) -> None:
        self.created: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert (request.method, request.url.path) == ("POST", "/v1/convai/tools")
        body = json.loads(request.content)
        with self.lock:
            self.created.append(body)
            tool_id = f"tool_new{len(self.created)}"
        return httpx.Response(200, json=_listed(tool_id, body["tool_config"]))


@pytest.fixture
def api() -> _Api:
    return _Api()


@pytest.fixture
def client(api: _Api) -> ConvaiClient:
    return ConvaiClient("https://api.test", "k" * 20, transport=httpx.MockTransport(api))


def test_a_listed_tool_with_equal_content_is_the_tool() -> None:
    index = ToolIndex([_listed("tool_a", DECLARED)])
    assert index.find(_spec()) == "tool_a"


def test_other_content_or_another_name_is_not_the_tool() -> None:
    changed = {**DECLARED, "description": "Finds an order."}
    renamed = {**DECLARED, "name": "find_order"}
    index = ToolIndex([_listed("tool_a", changed), _listed("tool_b", renamed)])
    assert index.find(_spec()) is None


def test_the_copy_main_uses_is_preferred_among_equal_ones() -> None:
    index = ToolIndex([_listed("tool_a", DECLARED), _listed("tool_b", DECLARED)])
    assert index.find(_spec()) == "tool_a"
    assert index.find(_spec(), prefer=["tool_b"]) == "tool_b"


def test_declared_response_mocks_are_part_of_the_content() -> None:
    mocks = [{"mock_result": "shipped"}]
    filled = [{"mock_result": "shipped", "is_error": False}]  # as the response schema fills it
    index = ToolIndex([_listed("tool_a", DECLARED, response_mocks=filled)])
    assert index.find(_spec(response_mocks=mocks)) == "tool_a"
    assert index.find(_spec(response_mocks=[{"mock_result": "lost"}])) is None


def test_ensure_creates_a_missing_tool_once(client: ConvaiClient, api: _Api) -> None:
    index = ToolIndex([_listed("tool_a", {**DECLARED, "description": "Old."})])
    said: list[str] = []
    ids = [index.ensure(client, _spec(), ["tool_a"], said.append) for _ in range(3)]
    assert ids == ["tool_new1"] * 3
    assert api.created == [{"tool_config": DECLARED}]
    assert said == ["created tool 'lookup_order' (tool_new1) from tools/lookup_order.yaml"]
    assert index.config("tool_a") is not None  # the old copy is never touched


def test_parallel_agents_sharing_a_tool_create_it_once(client: ConvaiClient, api: _Api) -> None:
    index = ToolIndex()
    found: list[str] = []
    threads = [
        threading.Thread(target=lambda: found.append(index.ensure(client, _spec(), (), print)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(api.created) == 1 and set(found) == {"tool_new1"}


def test_an_equal_tool_views_as_the_declared_config() -> None:
    index = ToolIndex([_listed("tool_a", DECLARED)])
    remote = remote_tools_view(["tool_a"], index, [_spec()])
    assert remote == desired_tools_view([_spec()]) == {"lookup_order": DECLARED}


def test_a_difference_shows_as_the_fields_that_differ() -> None:
    live = {**DECLARED, "description": "Old.", "response_timeout_secs": 5}
    index = ToolIndex([_listed("tool_a", live)])
    remote = remote_tools_view(["tool_a"], index, [_spec()])
    assert remote == {
        "lookup_order": {**DECLARED, "description": "Old.", "response_timeout_secs": 5}
    }


def test_unknown_ids_and_undeclared_tools_are_shown() -> None:
    other = {"type": "client", "name": "show_map", "description": "Shows a map."}
    index = ToolIndex([_listed("tool_b", other)])
    remote = remote_tools_view(["tool_gone", "tool_b"], index, [_spec()])
    assert remote == {"tool_gone": None, "show_map": other}
