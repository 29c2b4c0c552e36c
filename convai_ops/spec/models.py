"""The desired state: immutable values built by :func:`convai_ops.spec.load_project`.

``Project`` holds the ``ProjectConfig`` (convai-ops.yaml), one ``AgentSpec`` per
``agents/<slug>/`` and one ``ToolSpec`` per ``tools/<name>.yaml``; an agent owns its
``KnowledgeSpec`` documents and ``TestSpec`` tests.
Mappings read from YAML are plain ``dict``/``list`` values; :meth:`AgentSpec.desired` returns
fresh copies, so callers may change what they get.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import marshal
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, NoReturn

from pydantic import BaseModel, ConfigDict, Field

from convai_ops.canary.config import CanaryFile
from convai_ops.dicts import deep_merge
from convai_ops.errors import UsageError

__all__ = [
    "AgentSpec",
    "EnvironmentConfig",
    "KnowledgeSpec",
    "Project",
    "ProjectConfig",
    "TestSpec",
    "ToolSpec",
    "canonical_json",
    "deep_merge",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def canonical_json(value: Any) -> bytes:
    """``value`` as UTF-8 JSON with sorted keys and no spaces (stable for hashing)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


class EnvironmentConfig(_Frozen):
    """One environment of convai-ops.yaml: where its API is and which variable holds its key."""

    base_url: str | None = None
    api_key_env: str = "ELEVENLABS_API_KEY"
    canary: CanaryFile | None = None


class ProjectConfig(_Frozen):
    """convai-ops.yaml (every key optional; a missing file gives these defaults).

    ``ignore`` holds JSON pointers (``/conversation_config/tts/voice_id``) never diffed;
    ``require_tests`` (default True): an agent without tests is not merged.
    ``prune`` lets apply delete managed agents without a folder (orphans), after asking.
    """

    environments: dict[str, EnvironmentConfig] = Field(default_factory=dict)
    default_environment: str | None = None
    ignore: tuple[str, ...] = ()
    concurrency: int | None = None
    require_tests: bool = True
    prune: bool = False


class KnowledgeSpec(_Frozen):
    """A knowledge-base document of an agent.

    ``kind`` ``file``: ``path`` (absolute) and ``content_hash`` (sha256 of the bytes, hex) are
    set; ``url``: ``url``; ``id``: ``id`` of an existing document. ``name`` is the declared name,
    else the file's path inside ``knowledge/`` (or the agent folder), else the URL; ``None`` for an
    ``id`` entry without one. ``usage_mode`` is ``auto`` or ``prompt``.
    """

    kind: Literal["file", "url", "id"]
    name: str | None = None
    path: Path | None = None
    url: str | None = None
    id: str | None = None
    usage_mode: Literal["auto", "prompt"] = "auto"
    content_hash: str | None = None


class TestSpec(_Frozen):
    """One test file: ``body`` is the API's create-test request without ``name``.

    ``type`` is ``llm``, ``tool`` or ``simulation`` (also in ``body``); the test passes when at
    least ``min_pass`` of ``repeat`` runs pass.
    """

    __test__ = False  # not a pytest test class

    name: str
    type: Literal["llm", "tool", "simulation"]
    path: Path
    repeat: int = Field(1, ge=1, le=50)
    min_pass: int = Field(1, ge=1, le=50)
    body: dict[str, Any]
    tool_hash: str | None = None
    tool: ToolSpec | None = None

    @property
    def content_hash(self) -> str:
        """First 12 hex digits of the sha256 of the body's canonical JSON, followed by the
        ``identity_hash`` of the tool the test names (when it names one by ``{name: ...}``;
        else ``tool_hash``): the same file gives the same remote test in every workspace, and a
        new one when its tool changes (not when the tool file merely spells out a default)."""
        tool_hash = self.tool.identity_hash if self.tool is not None else self.tool_hash
        try:
            key = marshal.dumps(self.body)  # exact types and order: equal bytes, equal body
        except ValueError:
            return _content_hash(canonical_json(self.body), tool_hash)
        return _body_hash(key, tool_hash)

    @property
    def tool_name(self) -> str | None:
        """The tool a ``tool`` test names (``tool_call_parameters.referenced_tool.name``)."""
        reference = (self.body.get("tool_call_parameters") or {}).get("referenced_tool") or {}
        name = reference.get("name") if isinstance(reference, dict) else None
        return str(name) if name is not None else None


class ToolSpec(_Frozen):
    """One workspace tool, ``tools/<name>.yaml``.

    ``body`` is the API's create-tool request (``{tool_config: {...}, response_mocks?}``) with
    ``tool_config.name`` set to ``name`` (the file's stem); ``content_hash`` is the first 12 hex
    digits of the sha256 of the body's canonical JSON.
    """

    name: str
    path: Path
    body: dict[str, Any]
    content_hash: str

    @functools.cached_property
    def identity_hash(self) -> str:
        """12 hex digits identifying the tool as the API holds it: the sha256 of the canonical
        JSON of its ``tool_config`` and ``response_mocks`` with the response schema's defaults
        filled in, so a file spelling out a default (as ``import`` writes it, or not) names
        the same tool. Computed on first use (it reads the API schema)."""
        from convai_ops.workspace_tools import identity_hash

        return identity_hash(self.body)

    @property
    def tool_config(self) -> dict[str, Any]:
        """The declared ``tool_config`` (shared: do not modify)."""
        config: dict[str, Any] = self.body["tool_config"]
        return config


class AgentSpec(_Frozen):
    """One agent folder, ``agents/<slug>/``.

    ``conversation_config`` and ``platform_settings`` hold only the declared fields, the prompt
    file's text already at ``conversation_config.agent.prompt.prompt``. ``tags``, ``tools`` and
    ``workflow`` (``{nodes, edges, ...}``, the API's ``AgentWorkflowRequestModel``) are ``None``
    when not declared (then not managed); ``tool_specs`` holds the ``ToolSpec`` of each
    name of ``tools`` (set by ``load_project``). ``environments`` maps an environment to the
    agent id there; ``previous_slugs`` are the folder names the agent had before
    (``convai-ops mv``), newest last; ``overrides`` maps an environment to a patch of
    ``name``, ``tags``, ``conversation_config``, ``platform_settings``. ``require_tests``: the
    agent's own ``require_tests``, else convai-ops.yaml's (apply does not merge it without tests
    when True).
    """

    slug: str
    dir: Path
    name: str
    tags: tuple[str, ...] | None = None
    environments: dict[str, str] = Field(default_factory=dict)
    previous_slugs: tuple[str, ...] = ()
    prompt_file: Path | None = None
    conversation_config: dict[str, Any] = Field(default_factory=dict)
    platform_settings: dict[str, Any] = Field(default_factory=dict)
    overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)
    workflow: dict[str, Any] | None = None
    knowledge: tuple[KnowledgeSpec, ...] = ()
    tools: tuple[str, ...] | None = None
    tool_specs: tuple[ToolSpec, ...] = ()
    tests: tuple[TestSpec, ...] = ()
    ignore: tuple[str, ...] = ()
    require_tests: bool = True

    @property
    def path(self) -> Path:
        """The agent's ``agent.yaml``."""
        return self.dir / "agent.yaml"

    def agent_id(self, env: str | None) -> str | None:
        """The agent's id in environment ``env``; ``None`` when not yet created there."""
        return self.environments.get(env) if env is not None else None

    def desired(self, env: str | None = None) -> dict[str, Any]:
        """The managed fields for ``env``: a new dict.

        Keys: ``name``, ``tags`` (only when declared), ``conversation_config``,
        ``platform_settings``, each holding only declared fields, ``workflow`` (only when
        declared: the whole graph), with ``env``'s override deep-merged (mappings merged,
        lists replaced).
        """
        state: dict[str, Any] = {"name": self.name}
        if self.tags is not None:
            state["tags"] = list(self.tags)
        state["conversation_config"] = self.conversation_config
        state["platform_settings"] = self.platform_settings
        if self.workflow is not None:
            state["workflow"] = self.workflow
        patch = self.overrides.get(env, {}) if env is not None else {}
        return deep_merge(state, patch)


class Project(_Frozen):
    """The repository: ``root``, its ``config``, its ``agents`` (sorted by slug) and its
    workspace ``tools`` (``tools/<name>.yaml``, sorted by name)."""

    root: Path
    config: ProjectConfig = Field(default_factory=ProjectConfig)
    agents: tuple[AgentSpec, ...] = ()
    tools: tuple[ToolSpec, ...] = ()

    def tool(self, name: str) -> ToolSpec:
        """The tool ``name``; raises :class:`UsageError` (with a suggestion) when unknown."""
        found = {tool.name: tool for tool in self.tools}
        return found.get(name) or _unknown("tool", name, list(found), self.root / "tools")

    def agent(self, slug: str) -> AgentSpec:
        """The agent ``slug``; raises :class:`UsageError` (with a suggestion) when unknown."""
        found = {agent.slug: agent for agent in self.agents}
        return found.get(slug) or _unknown("agent", slug, list(found), self.root / "agents")


def _unknown(kind: str, name: str, known: list[str], folder: Path) -> NoReturn:
    """Raise :class:`UsageError` for an unknown ``kind`` called ``name``, with a suggestion."""
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f" ({kind}s: {', '.join(known)})"
    raise UsageError(f"no {kind} {name!r} under {folder}{hint}")


def _content_hash(body: bytes, tool_hash: str | None) -> str:
    return hashlib.sha256(body + (tool_hash or "").encode()).hexdigest()[:12]


@lru_cache(maxsize=4096)
def _body_hash(body: bytes, tool_hash: str | None) -> str:
    """:attr:`TestSpec.content_hash` of the body marshalled as ``body``: worked out once (a
    plan names every test of every agent, each time sorting and encoding its body)."""
    return _content_hash(canonical_json(marshal.loads(body)), tool_hash)
