"""``convai-ops import``: a live agent becomes agents/<slug>/, and plan then shows no changes."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from ruamel.yaml import YAML

from convai_ops.spec import SCHEMA_HEADER, canonical_json, load_project

from .helpers import KEY, TEMPLATE_NAMES, Cli, apply_examples, patch_agent, template

CreateAgent = Callable[[dict[str, Any]], str]


def _yaml(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text("utf-8"))


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    return [value]


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_each_template_imports_losslessly(
    name: str, cli: Cli, create_agent: CreateAgent, project: Path
) -> None:
    agent_id = create_agent(template(name))

    code, out, err = cli("import", agent_id, "--slug", name)

    assert code == 0, out + err
    folder = project / "agents" / name
    assert (folder / "agent.yaml").read_text("utf-8").startswith(SCHEMA_HEADER["agent"] + "\n")
    assert (folder / "prompt.md").read_text("utf-8") == (
        template(name)["conversation_config"]["agent"]["prompt"]["prompt"] + "\n"
    )
    data = _yaml(folder / "agent.yaml")
    assert data["environments"] == {"staging": agent_id}
    assert None not in _leaves(data)  # nulls are the API's defaults: left out
    assert "ban" not in data.get("platform_settings", {})
    assert cli("validate")[0] == 0
    code, out, _ = cli("plan", "--detailed-exitcode")
    assert code == 0, out
    assert "No changes." in out


def test_import_writes_only_what_differs_from_the_defaults(
    cli: Cli, create_agent: CreateAgent, project: Path
) -> None:
    agent_id = create_agent(template("customer-service"))

    cli("import", agent_id, "--slug", "cs")

    data = _yaml(project / "agents" / "cs" / "agent.yaml")
    assert data["conversation_config"]["agent"] == {
        "first_message": "",  # the essentials are written even at their default
        "language": "en",
        "prompt": {
            "llm": "gemini-2.5-flash",
            "temperature": 0.1,
            "ignore_default_personality": False,
        },
    }
    assert next(iter(data["conversation_config"])) == "agent"
    assert data["conversation_config"]["conversation"]["max_duration_seconds"] == 1800
    assert "asr" not in data["conversation_config"]  # every value at its default
    assert "widget" in data["platform_settings"]
    assert "styles" not in data["platform_settings"]["widget"]  # all null
    assert "testing" not in data["platform_settings"]


def test_tags_are_declared_only_for_an_agent_carrying_the_managed_tag(
    cli: Cli, create_agent: CreateAgent, project: Path
) -> None:
    unmanaged = create_agent({**template("minimal"), "tags": ["sales"]})
    managed = create_agent({**template("minimal"), "tags": ["sales", "convai-ops:bot"]})

    code, out, _ = cli("import", unmanaged, "--slug", "sales")
    assert code == 0
    assert "tags (sales) are not declared" in out
    assert "tags" not in _yaml(project / "agents" / "sales" / "agent.yaml")

    code, out, _ = cli("import", managed)  # slug from the managed tag
    assert code == 0, out
    assert _yaml(project / "agents" / "bot" / "agent.yaml")["tags"] == ["sales"]
    assert cli("plan", "--detailed-exitcode")[0] == 0


def test_knowledge_base_references_are_written_by_id(
    cli: Cli, create_agent: CreateAgent, api: httpx.Client, project: Path
) -> None:
    doc = api.post("/v1/convai/knowledge-base/text", json={"text": "Open 9-5.", "name": "hours"})
    locator = {"type": "text", "name": "hours", "id": doc.json()["id"], "usage_mode": "prompt"}
    body = template("default")
    body["conversation_config"]["agent"]["prompt"]["knowledge_base"] = [locator]
    agent_id = create_agent(body)

    assert cli("import", agent_id, "--slug", "kb")[0] == 0

    data = _yaml(project / "agents" / "kb" / "agent.yaml")
    assert data["knowledge_base"] == [
        {"id": locator["id"], "name": "hours", "usage_mode": "prompt"}
    ]
    assert "knowledge_base" not in data["conversation_config"]["agent"].get("prompt", {})
    assert cli("plan", "--detailed-exitcode")[0] == 0


def _test_body() -> dict[str, Any]:
    return {
        "type": "llm",
        "chat_history": [{"role": "user", "message": "When are you open?", "time_in_call_secs": 0}],
        "success_condition": 'The agent says "9-5".',
        "success_examples": [{"response": "We are open 9-5.", "type": "success"}],
    }


def _attach(api: httpx.Client, agent_id: str, names: list[str], body: dict[str, Any]) -> None:
    ids = [
        api.post("/v1/convai/agent-testing/create", json={**body, "name": name}).json()["id"]
        for name in names
    ]
    tests = [{"test_id": test_id} for test_id in ids]
    patch_agent(api, agent_id, {"platform_settings": {"testing": {"attached_tests": tests}}})


def test_tests_created_by_convai_ops_keep_their_content_addressed_name(
    cli: Cli, create_agent: CreateAgent, api: httpx.Client, project: Path
) -> None:
    body = _test_body()
    digest = hashlib.sha256(canonical_json(body)).hexdigest()[:8]
    agent_id = create_agent(template("minimal"))
    _attach(api, agent_id, [f"other-slug/opening-hours #{digest}", f"qa/Odd name! #{digest}"], body)

    code, out, _ = cli("import", agent_id, "--slug", "hours")

    assert code == 0, out
    folder = project / "agents" / "hours" / "tests"
    assert sorted(p.name for p in folder.iterdir()) == ["odd-name.yaml", "opening-hours.yaml"]
    written = _yaml(folder / "opening-hours.yaml")
    assert written["success_examples"] == ["We are open 9-5."]  # plain strings
    assert _yaml(folder / "odd-name.yaml")["name"] == "Odd name!"
    text = (folder / "opening-hours.yaml").read_text("utf-8")
    assert text.startswith(SCHEMA_HEADER["test"] + "\n")
    tests = load_project(project).agent("hours").tests
    assert {t.content_hash[:8] for t in tests} == {digest}


def test_a_test_made_elsewhere_is_imported_and_planned_as_replaced(
    cli: Cli, create_agent: CreateAgent, api: httpx.Client, project: Path
) -> None:
    agent_id = create_agent(template("minimal"))
    _attach(api, agent_id, ["Opening hours check"], _test_body())

    code, out, _ = cli("import", agent_id, "--slug", "hours")

    assert code == 0
    assert "was not created by convai-ops" in out
    test_file = project / "agents" / "hours" / "tests" / "opening-hours-check.yaml"
    assert _yaml(test_file)["name"] == "Opening hours check"
    code, out, _ = cli("plan", "--detailed-exitcode")
    assert code == 2
    assert "~ tests:" in out and "hours/Opening hours check #" in out


def test_apply_then_import_elsewhere_round_trips(
    cli: Cli, api: httpx.Client, project: Path
) -> None:
    """The example agents, applied by convai-ops, imported into a new repository: no changes."""
    live = apply_examples(cli, api, project)
    applied = {a.slug: len(a.tests) for a in load_project(project).agents}
    assert set(live) == set(applied) == {"assistant", "support"}
    shutil.rmtree(project / "agents")

    for slug, agent_id in live.items():
        code, out, err = cli("import", agent_id)  # the slug comes from the managed tag
        assert code == 0, out + err
        assert f"agents/{slug}/" in out
    code, out, _ = cli("plan", "--detailed-exitcode")
    assert code == 0, out
    imported = load_project(project)
    assert {a.slug: len(a.tests) for a in imported.agents} == applied
    support = imported.agent("support")
    assert support.tools == ("lookup_order",)  # by name, the tool file reused
    assert [t.tool_name for t in support.tests if t.type == "tool"] == ["lookup_order"]


def test_import_refuses_an_existing_folder_and_a_known_agent(
    cli: Cli, create_agent: CreateAgent
) -> None:
    agent_id = create_agent(template("minimal"))
    assert cli("import", agent_id, "--slug", "one")[0] == 0

    code, _, err = cli("import", agent_id, "--slug", "one")
    assert code == 1
    assert "agents/one/ already exists" in err and "convai-ops pull one" in err

    code, _, err = cli("import", agent_id, "--slug", "two")
    assert code == 1
    assert "already in the repository as 'one'" in err

    code, _, err = cli("import", agent_id, "--slug", "Bad Slug")
    assert code == 1 and "not a valid agent slug" in err


def test_import_of_an_unknown_agent_fails_cleanly(cli: Cli, project: Path) -> None:
    code, _, err = cli("import", "agent_doesnotexist")
    assert code == 1
    assert "404" in err
    assert not (project / "agents").exists()


def test_the_api_key_never_reaches_written_files_or_output(
    cli: Cli, create_agent: CreateAgent, project: Path
) -> None:
    agent_id = create_agent(template("assistant"))
    code, out, err = cli("--debug", "import", agent_id, "--slug", "a")
    assert code == 0, err
    assert KEY not in out + err
    for path in project.rglob("*"):
        if path.is_file():
            assert KEY not in path.read_text("utf-8"), path


def test_import_into_another_environment(
    cli: Cli, create_agent: CreateAgent, project: Path
) -> None:
    agent_id = create_agent(template("minimal"))
    assert cli("import", agent_id, "--env", "production", "--slug", "p")[0] == 0
    assert _yaml(project / "agents" / "p" / "agent.yaml")["environments"] == {
        "production": agent_id
    }
    code, out, _ = cli("plan", "--env", "production", "--detailed-exitcode")
    assert code == 0, out
    assert json.loads(cli("plan", "--format", "json")[1])["agents"][0]["action"] == "create"
