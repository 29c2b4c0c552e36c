"""The desired state: the repository's YAML files as immutable values.

Layout read by :func:`load_project`::

    convai-ops.yaml              environments, default_environment, concurrency, ignore,
                                 require_tests
    agents/<slug>/agent.yaml     name, tags, environments, prompt_file, conversation_config,
                                 platform_settings, knowledge_base, tools, overrides, ignore,
                                 require_tests
    agents/<slug>/prompt.md      the system prompt (named by prompt_file)
    agents/<slug>/knowledge/*    documents for the knowledge base (all files)
    agents/<slug>/tests/*.yaml   tests (the API's create-test body + repeat, min_pass)
    tools/<name>.yaml            workspace tools (the API's create-tool body), named by agents

Every problem is a :class:`convai_ops.errors.SpecError` reading ``file:line:col: field: why``.
"""

from convai_ops.spec.loader import CONFIG_FILE, SLUG_PATTERN, load_config, load_project
from convai_ops.spec.models import (
    AgentSpec,
    EnvironmentConfig,
    KnowledgeSpec,
    Project,
    ProjectConfig,
    TestSpec,
    ToolSpec,
    canonical_json,
    deep_merge,
)
from convai_ops.spec.schema import (
    READ_ONLY_SETTINGS,
    SCHEMA_DIR,
    SCHEMA_HEADER,
    TEST_TYPES,
    json_schema,
    write_schemas,
)
from convai_ops.spec.testfile import PLACEHOLDER
from convai_ops.spec.writer import dump_yaml, update_yaml

__all__ = [
    "CONFIG_FILE",
    "PLACEHOLDER",
    "READ_ONLY_SETTINGS",
    "SCHEMA_DIR",
    "SCHEMA_HEADER",
    "SLUG_PATTERN",
    "TEST_TYPES",
    "AgentSpec",
    "EnvironmentConfig",
    "KnowledgeSpec",
    "Project",
    "ProjectConfig",
    "TestSpec",
    "ToolSpec",
    "canonical_json",
    "deep_merge",
    "dump_yaml",
    "json_schema",
    "load_config",
    "load_project",
    "update_yaml",
    "write_schemas",
]
