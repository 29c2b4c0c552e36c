"""The file formats (convai-ops.yaml, agent.yaml, tests/*.yaml) as JSON Schemas.

The pydantic models here describe each file's own keys; :func:`json_schema` fills
``conversation_config`` / ``platform_settings`` and the test bodies from the API's OpenAPI
components, so one schema serves both validation (see ``convai_ops.spec.validate``) and editor
completion (``# yaml-language-server: $schema=...``, see :data:`SCHEMA_HEADER`).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from convai_ops.canary.config import CanaryFile
from convai_ops.spec import openapi
from convai_ops.spec.limits import add_stated_ranges

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

__all__ = [
    "PATTERN_HINTS",
    "READ_ONLY_SETTINGS",
    "SCHEMA_DIR",
    "SCHEMA_HEADER",
    "SCHEMA_KINDS",
    "TEST_TYPES",
    "AgentFile",
    "EnvironmentFile",
    "KnowledgeEntry",
    "OverrideFile",
    "ProjectFile",
    "TestOptions",
    "json_schema",
    "schema_of",
    "validator",
    "write_schemas",
]

Schema = dict[str, Any]

SCHEMA_KINDS = ("project", "agent", "test", "tool")
SCHEMA_DIR = ".convai-ops/schema"
_HEADER = "# yaml-language-server: $schema={}" + SCHEMA_DIR + "/{}.schema.json"
SCHEMA_HEADER: Mapping[str, str] = MappingProxyType(
    {
        "project": _HEADER.format("", "project"),
        "agent": _HEADER.format("../../", "agent"),
        "test": _HEADER.format("../../../", "test"),
        "tool": _HEADER.format("../", "tool"),
    }
)
"""The first line of each kind of file, pointing editors at the schema written by
:func:`write_schemas` (paths relative to the file's standard place in the repository)."""

TEST_TYPES: Mapping[str, str] = MappingProxyType(
    {
        "llm": "CreateResponseUnitTestRequest",
        "tool": "CreateToolCallUnitTestRequest",
        "simulation": "CreateSimulationTestRequest",
    }
)
"""Test ``type`` -> the OpenAPI component of its create-test request body."""

_CONVERSATION_CONFIG = "ConversationalConfigAPIModel-Input"
_TOOL_REQUEST = "ToolRequestModel"
_PLATFORM_SETTINGS = "AgentPlatformSettingsRequestModel"
_WORKFLOW = "AgentWorkflowRequestModel"
_MARK = "x-convai-ops-openapi"

READ_ONLY_SETTINGS = ("ban", "safety")
"""``platform_settings`` keys the API reports but does not accept (the official CLI's templates
carry them): accepted in agent.yaml, left out of the desired state."""

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
_POINTER = r"^(/([^~/]|~[01])*)+$"
_URL = r"^https?://\S+$"
_BASE_URL = r"^https?://"
_VARIABLE = r"^[A-Za-z_][A-Za-z0-9_]*$"
_SLUG = r"^[a-z0-9][a-z0-9_-]*$"
PATTERN_HINTS: Mapping[str, str] = MappingProxyType(
    {
        _NAME: "is not a valid name (letters, digits, '.', '-', '_')",
        _POINTER: "is not a JSON pointer (like /platform_settings/widget)",
        _URL: "is not an http(s) URL",
        _BASE_URL: "is not an http(s) URL",
        _VARIABLE: "is not an environment variable name",
        _SLUG: "is not an agent slug (lowercase letters, digits, '-', '_')",
        r"^[a-zA-Z0-9_-]{1,64}$": "is not a tool name (letters, digits, '_', '-'; 1-64)",
    }
)
"""What a value failing one of the file formats' patterns is told."""

Name = Annotated[str, StringConstraints(pattern=_NAME)]
Slug = Annotated[str, StringConstraints(pattern=_SLUG)]
JsonPointer = Annotated[str, StringConstraints(pattern=_POINTER)]
Text = Annotated[str, StringConstraints(min_length=1)]


class _FileModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _api(component: str, description: str) -> Any:
    return Field(
        default_factory=dict,
        description=description,
        json_schema_extra={_MARK: component},
    )


class EnvironmentFile(_FileModel):
    """One entry of ``environments:`` in convai-ops.yaml."""

    base_url: str | None = Field(None, pattern=_BASE_URL, description="API base URL.")
    api_key_env: str = Field(
        "ELEVENLABS_API_KEY",
        pattern=_VARIABLE,
        description="Environment variable holding the API key.",
    )
    canary: CanaryFile | None = Field(
        None, description="Canary on live traffic before each merge (convai_ops.canary.config)."
    )


class ProjectFile(_FileModel):
    """convai-ops.yaml: every key optional."""

    version: Literal[1] = 1
    default_environment: Name | None = None
    environments: dict[Name, EnvironmentFile] = Field(default_factory=dict)
    concurrency: int | None = Field(None, ge=1, le=64)
    ignore: list[JsonPointer] = Field(
        default_factory=list, description="JSON pointers skipped when diffing, for every agent."
    )
    require_tests: bool = Field(
        True,
        description="apply merges an agent's change only when the agent has tests (else its "
        "gate would pass vacuously); false merges agents without tests (UNTESTED).",
    )
    prune: bool = Field(
        False,
        description="apply deletes managed agents that have no folder (orphans), after asking; "
        "as `apply --prune`.",
    )


class KnowledgeEntry(_FileModel):
    """One ``knowledge_base:`` entry: exactly one of ``file``, ``url``, ``id``."""

    file: str | None = Field(None, min_length=1, description="Path inside the agent folder.")
    url: str | None = Field(None, pattern=_URL)
    id: str | None = Field(None, min_length=1, description="An existing document's id.")
    name: str | None = Field(None, min_length=1)
    usage_mode: Literal["auto", "prompt"] | None = None


class OverrideFile(_FileModel):
    """A per-environment patch, deep-merged over the agent (dicts merged, lists replaced)."""

    name: str | None = Field(None, min_length=1)
    tags: list[str] | None = None
    conversation_config: dict[str, Any] = _api(_CONVERSATION_CONFIG, "Merged over the agent's.")
    platform_settings: dict[str, Any] = _api(_PLATFORM_SETTINGS, "Merged over the agent's.")


class AgentFile(_FileModel):
    """agents/<slug>/agent.yaml."""

    name: str = Field(min_length=1)
    tags: list[str] | None = None
    environments: dict[Name, Text] = Field(
        default_factory=dict, description="Agent id per environment."
    )
    previous_slugs: list[Slug] = Field(
        default_factory=list,
        description="Folder names this agent had before (written by `convai-ops mv`): a live "
        "agent tagged convai-ops:<previous slug> is this agent, re-tagged by the next apply.",
    )
    prompt_file: str | None = Field(
        None, min_length=1, description="Inlined at conversation_config.agent.prompt.prompt."
    )
    conversation_config: dict[str, Any] = _api(_CONVERSATION_CONFIG, "Declared fields only.")
    platform_settings: dict[str, Any] = _api(_PLATFORM_SETTINGS, "Declared fields only.")
    workflow: dict[str, Any] | None = Field(
        None,
        description="The workflow graph (nodes and edges), versioned with the agent; replaced "
        "whole on every write.",
        json_schema_extra={_MARK: _WORKFLOW},
    )
    knowledge_base: list[KnowledgeEntry] = Field(default_factory=list)
    tools: list[Text] | None = Field(
        None, description="Names of the workspace tools the agent uses (tools/<name>.yaml)."
    )
    overrides: dict[Name, OverrideFile] = Field(default_factory=dict)
    ignore: list[JsonPointer] = Field(default_factory=list)
    require_tests: bool | None = Field(
        None,
        description="This agent's own require_tests (default: convai-ops.yaml's): false lets "
        "apply merge it without tests (UNTESTED).",
    )


class TestOptions(_FileModel):
    """The keys a test file adds to the API's create-test body."""

    __test__ = False  # not a pytest test class

    name: str | None = Field(None, min_length=1, description="Default: the file name.")
    repeat: int = Field(1, ge=1, le=50, description="Runs per test.")
    min_pass: int | None = Field(None, ge=1, le=50, description="Passes needed (default: all).")


def json_schema(kind: str) -> Schema:
    """A draft 2020-12 JSON Schema for ``kind`` in ``SCHEMA_KINDS`` (a fresh copy).

    Raises ``ValueError`` for another kind.
    """
    if kind not in SCHEMA_KINDS:
        raise ValueError(f"unknown schema kind {kind!r} (expected one of {SCHEMA_KINDS})")
    return copy.deepcopy(_schema(kind))


def validator(kind: str) -> Draft202012Validator:
    """The compiled validator for ``kind`` (``project``, ``agent`` or ``test:<type>``), cached."""
    return _validator(kind)


def schema_of(kind: str) -> Schema:
    """The schema behind :func:`validator` (shared: do not modify)."""
    return _schema(kind)


@cache
def _validator(kind: str) -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(_schema(kind))


@cache
def _schema(kind: str) -> Schema:
    if kind == "project":
        return _standalone(ProjectFile.model_json_schema(), {}, "convai-ops.yaml")
    if kind == "agent":
        return _agent_schema()
    if kind == "test":
        return _test_schema()
    if kind == "tool":
        return _tool_schema()
    variant = kind.removeprefix("test:")
    defs: Schema = _test_schema()["$defs"]
    return {"$ref": f"#/$defs/{_variant_name(variant)}", "$defs": defs}


def _standalone(model: Schema, api_defs: dict[str, Schema], title: str) -> Schema:
    own = model.pop("$defs", {})
    for definition in (model, *own.values()):
        _close_patterns(definition)
    clash = own.keys() & api_defs.keys()
    if clash:
        raise RuntimeError(f"schema names clash with the API's: {sorted(clash)}")
    schema: Schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **model}
    schema["title"] = title
    schema["$defs"] = {**own, **api_defs}
    filled: Schema = _fill_markers(schema)
    return filled


def _close_patterns(model: Schema) -> None:
    """Refuse keys that miss a ``dict[Name, ...]`` key pattern (pydantic leaves them open)."""
    for prop in model.get("properties", {}).values():
        for sub in (prop, *prop.get("anyOf", ())):
            if "patternProperties" in sub and "additionalProperties" not in sub:
                sub["additionalProperties"] = False


def _closed(defs: dict[str, Schema]) -> dict[str, Schema]:
    """Mark API objects closed: the API silently drops keys it does not know."""
    for schema in defs.values():
        if "properties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
    return defs


def _fill_markers(node: Any) -> Any:
    if isinstance(node, dict):
        if _MARK in node:
            return {"$ref": f"#/$defs/{node[_MARK]}", "description": node.get("description", "")}
        return {key: _fill_markers(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_fill_markers(item) for item in node]
    return node


def _agent_schema() -> Schema:
    defs = _closed(
        openapi.bundle([_CONVERSATION_CONFIG, _PLATFORM_SETTINGS, _WORKFLOW, "SafetyResponseModel"])
    )
    settings = defs[_PLATFORM_SETTINGS]["properties"]
    note = "Read-only: reported by the API, not accepted on update; ignored by convai-ops."
    settings["safety"] = {
        "$ref": "#/$defs/SafetyResponseModel",
        "readOnly": True,
        "description": note,
    }
    settings["ban"] = {"readOnly": True, "description": note}
    add_stated_ranges(defs)
    return _standalone(AgentFile.model_json_schema(), defs, "agent.yaml")


def _tool_schema() -> Schema:
    """tools/<name>.yaml: the create-tool request body (``tool_config`` and ``response_mocks``)."""
    defs = _closed(openapi.bundle([_TOOL_REQUEST]))
    return _standalone({"$ref": f"#/$defs/{_TOOL_REQUEST}"}, defs, "tools/<name>.yaml")


def _variant_name(test_type: str) -> str:
    return f"{test_type.capitalize()}TestFile"


def _test_schema() -> Schema:
    defs = _closed(openapi.bundle(list(TEST_TYPES.values())))
    options = TestOptions.model_json_schema()["properties"]
    for test_type, component in TEST_TYPES.items():
        defs[_variant_name(test_type)] = _test_variant(test_type, defs[component], options)
    _name_tools(defs)
    variants = [{"$ref": f"#/$defs/{_variant_name(t)}"} for t in TEST_TYPES]
    model = {"type": "object", "anyOf": variants}
    return _standalone(model, defs, "test")


_TOOL_CALL = "UnitTestToolCallEvaluationModel-Input"
_TOOL_CALL_FILE = "ToolCallEvaluationFile"
_TOOL_NAME = r"^[a-zA-Z0-9_-]{1,64}$"


def _name_tools(defs: dict[str, Schema]) -> None:
    """A tool test's ``tool_call_parameters.referenced_tool`` may also be ``{name: <tool>}``:
    a ``tools/<name>.yaml`` resolved to that environment's tool id when the test is synced."""
    evaluation = copy.deepcopy(defs[_TOOL_CALL])
    evaluation["title"] = "tool call evaluation"
    by_name = {
        "type": "object",
        "properties": {
            "name": {
                "type": "string",
                "pattern": _TOOL_NAME,
                "description": "A tool of tools/, resolved to its id in each environment.",
            }
        },
        "required": ["name"],
        "additionalProperties": False,
    }
    evaluation["properties"]["referenced_tool"]["anyOf"].insert(0, by_name)
    defs[_TOOL_CALL_FILE] = evaluation
    variant = defs[_variant_name("tool")]["properties"]["tool_call_parameters"]
    variant["anyOf"] = [{"$ref": f"#/$defs/{_TOOL_CALL_FILE}"}, {"type": "null"}]


def _test_variant(test_type: str, body: Schema, options: Schema) -> Schema:
    variant = copy.deepcopy(body)
    variant["properties"].update(copy.deepcopy(options))
    variant["required"] = [] if test_type == "llm" else ["type"]
    variant["additionalProperties"] = False
    variant["title"] = f"{test_type} test"
    for key, example in (("success_examples", "success"), ("failure_examples", "failure")):
        if key in variant["properties"]:
            variant["properties"][key]["items"] = _example_item(example)
    return variant


def _example_item(example_type: str) -> Schema:
    """A test example: a plain string, or the API's ``{response, type}`` (``type`` optional)."""
    mapping = {
        "type": "object",
        "properties": {"response": {"type": "string"}, "type": {"const": example_type}},
        "required": ["response"],
        "additionalProperties": False,
    }
    return {"anyOf": [{"type": "string"}, mapping]}


def write_schemas(root: Path) -> tuple[Path, ...]:
    """Write ``<root>/.convai-ops/schema/{project,agent,test,tool}.schema.json``; returns the paths.

    Raises ``OSError`` when the directory cannot be written.
    """
    directory = root / SCHEMA_DIR
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in SCHEMA_KINDS:
        path = directory / f"{kind}.schema.json"
        path.write_text(json.dumps(_schema(kind), indent=1, sort_keys=False) + "\n", "utf-8")
        written.append(path)
    return tuple(written)
