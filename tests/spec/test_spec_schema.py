"""The editor schemas: valid JSON Schema, filled from the OpenAPI document, accepting the files."""

from __future__ import annotations

from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from ruamel.yaml import YAML
from spec_helpers import SAMPLE

from convai_ops.spec import SCHEMA_HEADER, json_schema, openapi, write_schemas


@pytest.mark.parametrize("kind", ["project", "agent", "test"])
def test_schemas_are_valid_draft_2020_12(kind: str) -> None:
    schema = json_schema(kind)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_agent_schema_carries_the_api_schemas() -> None:
    schema = json_schema("agent")
    assert schema["properties"]["conversation_config"]["$ref"] == (
        "#/$defs/ConversationalConfigAPIModel-Input"
    )
    assert "AgentPlatformSettingsRequestModel" in schema["$defs"]
    refs = _refs(schema)
    assert refs and all(ref.startswith("#/$defs/") for ref in refs)
    assert {ref.removeprefix("#/$defs/") for ref in refs} <= set(schema["$defs"])


def _refs(node: object) -> set[str]:
    if isinstance(node, dict):
        own = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return own.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(item) for item in node))
    return set()


@pytest.mark.parametrize(
    ("kind", "file"),
    [
        ("project", "convai-ops.yaml"),
        ("agent", "agents/support/agent.yaml"),
        ("test", "agents/support/tests/refund.yaml"),
        ("test", "agents/support/tests/lookup.yaml"),
        ("test", "agents/support/tests/journey.yaml"),
    ],
)
def test_sample_files_satisfy_their_schema(kind: str, file: str) -> None:
    data = YAML(typ="safe").load(SAMPLE[file])
    Draft202012Validator(json_schema(kind)).validate(data)


def test_schema_flags_unknown_keys_for_editors() -> None:
    validator = Draft202012Validator(json_schema("agent"))
    assert not validator.is_valid({"name": "x", "conversation_config": {"agnt": {}}})
    assert not validator.is_valid({"name": "x", "environments": {"bad name": "a"}})


def test_json_schema_returns_a_copy() -> None:
    json_schema("agent")["properties"].clear()
    assert "name" in json_schema("agent")["properties"]


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown schema kind"):
        json_schema("widget")


def test_headers_point_at_the_written_schemas(tmp_path: Path) -> None:
    written = write_schemas(tmp_path)
    assert [path.name for path in written] == [
        "project.schema.json",
        "agent.schema.json",
        "test.schema.json",
        "tool.schema.json",
    ]
    places = {
        "project": tmp_path,
        "agent": tmp_path / "agents" / "x",
        "test": tmp_path / "agents" / "x" / "tests",
        "tool": tmp_path / "tools",
    }
    for kind, folder in places.items():
        header = SCHEMA_HEADER[kind]
        assert header.startswith("# yaml-language-server: $schema=")
        target = (folder / header.split("$schema=")[1]).resolve()
        assert target == (tmp_path / ".convai-ops/schema" / f"{kind}.schema.json").resolve()


def test_properties_of_looks_through_combinators() -> None:
    prompt = openapi.component("PromptAgentAPIModel-Input")
    assert "temperature" in (openapi.properties_of(prompt) or {})
    tools = openapi.items_of(openapi.value_schema(prompt, "tools"))
    system = openapi.properties_of(tools, {"type": "system"}) or {}
    assert "params" in system and "api_schema" not in system
    assert openapi.properties_of({"type": "object", "additionalProperties": True}) is None
    custom_llm = openapi.value_schema(prompt, "custom_llm")
    assert "url" in (openapi.properties_of(custom_llm) or {})
