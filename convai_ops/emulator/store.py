"""The emulator's state: plain records in insertion-ordered maps, saved to and loaded from JSON.

Records hold what the API stores; response bodies are shaped from them by the ``views_*``
modules. Versions are immutable once committed; everything else is updated in place under the
:class:`~convai_ops.emulator.app.Emulator` lock.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from convai_ops.versioning import split_platform_settings

__all__ = [
    "Agent",
    "Branch",
    "Document",
    "Invocation",
    "RagIndex",
    "RunOutcome",
    "Store",
    "Test",
    "TestRun",
    "Tool",
    "Version",
    "load_store",
    "save_store",
]

TestType = Literal["llm", "tool", "simulation"]
_ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_SHORT_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class Version(BaseModel):
    """One committed agent config; ``config`` holds ``conversation_config``,
    ``platform_settings`` and ``workflow`` as stored (server defaults are added when read).
    ``committed_at`` is Unix seconds with sub-second precision, so that merges can order
    commits; responses show whole seconds."""

    id: str
    agent_id: str
    branch_id: str
    seq_no_in_branch: int
    description: str
    committed_at: float
    parents: dict[str, str | None] = Field(default_factory=dict)
    config: dict[str, Any] = Field(default_factory=dict)


class Branch(BaseModel):
    """A line of versions; ``tip_version_id`` is its latest version."""

    id: str
    agent_id: str
    name: str
    description: str
    created_at: int
    last_committed_at: int
    tip_version_id: str
    parent_branch_id: str | None = None
    is_archived: bool = False
    protection_status: str = "writer_perms_required"
    merged_into_branch_id: str | None = None


class Agent(BaseModel):
    """An agent; its versioned config lives in the versions of its branches.

    ``agent_wide`` holds the agent-wide ``platform_settings`` as stored (every key outside
    :data:`convai_ops.versioning.VERSIONED_PLATFORM_SETTINGS`): they belong to the agent, not
    to a version. ``versioned`` False hides version and branch ids (an agent created with
    ``enable_versioning=false``) until a PATCH enables versioning.
    """

    id: str
    name: str
    tags: list[str] = Field(default_factory=list)
    created_at: int
    updated_at: int
    versioned: bool = True
    main_branch_id: str
    agent_wide: dict[str, Any] = Field(default_factory=dict)
    traffic_split: dict[str, float] = Field(default_factory=dict)


class Test(BaseModel):
    """A test as created: ``body`` is the create/update request body (``type`` filled in)."""

    __test__ = False  # not a pytest test class

    id: str
    name: str
    type: TestType
    body: dict[str, Any]
    created_at: int
    updated_at: int


class RunOutcome(BaseModel):
    """A test run's verdict, computed when the run is created and shown once it is due."""

    passed: bool
    condition_result: dict[str, Any]
    agent_responses: list[dict[str, Any]]


class TestRun(BaseModel):
    """One run of one test (one of ``repeat_count``) inside an invocation; ``attempt`` counts
    resubmissions."""

    __test__ = False  # not a pytest test class

    id: str
    invocation_id: str
    test_id: str
    test_name: str
    test_type: TestType
    test_info: dict[str, Any]
    agent_id: str
    branch_id: str | None
    version_id: str | None
    ran_against_draft: bool = False
    created_at: int
    due_at: float
    attempt: int = 0
    outcome: RunOutcome


class Invocation(BaseModel):
    """A ``run-tests`` call: its runs, the version they ran against and when."""

    id: str
    agent_id: str
    branch_id: str | None
    version_id: str | None
    ran_against_draft: bool = False
    created_at: int
    repeat_count: int = 1
    title: str
    run_ids: list[str] = Field(default_factory=list)


class RagIndex(BaseModel):
    """A document's RAG index for one embedding ``model``; ``started_at`` is Unix seconds (its
    status follows from the time elapsed since, see :mod:`convai_ops.emulator.rag`)."""

    id: str
    model: str
    started_at: float


class Document(BaseModel):
    """A knowledge-base document; ``text`` is what the agent reads; ``rag_indexes`` by model."""

    id: str
    name: str
    type: Literal["text", "url", "file"]
    text: str
    url: str | None = None
    filename: str | None = None
    created_at: int
    updated_at: int
    rag_indexes: dict[str, RagIndex] = Field(default_factory=dict)


class Tool(BaseModel):
    """A workspace tool (``POST /v1/convai/tools``)."""

    id: str
    tool_config: dict[str, Any]
    response_mocks: list[dict[str, Any]] | None = None
    created_at: int
    updated_at: int


class Store(BaseModel):
    """Everything the emulator knows; ``counter`` feeds the id generator."""

    counter: int = 0
    agents: dict[str, Agent] = Field(default_factory=dict)
    branches: dict[str, Branch] = Field(default_factory=dict)
    versions: dict[str, Version] = Field(default_factory=dict)
    tests: dict[str, Test] = Field(default_factory=dict)
    invocations: dict[str, Invocation] = Field(default_factory=dict)
    runs: dict[str, TestRun] = Field(default_factory=dict)
    documents: dict[str, Document] = Field(default_factory=dict)
    tools: dict[str, Tool] = Field(default_factory=dict)

    def new_id(self, prefix: str, seed: int) -> str:
        """Return a fresh id: ``prefix`` + 28 base32 characters, or 20 letters/digits when
        ``prefix`` is empty (the document's example shape for test and document ids)."""
        self.counter += 1
        digest = hashlib.sha256(f"{seed}:{self.counter}:{prefix}".encode()).digest()
        if not prefix:
            return "".join(_SHORT_ALPHABET[byte % 62] for byte in digest[:20])
        return prefix + "".join(_ID_ALPHABET[byte % 32] for byte in digest[:28])


def load_store(path: Path | None) -> Store:
    """Return the store saved at ``path``, or an empty one when there is none.

    Raises ``ValueError`` naming the file when it is not a state file of this emulator.
    """
    if path is None or not path.exists():
        return Store()
    try:
        store = Store.model_validate_json(path.read_text("utf-8"))
    except ValidationError as error:
        raise ValueError(
            f"{path} is not an emulator state file ({error.error_count()} problems); "
            "delete it or choose another state file"
        ) from None
    _move_agent_wide_settings(store)
    return store


def _move_agent_wide_settings(store: Store) -> None:
    """State files written before agents had ``agent_wide`` kept every platform setting in
    the versions: give such an agent the agent-wide ones of its main tip, and strip them from
    every version of the file (a version holds only the versioned subset)."""
    for agent in store.agents.values():
        if "agent_wide" in agent.model_fields_set:
            continue
        main = store.branches.get(agent.main_branch_id)
        tip = store.versions.get(main.tip_version_id) if main else None
        if tip is not None:
            agent.agent_wide = split_platform_settings(tip.config.get("platform_settings"))[1]
    for version in store.versions.values():
        if "platform_settings" in version.config:
            settings = version.config["platform_settings"]
            version.config["platform_settings"] = split_platform_settings(settings)[0]


def save_store(store: Store, path: Path) -> None:
    """Write ``store`` to ``path`` atomically (temporary file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(store.model_dump_json(), "utf-8")
    os.replace(temporary, path)
