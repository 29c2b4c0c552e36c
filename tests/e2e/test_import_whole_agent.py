"""Acceptance (issue 14): import of a realistic agent with a workflow, built-in system tools,
webhook tools and knowledge documents, then plan: no changes. ``agent.yaml`` holds the
workflow, the system tools and tool names (never ids), and every field the live agent has set
(its GET minus the server's defaults) is declared by the repository."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from ruamel.yaml import YAML

from convai_ops.emulator import EmulatorConfig, run_in_thread
from convai_ops.plan import with_list_defaults, workflow_view
from convai_ops.spec import READ_ONLY_SETTINGS, load_project
from convai_ops.spec.defaults import SECTION_SCHEMAS, fill_defaults
from tests.e2e.conftest import KEY
from tests.helpers import Runner, cli_runner

TEMPLATE = Path(__file__).resolve().parents[1] / "fixtures" / "agent-templates"
SECTIONS = ("conversation_config", "platform_settings")
PROMPT = ("conversation_config", "agent", "prompt")
# Declared another way: tools by name, documents under knowledge_base:, the prompt in prompt.md.
ELSEWHERE = {(*PROMPT, "tool_ids"), (*PROMPT, "tools"), (*PROMPT, "knowledge_base")}
WEBHOOKS = [
    {
        "type": "webhook",
        "name": "lookup_order",
        "description": "Looks an order up by its id.",
        "api_schema": {
            "url": "https://shop.example/orders/{order_id}",
            "path_params_schema": {"order_id": {"type": "string", "description": "The id."}},
        },
    },
    {
        "type": "webhook",
        "name": "open_ticket",
        "description": "Opens a support ticket.",
        "response_timeout_secs": 40,
        "api_schema": {
            "url": "https://shop.example/tickets",
            "method": "POST",
            "request_body_schema": {
                "type": "object",
                "properties": {"summary": {"type": "string", "description": "The issue."}},
                "required": ["summary"],
            },
        },
    },
]
WORKFLOW = {
    "nodes": {
        "start_node": {"type": "start", "position": {"x": 0, "y": 0}, "edge_order": ["to_orders"]},
        "orders": {
            "type": "override_agent",
            "label": "Orders",
            "position": {"x": 250, "y": 0},
            "edge_order": ["to_end"],
            "conversation_config": {"agent": {"prompt": {"prompt": "Help with an order."}}},
        },
        "end_node": {"type": "end", "position": {"x": 500, "y": 0}},
    },
    "edges": {
        "to_orders": {
            "source": "start_node",
            "target": "orders",
            "forward_condition": {"type": "llm", "condition": "The caller asks about an order."},
        },
        "to_end": {"source": "orders", "target": "end_node"},
    },
}


@pytest.fixture
def server() -> Iterator[Any]:
    with run_in_thread(EmulatorConfig(rag_index_delay_s=0.05, test_delay_s=0.05)) as handle:
        yield handle


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "convai-ops.yaml").write_text("version: 1\ndefault_environment: staging\n")
    return root


@pytest.fixture
def cli(
    server: Any, project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Runner:
    return cli_runner(project, server.url, KEY, monkeypatch, capsys)


@pytest.fixture
def api(server: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers={"xi-api-key": KEY}) as client:
        yield client


def _post(api: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post(path, json=body)
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    return answer


def _system(kind: str, **params: Any) -> dict[str, Any]:
    return {"name": kind, "description": "", "params": {"system_tool_type": kind, **params}}


def _live_agent(api: httpx.Client) -> tuple[str, list[str]]:
    """A customer-service agent (a real template) given everything an agent can have."""
    body = json.loads((TEMPLATE / "customer-service.json").read_text("utf-8"))
    tool_ids = [_post(api, "/v1/convai/tools", {"tool_config": t})["id"] for t in WEBHOOKS]
    documents = [
        _post(api, "/v1/convai/knowledge-base/text", {"text": text, "name": name})
        for name, text in (("Returns", "Returns within 30 days."), ("Hours", "Open 9 to 5."))
    ]
    prompt = body["conversation_config"]["agent"]["prompt"]
    prompt["tool_ids"] = tool_ids
    prompt["knowledge_base"] = [
        {"type": "text", "name": d["name"], "id": d["id"], "usage_mode": mode}
        for d, mode in zip(documents, ("auto", "prompt"), strict=True)
    ]
    prompt["built_in_tools"] = {
        "end_call": _system("end_call"),
        "language_detection": _system("language_detection", only_at_conversation_start=True),
        "skip_turn": _system("skip_turn"),
    }
    body["workflow"] = WORKFLOW
    agent_id = str(_post(api, "/v1/convai/agents/create", body)["agent_id"])
    return agent_id, tool_ids


def _leaves(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(value, Mapping) and value:
        for key, item in value.items():
            yield from _leaves(item, (*path, str(key)))
    else:
        yield path, value


def _at(value: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            return KeyError
        value = value[key]
    return value


def _set_beyond_defaults(live: dict[str, Any], empty: dict[str, Any]) -> list[tuple[str, ...]]:
    """Leaf paths of the config sections the live agent has set: its value differs from a new
    agent's, is not what the API's defaults give when the key is left out, and is not an empty
    list or mapping (which sets nothing: import leaves those out, as documented)."""
    live_view = with_list_defaults({s: copy.deepcopy(live[s]) for s in SECTIONS})
    empty_view = with_list_defaults({s: copy.deepcopy(empty[s]) for s in SECTIONS})
    return [
        path
        for path, value in _leaves(live_view)
        if value not in ([], {})
        and _at(empty_view, path) != value
        and not _given_back(live_view, path)
        and not any(path[: len(p)] == p for p in ELSEWHERE)
        and path[:2] not in {("platform_settings", key) for key in READ_ONLY_SETTINGS}
    ]


def _given_back(view: dict[str, Any], path: tuple[str, ...]) -> bool:
    """Whether the API's defaults give the value at ``path`` back when it is left out."""
    trial = copy.deepcopy(view[path[0]])
    parent = _at(trial, path[1:-1])
    if not isinstance(parent, dict):
        return False
    del parent[path[-1]]
    filled = fill_defaults(trial, SECTION_SCHEMAS[path[0]])
    return bool(_at(filled, path[1:]) == _at(view, path))


def test_import_of_a_whole_agent_plans_no_change_and_declares_every_set_field(
    cli: Runner, api: httpx.Client, project: Path
) -> None:
    agent_id, tool_ids = _live_agent(api)
    code, out, err = cli("import", agent_id, "--slug", "shop")
    assert code == 0, out + err
    assert "left out" not in out + err  # nothing dropped
    code, out, err = cli("plan", "--detailed-exitcode")
    assert code == 0, out + err
    assert cli("drift")[0] == 0

    text = (project / "agents" / "shop" / "agent.yaml").read_text("utf-8")
    assert not any(tool_id in text for tool_id in tool_ids) and "tool_ids" not in text
    data = YAML(typ="safe").load(text)
    assert data["tools"] == ["lookup_order", "open_ticket"]
    assert sorted(p.name for p in (project / "tools").iterdir()) == [
        "lookup_order.yaml",
        "open_ticket.yaml",
    ]
    built_in = data["conversation_config"]["agent"]["prompt"]["built_in_tools"]
    assert sorted(built_in) == ["end_call", "language_detection", "skip_turn"]
    assert built_in["end_call"]["params"] == {"system_tool_type": "end_call"}
    assert set(data["workflow"]["nodes"]) == set(WORKFLOW["nodes"])

    live = api.get(f"/v1/convai/agents/{agent_id}").json()
    empty_id = _post(api, "/v1/convai/agents/create", {"conversation_config": {}})["agent_id"]
    empty = api.get(f"/v1/convai/agents/{empty_id}").json()
    spec = load_project(project).agent("shop")
    declared = with_list_defaults(
        {s: v for s, v in spec.desired("staging").items() if s in SECTIONS}
    )
    missing = [
        ".".join(path)
        for path in _set_beyond_defaults(live, empty)
        if _at(declared, path) != _at(with_list_defaults({s: live[s] for s in SECTIONS}), path)
    ]
    assert missing == [], "\n".join(missing)
    assert workflow_view(spec.workflow) == workflow_view(live["workflow"])
    live_names = [t["name"] for t in live["conversation_config"]["agent"]["prompt"]["tools"]]
    assert list(spec.tools or ()) == live_names
    locators = live["conversation_config"]["agent"]["prompt"]["knowledge_base"]
    assert [(k.id, k.usage_mode) for k in spec.knowledge] == [
        (loc["id"], loc["usage_mode"]) for loc in locators
    ]
