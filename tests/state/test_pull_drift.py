"""``drift`` after a dashboard edit, then ``pull``: only the edited lines change, comments stay."""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from .helpers import Cli, apply_examples, patch_agent, template

CreateAgent = Callable[[dict[str, Any]], str]
PROMPT = "You are Ava, the support agent of Acme.\nRefunds are accepted within 30 days.\nBe brief."


def _changed_lines(before: str, after: str) -> list[str]:
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and not line.startswith(("---", "+++"))]


@pytest.fixture
def imported(cli: Cli, create_agent: CreateAgent, project: Path) -> tuple[str, Path]:
    """An agent (multi-line prompt) imported as ``support``, with comments the user added."""
    body = template("customer-service")
    body["conversation_config"]["agent"]["prompt"]["prompt"] = PROMPT
    agent_id = create_agent(body)
    assert cli("import", agent_id, "--slug", "support")[0] == 0
    path = project / "agents" / "support" / "agent.yaml"
    text = path.read_text("utf-8")
    text = text.replace("name: Example\n", "# Acme's support line.\nname: Example  # dashboard\n")
    text = text.replace("    language: en\n", "    # callers speak English\n    language: en\n")
    path.write_text(text, "utf-8")
    return agent_id, path.parent


def test_first_message_edit_is_drift_and_pull_changes_only_that_line(
    cli: Cli, api: httpx.Client, imported: tuple[str, Path]
) -> None:
    agent_id, folder = imported
    before = (folder / "agent.yaml").read_text("utf-8")
    prompt_before = (folder / "prompt.md").stat().st_mtime_ns
    patch_agent(
        api, agent_id, {"conversation_config": {"agent": {"first_message": "Hello from Acme"}}}
    )

    code, out, _ = cli("drift")
    assert code == 2, out
    assert "~ support" in out
    assert '~ conversation_config.agent.first_message: live "Hello from Acme", repository ""' in out
    assert "convai-ops pull support" in out

    code, out, _ = cli("pull")
    assert code == 0, out
    assert "~ conversation_config.agent.first_message" in out
    after = (folder / "agent.yaml").read_text("utf-8")
    assert _changed_lines(before, after) == [
        "-    first_message: ''",
        "+    first_message: 'Hello from Acme'",  # the quoting style is kept
    ]
    assert "# Acme's support line.\nname: Example  # dashboard\n" in after
    assert "    # callers speak English\n    language: en\n" in after
    assert (folder / "prompt.md").stat().st_mtime_ns == prompt_before

    assert cli("drift")[0] == 0
    code, out, _ = cli("plan", "--detailed-exitcode")
    assert code == 0, out


def test_prompt_line_edit_is_drift_and_pull_rewrites_only_that_line(
    cli: Cli, api: httpx.Client, imported: tuple[str, Path]
) -> None:
    agent_id, folder = imported
    agent_yaml = (folder / "agent.yaml").read_text("utf-8")
    edited = PROMPT.replace("30 days", "14 days")
    patch_agent(api, agent_id, {"conversation_config": {"agent": {"prompt": {"prompt": edited}}}})

    code, out, _ = cli("drift")
    assert code == 2
    assert "~ conversation_config.agent.prompt.prompt: (- repository, + live)" in out
    assert "- Refunds are accepted within 30 days." in out
    assert "+ Refunds are accepted within 14 days." in out

    before = (folder / "prompt.md").read_text("utf-8")
    code, out, _ = cli("pull", "support")
    assert code == 0
    assert "~ conversation_config.agent.prompt.prompt (prompt.md)" in out
    after = (folder / "prompt.md").read_text("utf-8")
    assert _changed_lines(before, after) == [
        "-Refunds are accepted within 30 days.",
        "+Refunds are accepted within 14 days.",
    ]
    assert (folder / "agent.yaml").read_text("utf-8") == agent_yaml
    assert cli("drift")[0] == 0
    assert cli("plan", "--detailed-exitcode")[0] == 0


def test_pull_without_drift_touches_nothing(cli: Cli, imported: tuple[str, Path]) -> None:
    _, folder = imported
    stamps = {p: p.stat().st_mtime_ns for p in folder.rglob("*")}

    code, out, _ = cli("pull")

    assert code == 0
    assert "= support (" in out and "up to date" in out
    assert {p: p.stat().st_mtime_ns for p in folder.rglob("*")} == stamps


def test_drift_json(cli: Cli, api: httpx.Client, imported: tuple[str, Path]) -> None:
    agent_id, _ = imported
    patch_agent(api, agent_id, {"conversation_config": {"tts": {"voice_id": "other-voice"}}})

    code, out, _ = cli("drift", "--format", "json")

    assert code == 2
    report = json.loads(out)
    assert report["format_version"] == 1 and report["has_drift"] is True
    assert report["environment"] == "staging"
    assert report["agents"] == [
        {
            "slug": "support",
            "agent_id": agent_id,
            "version_id": report["agents"][0]["version_id"],
            "status": "drift",
            "applied_commit": None,
            "note": "not in a git repository",
            "untested": None,  # main's last merge was not a --skip-tests one
            "fields": [
                {
                    "field": "conversation_config.tts.voice_id",
                    "live": "other-voice",
                    "repository": "cjVigY5qzO86Huf0OWal",
                    "kind": "changed",
                }
            ],
            "not_applied": [],
        }
    ]
    assert report["has_unapplied"] is False
    assert report["summary"] == {"agents": 1, "drifted": 1, "fields": 1, "not_applied": 0}


def test_pull_writes_into_the_environment_override(
    cli: Cli, api: httpx.Client, imported: tuple[str, Path]
) -> None:
    agent_id, folder = imported
    path = folder / "agent.yaml"
    override = (
        "overrides:\n  staging:\n    conversation_config:\n      agent:\n"
        "        first_message: Staging line.\n"
    )
    path.write_text(path.read_text("utf-8") + override, "utf-8")
    patch_agent(
        api, agent_id, {"conversation_config": {"agent": {"first_message": "Staging line."}}}
    )
    assert cli("drift")[0] == 0
    patch_agent(api, agent_id, {"conversation_config": {"agent": {"first_message": "New line."}}})
    before = path.read_text("utf-8")

    assert cli("pull")[0] == 0

    assert _changed_lines(before, path.read_text("utf-8")) == [
        "-        first_message: Staging line.",
        "+        first_message: New line.",
    ]
    assert cli("drift")[0] == 0


def test_ignored_fields_are_neither_drift_nor_pulled(
    cli: Cli, api: httpx.Client, imported: tuple[str, Path]
) -> None:
    agent_id, folder = imported
    path = folder / "agent.yaml"
    path.write_text(path.read_text("utf-8") + "ignore: [/conversation_config/tts/voice_id]\n")
    patch_agent(api, agent_id, {"conversation_config": {"tts": {"voice_id": "other-voice"}}})
    before = path.read_text("utf-8")

    assert cli("drift")[0] == 0
    assert cli("pull")[0] == 0
    assert path.read_text("utf-8") == before


def test_pull_adopts_name_tags_documents_and_tests(
    cli: Cli, api: httpx.Client, create_agent: CreateAgent, project: Path
) -> None:
    agent_id = create_agent({**template("minimal"), "tags": ["convai-ops:bot", "a"]})
    assert cli("import", agent_id)[0] == 0
    folder = project / "agents" / "bot"
    doc = api.post("/v1/convai/knowledge-base/text", json={"text": "Open 9-5.", "name": "hours"})
    test = {"type": "llm", "success_condition": 'Says "hello".', "name": "Greeting"}
    test_id = api.post("/v1/convai/agent-testing/create", json=test).json()["id"]
    locator = {"type": "text", "name": "hours", "id": doc.json()["id"]}
    patch_agent(
        api,
        agent_id,
        {
            "name": "Bot 2",
            "tags": ["convai-ops:bot", "a", "b"],
            "conversation_config": {"agent": {"prompt": {"knowledge_base": [locator]}}},
            "platform_settings": {"testing": {"attached_tests": [{"test_id": test_id}]}},
        },
    )
    code, out, _ = cli("drift")
    assert code == 2 and '~ name: live "Bot 2", repository "Example"' in out

    code, out, _ = cli("pull", "bot")

    assert code == 0, out
    text = (folder / "agent.yaml").read_text("utf-8")
    assert "name: Bot 2\n" in text and "tags:\n  - a\n  - b\n" in text
    assert f"  - id: {doc.json()['id']}\n    name: hours\n" in text
    assert (folder / "tests" / "Greeting.yaml").is_file()
    assert "was not created by convai-ops" in out
    code, out, _ = cli("plan", "--detailed-exitcode")
    assert code == 2  # the dashboard's test is replaced by the repository's copy on apply
    changed = [line.split(":")[0].strip() for line in out.splitlines() if line.startswith("    ~ ")]
    assert changed == ["~ tests"]


def test_pull_adds_a_document_attached_on_the_dashboard(
    cli: Cli, api: httpx.Client, project: Path
) -> None:
    agent_id = apply_examples(cli, api, project)["assistant"]
    live = api.get(f"/v1/convai/agents/{agent_id}").json()
    locators = live["conversation_config"]["agent"]["prompt"]["knowledge_base"]
    doc = api.post("/v1/convai/knowledge-base/text", json={"text": "Lunch 12-1.", "name": "lunch"})
    extra = {"type": "text", "name": "lunch", "id": doc.json()["id"], "usage_mode": "prompt"}
    change = {"agent": {"prompt": {"knowledge_base": [*locators, extra]}}}
    patch_agent(api, agent_id, {"conversation_config": change})
    path = project / "agents" / "assistant" / "agent.yaml"
    before = path.read_text("utf-8")

    assert cli("drift")[0] == 2
    assert cli("pull", "assistant")[0] == 0

    added = f"knowledge_base:\n  - id: {extra['id']}\n    name: lunch\n    usage_mode: prompt\n"
    assert path.read_text("utf-8") == before + added
    assert cli("drift")[0] == 0


def test_pull_keeps_files_the_live_agent_no_longer_uses(
    cli: Cli, api: httpx.Client, project: Path
) -> None:
    ids = apply_examples(cli, api, project)
    patch_agent(api, ids["support"], {"platform_settings": {"testing": {"attached_tests": []}}})
    empty: dict[str, Any] = {"agent": {"prompt": {"knowledge_base": []}}}
    patch_agent(api, ids["assistant"], {"conversation_config": empty})
    stamps = {p: p.stat().st_mtime_ns for p in (project / "agents").rglob("*")}

    code, out, _ = cli("pull")

    assert code == 0
    assert "tests/refund-window.yaml: not attached to the live agent" in out
    assert "knowledge/parking.md: not attached to the live agent" in out
    assert {p: p.stat().st_mtime_ns for p in (project / "agents").rglob("*")} == stamps
    assert cli("drift")[0] == 2  # what pull could not adopt is still drift


def test_agents_not_created_yet_are_skipped(cli: Cli, project: Path) -> None:
    folder = project / "agents" / "fresh"
    folder.mkdir(parents=True)
    (folder / "agent.yaml").write_text("name: Fresh\n")

    code, out, _ = cli("drift")
    assert code == 0
    assert "fresh: not created in 'staging' yet (skipped)" in out
    code, out, _ = cli("pull")
    assert code == 0 and "fresh: skipped" in out


def test_unknown_agent_and_unknown_slug_are_errors(cli: Cli, project: Path) -> None:
    folder = project / "agents" / "gone"
    folder.mkdir(parents=True)
    (folder / "agent.yaml").write_text("name: Gone\nenvironments: {staging: agent_missing}\n")

    code, _, err = cli("drift")
    assert code == 1 and f"{folder / 'agent.yaml'}:2:" in err
    assert "'agent_missing' does not exist in environment 'staging'" in err
    code, _, err = cli("pull", "nope")
    assert code == 1 and "unknown agent nope" in err
