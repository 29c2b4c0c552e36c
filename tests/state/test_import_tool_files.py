"""Import and pull write ``tools/<name>.yaml`` for the workspace tools an agent uses and name
them in ``agent.yaml`` (``tools:``): an existing file with the same content is reused, one with
other content refuses the import before anything is written; pull adopts the live tools."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from ruamel.yaml import YAML

from .helpers import Cli

CreateAgent = Callable[[dict[str, Any]], str]
API_SCHEMA: dict[str, Any] = {
    "url": "https://shop.example/orders/{order_id}",
    "path_params_schema": {"order_id": {"type": "string", "description": "Id."}},
}
LOOKUP: dict[str, Any] = {
    "type": "webhook",
    "name": "lookup_order",
    "description": "Looks an order up.",
    "api_schema": {**API_SCHEMA, "method": "GET"},
}
MAP: dict[str, Any] = {"type": "client", "name": "show_map", "description": "Shows a map."}


def _tool(api: httpx.Client, config: dict[str, Any]) -> str:
    response = api.post("/v1/convai/tools", json={"tool_config": config})
    response.raise_for_status()
    tool_id: str = response.json()["id"]
    return tool_id


def _agent(create_agent: CreateAgent, tool_ids: list[str]) -> str:
    prompt = {"prompt": "Hi.", "tool_ids": tool_ids}
    return create_agent({"name": "Shop", "conversation_config": {"agent": {"prompt": prompt}}})


def _load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text("utf-8"))


def test_import_writes_a_tool_file_per_tool_without_defaults(
    cli: Cli, create_agent: CreateAgent, api: httpx.Client, project: Path
) -> None:
    agent_id = _agent(create_agent, [_tool(api, LOOKUP), _tool(api, MAP)])
    code, out, err = cli("import", agent_id, "--slug", "shop")
    assert code == 0, out + err
    assert _load(project / "agents" / "shop" / "agent.yaml")["tools"] == [
        "lookup_order",
        "show_map",
    ]
    lookup = _load(project / "tools" / "lookup_order.yaml")
    assert lookup == {"tool_config": {**LOOKUP, "api_schema": API_SCHEMA}}  # no id, no defaults
    assert (project / "tools" / "lookup_order.yaml").read_text().startswith("# yaml-language")
    assert cli("plan", "--detailed-exitcode")[0] == 0


def test_an_existing_tool_file_with_the_same_content_is_reused(
    cli: Cli, create_agent: CreateAgent, api: httpx.Client, project: Path
) -> None:
    path = project / "tools" / "lookup_order.yaml"
    path.parent.mkdir()
    text = "# our order lookup\ntool_config:\n" + "".join(
        f"  {line}\n"
        for line in (
            "type: webhook",
            "description: Looks an order up.",
            "response_timeout_secs: 20",
            "api_schema:",
            "  url: https://shop.example/orders/{order_id}",
            "  method: GET",
            "  path_params_schema:",
            "    order_id: {type: string, description: Id.}",
        )
    )
    path.write_text(text, "utf-8")
    agent_id = _agent(create_agent, [_tool(api, LOOKUP)])
    code, out, err = cli("import", agent_id, "--slug", "shop")
    assert code == 0, out + err
    assert "reused" in out + err
    assert path.read_text("utf-8") == text  # untouched, comment and all
    assert cli("plan", "--detailed-exitcode")[0] == 0


def test_an_existing_tool_file_with_other_content_refuses_the_import(
    cli: Cli, create_agent: CreateAgent, api: httpx.Client, project: Path
) -> None:
    path = project / "tools" / "lookup_order.yaml"
    path.parent.mkdir()
    text = "tool_config: {type: client, description: Something else.}\n"
    path.write_text(text, "utf-8")
    agent_id = _agent(create_agent, [_tool(api, LOOKUP)])
    code, _, err = cli("import", agent_id, "--slug", "shop")
    assert code != 0
    assert "tools/lookup_order.yaml holds other content" in err and "\n" not in err.strip()
    assert path.read_text("utf-8") == text
    assert not (project / "agents" / "shop").exists()


def test_pull_adopts_a_changed_and_an_added_tool(
    cli: Cli, create_agent: CreateAgent, api: httpx.Client, project: Path
) -> None:
    lookup_id = _tool(api, LOOKUP)
    agent_id = _agent(create_agent, [lookup_id])
    assert cli("import", agent_id, "--slug", "shop")[0] == 0
    changed = {**LOOKUP, "description": "Finds an order by its id."}
    api.patch(f"/v1/convai/tools/{lookup_id}", json={"tool_config": changed}).raise_for_status()
    map_id = _tool(api, MAP)
    prompt = {"tool_ids": [lookup_id, map_id]}
    change = {"conversation_config": {"agent": {"prompt": prompt}}}
    api.patch(f"/v1/convai/agents/{agent_id}", json=change).raise_for_status()
    assert cli("plan", "--detailed-exitcode")[0] == 2
    code, out, err = cli("pull", "shop")
    assert code == 0, out + err
    assert "tools/lookup_order.yaml rewritten" in out + err
    adopted = _load(project / "tools" / "lookup_order.yaml")["tool_config"]
    assert adopted["description"] == "Finds an order by its id."
    assert _load(project / "tools" / "show_map.yaml") == {"tool_config": MAP}
    assert _load(project / "agents" / "shop" / "agent.yaml")["tools"] == [
        "lookup_order",
        "show_map",
    ]
    assert cli("plan", "--detailed-exitcode")[0] == 0
