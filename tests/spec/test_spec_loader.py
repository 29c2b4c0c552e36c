"""load_project on a valid project: what the models hold and what desired() gives."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from spec_helpers import SAMPLE, write_tree

from convai_ops.errors import SpecError, UsageError
from convai_ops.spec import Project, load_config, load_project


@pytest.fixture
def project(sample: Path) -> Project:
    return load_project(sample)


def _plain_only(value: Any) -> bool:
    if isinstance(value, dict):
        return type(value) is dict and all(
            type(k) is str and _plain_only(v) for k, v in value.items()
        )
    if isinstance(value, list):
        return type(value) is list and all(_plain_only(item) for item in value)
    return type(value) in (str, int, float, bool, type(None))


def test_config_is_read(project: Project) -> None:
    config = project.config
    assert config.default_environment == "staging"
    assert list(config.environments) == ["staging", "production"]
    assert config.environments["staging"].api_key_env == "ELEVENLABS_API_KEY"
    assert config.environments["production"].api_key_env == "ELEVENLABS_API_KEY_PROD"
    assert config.environments["production"].base_url == "https://api.elevenlabs.io"
    assert config.ignore == ("/conversation_config/tts/voice_id",)
    assert config.concurrency == 4


def test_missing_config_file_gives_defaults(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config.environments == {}
    assert config.default_environment is None
    assert config.ignore == ()


def test_agents_are_sorted_by_slug(project: Project) -> None:
    assert [agent.slug for agent in project.agents] == ["billing", "support"]


def test_desired_inlines_prompt_and_keeps_declared_fields_only(project: Project) -> None:
    desired = project.agent("support").desired(None)
    assert desired == {
        "name": "Acme Support",
        "tags": ["support", "tier-1"],
        "conversation_config": {
            "agent": {
                "first_message": "Hi, this is Acme support.",
                "language": "en",
                "prompt": {
                    "llm": "gemini-2.5-flash",
                    "temperature": 0,
                    "prompt": "You are Acme's support agent.\nBe brief.",
                },
            },
            "tts": {"stability": 0.5},
        },
        "platform_settings": {"call_limits": {"daily_limit": 1000}},
    }
    assert _plain_only(desired)


def test_desired_merges_the_environments_override(project: Project) -> None:
    support = project.agent("support")
    production = support.desired("production")
    assert production["conversation_config"]["agent"]["prompt"]["temperature"] == 0.3
    assert production["conversation_config"]["agent"]["prompt"]["llm"] == "gemini-2.5-flash"
    assert production["conversation_config"]["tts"] == {"stability": 0.5}
    assert production["tags"] == ["support"]  # lists are replaced, not merged
    assert support.desired("staging") == support.desired(None)


def test_undeclared_fields_are_not_managed(project: Project) -> None:
    billing = project.agent("billing")
    assert billing.desired("production") == {
        "name": "Billing",
        "conversation_config": {"agent": {"first_message": "Hello"}},
        "platform_settings": {},
    }
    assert billing.tags is None and billing.tools is None
    assert billing.knowledge == () and billing.tests == ()


def test_desired_returns_a_copy(project: Project) -> None:
    support = project.agent("support")
    support.desired("production")["conversation_config"]["agent"]["language"] = "de"
    assert support.desired("production")["conversation_config"]["agent"]["language"] == "en"


def test_models_are_frozen(project: Project) -> None:
    with pytest.raises(ValidationError):
        project.agent("support").name = "Other"  # type: ignore[misc]


def test_agent_ids_per_environment(project: Project) -> None:
    support = project.agent("support")
    assert support.agent_id("staging") == "agent_s1"
    assert support.agent_id("production") == "agent_p1"
    assert support.agent_id("dev") is None
    assert project.agent("billing").agent_id("staging") is None


def test_unknown_agent_suggests_a_slug(project: Project) -> None:
    with pytest.raises(UsageError, match="did you mean 'support'"):
        project.agent("suport")


def test_agent_fields(project: Project) -> None:
    support = project.agent("support")
    assert support.dir == project.root / "agents" / "support"
    assert support.path == support.dir / "agent.yaml"
    assert support.prompt_file == support.dir / "prompt.md"
    assert support.tools == ("lookup_order",)
    assert support.ignore == ("/platform_settings/widget",)
    assert support.overrides == {
        "production": {
            "tags": ["support"],
            "conversation_config": {"agent": {"prompt": {"temperature": 0.3}}},
        }
    }
    assert _plain_only(support.conversation_config) and _plain_only(support.overrides)


def test_knowledge_entries_then_knowledge_files(project: Project) -> None:
    support = project.agent("support")
    kinds = [(k.kind, k.name, k.usage_mode) for k in support.knowledge]
    assert kinds == [
        ("file", "refunds.md", "prompt"),
        ("url", "https://acme.example/terms", "auto"),
        ("id", "Terms", "auto"),
        ("file", "shipping.md", "auto"),
    ]
    refunds = support.knowledge[0]
    assert refunds.path == support.dir / "knowledge" / "refunds.md"
    assert refunds.content_hash == hashlib.sha256(b"Refunds within 30 days.\n").hexdigest()
    assert support.knowledge[2].id == "doc_abc123" and support.knowledge[2].content_hash is None


def test_tests_are_read_with_their_options(project: Project) -> None:
    tests = {test.name: test for test in project.agent("support").tests}
    assert set(tests) == {"refund", "looks up the order", "journey"}
    refund = tests["refund"]
    assert (refund.type, refund.repeat, refund.min_pass) == ("llm", 3, 2)
    assert refund.body["type"] == "llm"
    assert "name" not in refund.body and "repeat" not in refund.body
    assert refund.body["success_examples"] == [
        {"response": "Yes, within 30 days.", "type": "success"}
    ]
    assert refund.body["failure_examples"] == [
        {"response": "No refunds, sorry.", "type": "failure"}
    ]
    assert (tests["journey"].type, tests["journey"].min_pass) == ("simulation", 1)
    assert tests["looks up the order"].type == "tool"


def test_test_content_hash_follows_the_body(sample: Path) -> None:
    before = {t.name: t.content_hash for t in load_project(sample).agent("support").tests}
    assert all(len(value) == 12 for value in before.values())
    refund = sample / "agents/support/tests/refund.yaml"
    refund.write_text(refund.read_text().replace("repeat: 3", "repeat: 4"))
    same = {t.name: t.content_hash for t in load_project(sample).agent("support").tests}
    assert same == before  # repeat is not part of the API body
    refund.write_text(refund.read_text().replace("30 day", "thirty day"))
    after = {t.name: t.content_hash for t in load_project(sample).agent("support").tests}
    assert after["refund"] != before["refund"]
    assert after["journey"] == before["journey"]


def test_read_only_platform_settings_are_accepted_and_left_out(sample: Path) -> None:
    agent_yaml = sample / "agents/billing/agent.yaml"
    agent_yaml.write_text(
        "name: Billing\nplatform_settings:\n  ban: null\n"
        "  safety: {ignore_safety_evaluation: false}\n  call_limits: {daily_limit: 5}\n"
    )
    desired = load_project(sample).agent("billing").desired(None)
    assert desired["platform_settings"] == {"call_limits": {"daily_limit": 5}}


def test_dates_stay_strings(sample: Path) -> None:
    (sample / "agents/billing/agent.yaml").write_text(
        "name: Billing\nconversation_config: {agent: {first_message: 2024-01-01}}\n"
    )
    desired = load_project(sample).agent("billing").desired(None)
    assert desired["conversation_config"]["agent"]["first_message"] == "2024-01-01"


def test_project_root_must_exist(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="project folder not found"):
        load_project(tmp_path / "nowhere")


def test_folders_without_agent_yaml_are_skipped(sample: Path) -> None:
    (sample / "agents" / "_shared").mkdir()
    (sample / "agents" / "README.md").write_text("notes")
    assert [agent.slug for agent in load_project(sample).agents] == ["billing", "support"]


def test_agent_yml_is_pointed_out(sample: Path) -> None:
    write_tree(sample, {"agents/sales/agent.yml": "name: Sales\n"})
    with pytest.raises(SpecError, match=r"rename this file to agent\.yaml"):
        load_project(sample)


def test_many_agents_all_load(tmp_path: Path) -> None:
    files = {"convai-ops.yaml": SAMPLE["convai-ops.yaml"]}
    files["tools/lookup_order.yaml"] = SAMPLE["tools/lookup_order.yaml"]
    for index in range(150):
        for name, text in SAMPLE.items():
            if name.startswith("agents/support/"):
                text = text.replace("agent_s1", f"s{index}").replace("agent_p1", f"p{index}")
                files[name.replace("/support/", f"/agent-{index:03d}/")] = text
    write_tree(tmp_path, files)
    agents = load_project(tmp_path).agents
    assert [a.slug for a in agents] == [f"agent-{i:03d}" for i in range(150)]
    assert {a.agent_id("staging") for a in agents} == {f"s{i}" for i in range(150)}


def test_knowledge_file_outside_the_knowledge_folder(sample: Path) -> None:
    write_tree(
        sample,
        {
            "agents/billing/docs/faq.md": "FAQ\n",
            "agents/billing/agent.yaml": "name: Billing\nknowledge_base:\n"
            "  - {file: docs/faq.md, name: FAQ, usage_mode: prompt}\n",
        },
    )
    (faq,) = load_project(sample).agent("billing").knowledge
    assert (faq.kind, faq.name, faq.usage_mode) == ("file", "FAQ", "prompt")
    assert faq.path == sample / "agents/billing/docs/faq.md"


def test_test_hash_ignores_key_order_and_formatting(sample: Path) -> None:
    write_tree(
        sample,
        {
            "agents/billing/tests/a.yaml": "success_condition: ok\nchat_history: []\n",
            "agents/billing/tests/b.yaml": "# same test\nchat_history: [ ]\ntype: llm\n"
            "success_condition: 'ok'\nrepeat: 5\n",
        },
    )
    first, second = load_project(sample).agent("billing").tests
    assert first.content_hash == second.content_hash
    assert (first.name, second.name) == ("a", "b")


@pytest.mark.parametrize(
    ("name", "size", "message"),
    [
        ("diagram.png", 10, "diagram.png: the knowledge base does not take this file type"),
        ("big.pdf", 21_000_001, "big.pdf is 21000001 bytes: the knowledge base takes at most 21"),
    ],
)
def test_knowledge_files_the_api_refuses_are_refused_at_load(
    tmp_path: Path, name: str, size: int, message: str
) -> None:
    folder = tmp_path / "agents" / "support" / "knowledge"
    folder.mkdir(parents=True)
    (folder.parent / "agent.yaml").write_text("name: Support\n")
    with (folder / name).open("wb") as handle:
        handle.truncate(size)
    with pytest.raises(SpecError, match=re.escape(message)):
        load_project(tmp_path)
    (folder / name).unlink()
    (folder / "ok.pdf").write_bytes(b"%PDF")
    assert [k.name for k in load_project(tmp_path).agent("support").knowledge] == ["ok.pdf"]
