"""Real agent configurations (the official CLI's templates) load without a complaint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from convai_ops.spec import SCHEMA_HEADER, dump_yaml, load_project

TEMPLATES = sorted((Path(__file__).parents[1] / "fixtures" / "agent-templates").glob("*.json"))


def test_the_six_templates_are_there() -> None:
    assert len(TEMPLATES) == 6


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.stem)
def test_template_round_trips(template: Path, tmp_path: Path) -> None:
    body = json.loads(template.read_text("utf-8"))
    agent = {
        "name": body["name"],
        "tags": body.get("tags", []),
        "conversation_config": body["conversation_config"],
        "platform_settings": body["platform_settings"],
    }
    dump_yaml(agent, tmp_path / "agents" / "sample" / "agent.yaml", header=SCHEMA_HEADER["agent"])

    desired = load_project(tmp_path).agent("sample").desired(None)

    assert desired["conversation_config"] == body["conversation_config"]
    settings = {k: v for k, v in body["platform_settings"].items() if k not in ("ban", "safety")}
    assert desired["platform_settings"] == settings
    assert desired["name"] == body["name"]
