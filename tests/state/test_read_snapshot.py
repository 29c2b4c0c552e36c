"""``read_snapshot``: which agent each slug is, and that list calls and agent reads overlap.

A scripted API behind ``httpx.MockTransport``: the tests list answers only once an agent GET
has arrived (or after a timeout), so a read that waited for the lists before reading agents is
caught without measuring time.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from convai_ops.api import ConvaiClient
from convai_ops.errors import SpecError
from convai_ops.plan import build_plan, make_plan
from convai_ops.settings import Settings
from convai_ops.spec import load_project
from convai_ops.state import managed_tag, read_snapshot
from tests.helpers import copy_example

KEY = "sk_test_read_snapshot_0123456789"
WAIT_S = 5.0


class ScriptedApi:
    """Agents list in pages of one, a tests list that waits for an agent GET, agent GETs."""

    def __init__(self, summaries: list[dict[str, Any]], missing: frozenset[str] = frozenset()):
        self.summaries = summaries
        self.missing = missing
        self.agent_read = threading.Event()
        self.tests_list_saw_a_read: list[bool] = []
        self.reads: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/v1/convai/agents":
            return self._agents_page(request)
        if path == "/v1/convai/agent-testing":
            self.tests_list_saw_a_read.append(self.agent_read.wait(WAIT_S))
            tests = [{"id": "t1", "name": "support/refund #00000000"}]
            return httpx.Response(200, json={"tests": tests, "has_more": False})
        if path == "/v1/convai/knowledge-base":
            return httpx.Response(200, json={"documents": [], "has_more": False})
        if path == "/v1/convai/tools":
            return httpx.Response(200, json={"tools": [], "has_more": False})
        agent_id = path.rsplit("/", 1)[-1]
        with self.lock:
            self.reads.append(agent_id)
        self.agent_read.set()
        if agent_id in self.missing:
            body = {"detail": {"status": "agent_not_found", "message": "not found"}}
            return httpx.Response(404, json=body)
        return httpx.Response(200, json={"agent_id": agent_id, "version_id": f"v-{agent_id}"})

    def _agents_page(self, request: httpx.Request) -> httpx.Response:
        at = int(request.url.params.get("cursor") or 0)
        more = at + 1 < len(self.summaries)
        body = {
            "agents": self.summaries[at : at + 1],
            "next_cursor": str(at + 1) if more else None,
            "has_more": more,
        }
        return httpx.Response(200, json=body)


def _summary(agent_id: str, *tags: str) -> dict[str, Any]:
    return {"agent_id": agent_id, "name": agent_id, "tags": list(tags)}


def _client(api: ScriptedApi) -> ConvaiClient:
    return ConvaiClient(
        "https://api.test", KEY, transport=httpx.MockTransport(api), max_concurrency=4
    )


def test_agents_are_read_while_the_tests_list_is_still_loading(tmp_path: Path) -> None:
    project = load_project(copy_example(tmp_path / "repo"))
    api = ScriptedApi(
        [
            _summary("agent-new", "team", managed_tag("support")),
            _summary("agent-assistant", managed_tag("assistant")),
            _summary("agent-old", managed_tag("retired")),
        ]
    )
    with _client(api) as client:
        snapshot = read_snapshot(client, project.agents, "staging", concurrency=4)

    assert api.tests_list_saw_a_read == [True]
    found = {slug: agent.agent_id if agent else None for slug, agent in snapshot.agents.items()}
    assert found == {"assistant": "agent-assistant", "support": "agent-new"}
    assert sorted(api.reads) == ["agent-assistant", "agent-new"]  # no folder's agent is not read
    assert snapshot.index.agent_ids == found
    assert snapshot.index.test_names == {"t1": "support/refund #00000000"}


def test_an_agent_without_its_managed_tag_is_to_be_created(tmp_path: Path) -> None:
    project = load_project(copy_example(tmp_path / "repo"))
    api = ScriptedApi([_summary("agent-assistant", managed_tag("assistant"))])
    with _client(api) as client:
        snapshot = read_snapshot(client, project.agents, "staging")
    assert snapshot.agents["support"] is None
    assert list(snapshot.agents) == [spec.slug for spec in project.agents]


def test_an_explicit_id_that_does_not_exist_is_reported_at_its_line(tmp_path: Path) -> None:
    root = copy_example(tmp_path / "repo")
    agent_yaml = root / "agents" / "support" / "agent.yaml"
    agent_yaml.write_text(
        agent_yaml.read_text(encoding="utf-8") + "environments:\n  staging: agent-gone\n",
        encoding="utf-8",
    )
    project = load_project(root)
    api = ScriptedApi([], missing=frozenset({"agent-gone"}))
    with _client(api) as client, pytest.raises(SpecError) as caught:
        read_snapshot(client, project.agents, "staging")
    assert "agent-gone" in api.reads
    lines = agent_yaml.read_text(encoding="utf-8").splitlines()
    assert caught.value.path == agent_yaml
    assert lines[caught.value.line - 1].strip() == "staging: agent-gone"
    assert "'agent-gone' does not exist in environment 'staging'" in str(caught.value)


def test_on_agent_sees_each_agent_once_with_the_finished_index(tmp_path: Path) -> None:
    project = load_project(copy_example(tmp_path / "repo"))
    api = ScriptedApi([_summary("agent-assistant", managed_tag("assistant"))])
    seen: list[tuple[str, str | None, int]] = []
    with _client(api) as client:
        snapshot = read_snapshot(
            client,
            project.agents,
            "staging",
            on_agent=lambda spec, remote, index: seen.append(
                (spec.slug, remote.agent_id if remote else None, len(index.test_names))
            ),
        )
    assert sorted(seen) == [("assistant", "agent-assistant", 1), ("support", None, 1)]
    assert snapshot.agents["assistant"] is not None


def test_build_plan_equals_the_plan_of_its_snapshot(tmp_path: Path) -> None:
    project = load_project(copy_example(tmp_path / "repo"))
    api = ScriptedApi([_summary("agent-assistant", managed_tag("assistant"))])
    settings = Settings.resolve(
        project.root,
        project.config,
        base_url="https://api.test",
        environ={"ELEVENLABS_API_KEY": KEY},
    )
    with _client(api) as client:
        plan, snapshot = build_plan(client, project, settings)
    assert [a.action for a in plan.agents] == ["update", "create"]
    assert plan == make_plan(project, snapshot, settings.environment, settings.base_url)
