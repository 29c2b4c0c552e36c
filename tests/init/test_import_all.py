"""``import --all``: every agent of a workspace gets a folder, slugs from names, collisions
resolved and reported, managed agents skipped; the next plan has no changes (end to end over
loopback HTTP against the emulator)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from ruamel.yaml import YAML

from convai_ops.emulator import EmulatorServer
from tests.helpers import Runner, cli_runner
from tests.init.conftest import KEY, create_agent, post

REPO = Path(__file__).resolve().parents[2]

WEBHOOK = {
    "type": "webhook",
    "name": "lookup_order",
    "description": "Looks an order up by its id.",
    "api_schema": {
        "url": "https://shop.example/orders/{order_id}",
        "path_params_schema": {"order_id": {"type": "string", "description": "The id."}},
    },
}
OTHER_TOOL = """\
tool_config:
  type: webhook
  description: Another tool of the same name.
  api_schema:
    url: https://other.example/orders
"""
CONFIG = "version: 1\ndefault_environment: staging\nenvironments:\n  staging: {}\n"


def _agent_yaml(folder: Path, slug: str) -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe").load(
        (folder / "agents" / slug / "agent.yaml").read_text("utf-8")
    )
    return data


def _folders(folder: Path) -> list[str]:
    return sorted(p.name for p in (folder / "agents").iterdir())


def _shop(api: httpx.Client) -> str:
    """An agent with a webhook tool and a knowledge document."""
    tool_id = post(api, "/v1/convai/tools", {"tool_config": WEBHOOK})["id"]
    document = post(api, "/v1/convai/knowledge-base/text", {"text": "Open 9-5.", "name": "Hours"})
    prompt = {
        "prompt": "You sell tents.",
        "tool_ids": [tool_id],
        "knowledge_base": [
            {"type": "text", "name": "Hours", "id": document["id"], "usage_mode": "auto"}
        ],
    }
    config = {"agent": {"first_message": "Hi!", "prompt": prompt}}
    body = {"name": "Shop", "conversation_config": config}
    return str(post(api, "/v1/convai/agents/create", body)["agent_id"])


def _oldest_first(api: httpx.Client, ids: list[str]) -> list[str]:
    listed = api.get("/v1/convai/agents", params={"page_size": 100}).json()["agents"]
    created = {a["agent_id"]: a["created_at_unix_secs"] for a in listed}
    return sorted(ids, key=lambda i: (created[i], i))


def test_import_all_adopts_every_agent_and_the_next_plan_has_no_changes(
    cli: Runner, api: httpx.Client, folder: Path
) -> None:
    (folder / "convai-ops.yaml").write_text(CONFIG)
    twins = _oldest_first(api, [create_agent(api, "Support"), create_agent(api, "Support")])
    sales = create_agent(api, "Sales Line", tags=["team-b"])
    shop = _shop(api)

    code, out, err = cli("import", "--all")
    assert code == 0, out + err
    assert _folders(folder) == ["sales-line", "shop", "support", "support-2"]
    pinned = {s: _agent_yaml(folder, s)["environments"]["staging"] for s in _folders(folder)}
    assert pinned == {"support": twins[0], "support-2": twins[1], "sales-line": sales, "shop": shop}
    assert f"+ agents/support-2/ <- {twins[1]}  (slug 'support' was taken)" in out
    assert "Imported 4 agent(s) (environment 'staging'):" in out
    assert _agent_yaml(folder, "shop")["tools"] == ["lookup_order"]
    assert (folder / "tools" / "lookup_order.yaml").is_file()

    code, out, err = cli("plan", "--detailed-exitcode")
    assert code == 0, out + err

    code, out, err = cli("import", "--all")
    assert code == 0, out + err
    assert "Imported 0 agent(s)" in out and "Skipped 4 agent(s)" in out
    assert f"= {shop} (Shop): pinned in agents/shop/agent.yaml" in out
    assert _folders(folder) == ["sales-line", "shop", "support", "support-2"]


def test_import_all_skips_agents_managed_by_tag_and_takes_slugs_from_free_tags(
    cli: Runner, api: httpx.Client, folder: Path
) -> None:
    (folder / "convai-ops.yaml").write_text(CONFIG)
    (folder / "agents" / "helpdesk").mkdir(parents=True)
    (folder / "agents" / "helpdesk" / "agent.yaml").write_text("name: Helpdesk\n")
    managed = create_agent(api, "Helpdesk", tags=["convai-ops:helpdesk"])
    orphan = create_agent(api, "Payments", tags=["convai-ops:billing"])

    code, out, err = cli("import", "--all")
    assert code == 0, out + err
    assert f"= {managed} (Helpdesk): tagged convai-ops:helpdesk: agents/helpdesk/ exists" in out
    assert _folders(folder) == ["billing", "helpdesk"]
    assert _agent_yaml(folder, "helpdesk") == {"name": "Helpdesk"}
    billing = _agent_yaml(folder, "billing")
    assert billing["environments"] == {"staging": orphan}
    assert billing["tags"] == []  # managed: convai-ops:billing is added to declared tags
    code, out, err = cli("plan", "--detailed-exitcode")
    assert code == 0, out + err


def test_import_all_with_a_tag_imports_only_agents_carrying_it(
    cli: Runner, api: httpx.Client, folder: Path, server: EmulatorServer
) -> None:
    (folder / "convai-ops.yaml").write_text(CONFIG)
    create_agent(api, "Support")
    sales = create_agent(api, "Sales", tags=["team-b"])
    code, out, err = cli("import", "--all", "--tag", "team-b")
    assert code == 0, out + err
    assert _folders(folder) == ["sales"]
    assert _agent_yaml(folder, "sales")["environments"] == {"staging": sales}


def test_import_all_goes_on_after_an_agent_that_cannot_be_imported(
    cli: Runner, api: httpx.Client, folder: Path
) -> None:
    (folder / "convai-ops.yaml").write_text(CONFIG)
    (folder / "tools").mkdir()
    (folder / "tools" / "lookup_order.yaml").write_text(OTHER_TOOL)
    shop = _shop(api)
    create_agent(api, "Support")
    code, out, err = cli("import", "--all")
    assert code == 1, out + err
    assert "Failed to import 1 agent(s):" in out, err
    assert f"! {shop} (Shop): " in out
    assert _folders(folder) == ["support"]


def test_import_arguments_are_checked_before_anything_is_sent(
    cli: Runner, folder: Path, server: EmulatorServer
) -> None:
    (folder / "convai-ops.yaml").write_text(CONFIG)
    cases = {
        (): "give either an AGENT_ID or --all",
        ("agent_1", "--all"): "give either an AGENT_ID or --all",
        ("--all", "--slug", "x"): "--slug names one agent",
        ("agent_1", "--tag", "t"): "--tag filters --all",
    }
    for args, message in cases.items():
        code, _, err = cli("import", *args)
        assert (code, message in err) == (1, True), err
    assert server.emulator.request_log == []


def test_two_agents_with_one_free_managed_tag_both_get_folders_and_the_clash_is_reported(
    cli: Runner, api: httpx.Client, folder: Path
) -> None:
    (folder / "convai-ops.yaml").write_text(CONFIG)
    first, second = _oldest_first(
        api,
        [
            create_agent(api, "Billing", tags=["convai-ops:billing"]),
            create_agent(api, "Billing copy", tags=["convai-ops:billing"]),
        ],
    )
    code, out, err = cli("import", "--all")
    assert code == 0, out + err
    assert _folders(folder) == ["billing", "billing-2"]
    assert _agent_yaml(folder, "billing")["environments"] == {"staging": first}
    assert _agent_yaml(folder, "billing-2")["environments"] == {"staging": second}
    assert f"+ agents/billing-2/ <- {second}  (slug 'billing' was taken)" in out


def test_agents_another_checkout_applied_import_with_no_changes(
    cli: Runner,
    server: EmulatorServer,
    folder: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The bundled example (a tool file that leaves defaults out, a tool test naming it) is
    applied from one checkout; a new repository made by init + import --all plans no change:
    the imported tool file spells the tool differently, yet names the same remote tests."""
    example = tmp_path / "example"
    example.mkdir()
    for part in ("agents", "tools"):
        shutil.copytree(REPO / part, example / part)
    shutil.copy(REPO / "convai-ops.yaml", example / "convai-ops.yaml")
    applier = cli_runner(example, server.url, KEY, monkeypatch, capsys)
    code, out, err = applier("apply", "--auto-approve")
    assert code == 0, out + err

    assert cli("init", "--env", f"staging={server.url}")[0] == 0
    code, out, err = cli("import", "--all")
    assert code == 0, out + err
    assert "not created by convai-ops" not in out
    assert (folder / "tools" / "lookup_order.yaml").read_text() != (
        REPO / "tools" / "lookup_order.yaml"
    ).read_text()
    code, out, err = cli("plan", "--detailed-exitcode")
    assert code == 0, out + err
