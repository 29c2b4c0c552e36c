"""Pull: adopt drift by writing the live values of declared fields back into the repository.

``spec.update_yaml`` keeps comments and key order and rewrites only changed values;
``prompt.md`` is rewritten only when the prompt changed. Fields the repository does not declare
stay undeclared; a declared ``tools:`` is set to the tools main's ``tool_ids`` name, their
``tools/<name>.yaml`` written where missing or different (:mod:`convai_ops.tool_files`); a
declared ``workflow:`` is replaced whole when the live graph differs; the
agent's documents and tests are adopted as a whole (a document the
repository lacks becomes a ``knowledge_base:`` entry by id, a test a ``tests/*.yaml`` file, as
``import`` writes them). Pull never deletes a file: what it cannot adopt is reported as a note.
Reads the live agents through ``state.read_snapshot`` (``GET /v1/convai/agents/{id}``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convai_ops.conversions import (
    MISSING,
    attached_test_ids,
    dig,
    kb_entry,
    local_test_name,
    remote_test_data,
    workflow_data,
)
from convai_ops.dicts import json_equal
from convai_ops.importer import write_prompt, write_test_file
from convai_ops.plan import workflow_view
from convai_ops.spec import READ_ONLY_SETTINGS, load_project, update_yaml
from convai_ops.spec.defaults import (
    SECTION_SCHEMAS,
    fill_defaults,
    schema_at,
    strip_item_defaults,
)
from convai_ops.spec.yamlio import read_document
from convai_ops.state import (
    MANAGED_TAG_PREFIX,
    UNTESTED_TAG,
    document_name,
    managed_tag,
    read_snapshot,
    remote_test_name,
)
from convai_ops.tool_files import ToolFile, agent_tool_files, tool_hashes, write_tool_files

if TYPE_CHECKING:
    from convai_ops.api import ConvaiClient
    from convai_ops.spec import AgentSpec, KnowledgeSpec, Project
    from convai_ops.state import RemoteAgent, RemoteIndex

__all__ = ["PullResult", "pull_agents"]

KeyPath = tuple[str, ...]
_SECTIONS = ("conversation_config", "platform_settings")
_PROMPT = ("conversation_config", "agent", "prompt", "prompt")
_KB = ("conversation_config", "agent", "prompt", "knowledge_base")
_OPTIONS = ("name", "repeat", "min_pass")


@dataclass(frozen=True)
class PullResult:
    """What ``pull`` changed for one agent: files written, dotted fields changed, notes.

    ``agent_id`` is ``None`` when the agent does not exist in the environment (nothing pulled).
    """

    slug: str
    agent_id: str | None
    files: tuple[Path, ...] = ()
    fields: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def pull_agents(
    client: ConvaiClient,
    project: Project,
    env: str,
    slugs: Sequence[str] = (),
    *,
    concurrency: int = 8,
) -> list[PullResult]:
    """Refresh the declared values of ``slugs`` (all agents when empty) from the live agents.

    Reads with ``state.read_snapshot`` (one ``GET /v1/convai/agents/{id}`` per agent, plus list
    calls) and ``GET /v1/convai/agent-testing/{id}`` for attached tests whose name matches no
    local test. Rewrites only changed values (comments and key order kept), ``prompt.md`` only
    when the prompt changed. Raises ``UsageError`` for an unknown slug, ``ApiError``, and
    ``SpecError`` when the pulled files do not load.
    """
    agents = [project.agent(slug) for slug in slugs] if slugs else list(project.agents)
    snapshot = read_snapshot(client, agents, env, concurrency=concurrency)
    ignore = (*project.config.ignore,)
    results = [
        _pull_agent(client, spec, snapshot.agents.get(spec.slug), snapshot.index, env, ignore)
        for spec in agents
    ]
    if any(r.files for r in results):
        load_project(project.root)
    return results


def _pull_agent(
    client: ConvaiClient,
    spec: AgentSpec,
    remote: RemoteAgent | None,
    index: RemoteIndex,
    env: str,
    ignore: Sequence[str],
) -> PullResult:
    if remote is None:
        return PullResult(spec.slug, None, notes=(f"not created in {env!r} yet: nothing to pull",))
    live, notes = remote.config, []
    raw = read_document(spec.path).data
    pulled = _pulled_agent(spec, raw, live, env, (*ignore, *spec.ignore))
    notes.extend(_pull_knowledge(spec, pulled, live))
    tools, tool_files, tool_notes = _pull_tools(client, spec, pulled, live)
    notes.extend(tool_notes)
    fields = _changed(raw, pulled)
    files = [*tool_files, *([spec.path] if fields else [])]
    if fields:
        update_yaml(spec.path, pulled)
    if spec.prompt_file is not None and _pull_prompt(spec.prompt_file, live):
        files.append(spec.prompt_file)
        fields.append(f"{'.'.join(_PROMPT)} ({spec.prompt_file.name})")
    test_files, test_notes = _pull_tests(client, spec, live, index, tool_hashes(tools))
    notes.extend(test_notes)
    if managed_tag(spec.slug) not in (live.get("tags") or ()) and spec.tags is not None:
        notes.append(f"the live agent lacks the tag {managed_tag(spec.slug)}; apply adds it")
    return PullResult(
        spec.slug, remote.agent_id, (*files, *test_files), tuple(fields), tuple(notes)
    )


def _pulled_agent(
    spec: AgentSpec, raw: dict[str, Any], live: Mapping[str, Any], env: str, ignore: Sequence[str]
) -> dict[str, Any]:
    """``raw`` (agent.yaml) with every declared value replaced by the live one."""
    pulled = copy.deepcopy(raw)
    override = pulled.get("overrides", {}).get(env)
    override = override if isinstance(override, dict) else {}
    frozen = {_pointer(p) for p in ignore} | {("platform_settings", k) for k in READ_ONLY_SETTINGS}
    shadowed = {p for s in _SECTIONS if s in override for p in _leaves(override[s], (s,))}
    holder = override if "name" in override else pulled
    holder["name"] = live.get("name", holder.get("name"))
    holder = override if "tags" in override else pulled
    if isinstance(holder.get("tags"), list):
        holder["tags"] = _pulled_tags(holder["tags"], live.get("tags") or [], spec.slug)
    for section in _SECTIONS:
        if isinstance(live.get(section), Mapping):
            for target, skip in ((pulled, frozen | shadowed), (override, frozen)):
                if section in target:
                    target[section] = _reproject(target[section], live[section], skip, (section,))
    if isinstance(pulled.get("workflow"), dict) and ("workflow",) not in frozen:
        pulled["workflow"] = _pulled_workflow(pulled["workflow"], live.get("workflow"))
    return pulled


def _pulled_workflow(declared: dict[str, Any], live: Any) -> dict[str, Any]:
    """The declared workflow when it equals the live one (compared whole, as the plan does),
    else the live one as import writes it; a live agent without a workflow keeps the declared
    one (the next apply writes it)."""
    if json_equal(workflow_view(declared), workflow_view(live)):
        return declared
    return workflow_data(live) or declared


def _pull_tools(
    client: ConvaiClient, spec: AgentSpec, pulled: dict[str, Any], live: Mapping[str, Any]
) -> tuple[list[ToolFile], list[Path], list[str]]:
    """For an agent declaring ``tools:``: name the tools main's ``tool_ids`` point at and
    write their ``tools/<name>.yaml`` where missing or different (tools are shared: the note
    says so). Returns ``(tools, files written, notes)``; ``pulled`` is modified."""
    if spec.tools is None:
        return [], [], []
    tools = agent_tool_files(client, spec.dir.parent.parent, live, adopt=True)
    pulled["tools"] = [tool.name for tool in tools]
    notes = [
        f"tools/{t.path.name} rewritten from the live tool: every agent naming it uses this"
        for t in tools
        if not t.current and t.path.exists()
    ]
    return tools, write_tool_files(tools), notes


def _pointer(pointer: str) -> KeyPath:
    return tuple(k.replace("~1", "/").replace("~0", "~") for k in pointer.strip("/").split("/"))


def _leaves(value: Any, path: KeyPath) -> list[KeyPath]:
    if isinstance(value, Mapping) and value:
        return [p for k, v in value.items() for p in _leaves(v, (*path, k))]
    return [path]


def _reproject(declared: Any, live: Any, frozen: set[KeyPath], path: KeyPath) -> Any:
    """``declared`` with each leaf replaced by ``live``'s value at the same path.

    Paths in ``frozen`` and declared keys the live agent does not report are kept as they are.
    """
    if path in frozen:
        return declared
    if isinstance(declared, dict) and isinstance(live, Mapping):
        return {
            k: _reproject(v, live[k], frozen, (*path, k)) if k in live else v
            for k, v in declared.items()
        }
    if isinstance(declared, list) and isinstance(live, list):
        return _pulled_list(declared, live, path)
    return copy.deepcopy(live)


def _pulled_list(declared: list[Any], live: list[Any], path: KeyPath) -> list[Any]:
    """The list to write at ``path``: ``declared`` when equal to ``live`` once the API's
    defaults fill their items (as the plan compares them, ``plan.with_list_defaults``), else
    ``live`` without the item keys at their defaults (keys the repository declared stay)."""
    section = SECTION_SCHEMAS.get(path[0])
    schema = schema_at(section, path[1:]) if section else None
    if schema is None:
        return copy.deepcopy(live)
    if json_equal(fill_defaults(declared, schema), fill_defaults(live, schema)):
        return declared
    keep = [set(item) if isinstance(item, dict) else set() for item in declared]
    return strip_item_defaults(live, schema, keep)


def _pulled_tags(declared: list[str], live: Sequence[str], slug: str) -> list[str]:
    wanted = [  # convai-ops's own: managed tags and the break-glass marker
        t for t in live if not t.startswith(MANAGED_TAG_PREFIX) and t != UNTESTED_TAG
    ]
    kept = [t for t in declared if t in wanted]
    return kept + [t for t in wanted if t not in kept]


def _changed(old: Any, new: Any, path: KeyPath = ()) -> list[str]:
    """Dotted paths of the leaves that differ between two plain YAML values."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        keys = [*old, *(k for k in new if k not in old)]
        return [
            p
            for k in keys
            for p in _changed(old.get(k, MISSING), new.get(k, MISSING), (*path, str(k)))
        ]
    both = old is not MISSING and new is not MISSING
    return [] if both and json_equal(old, new) else [".".join(path)]


def _pull_prompt(path: Path, live: Mapping[str, Any]) -> bool:
    """Rewrite the prompt file when the live prompt differs; True when written."""
    text = dig(live, _PROMPT)
    if not isinstance(text, str) or text == path.read_text(encoding="utf-8").rstrip("\n"):
        return False
    write_prompt(path, text)
    return True


def _pull_knowledge(spec: AgentSpec, pulled: dict[str, Any], live: Mapping[str, Any]) -> list[str]:
    """Make ``pulled["knowledge_base"]`` list the live documents; notes for unadoptable files.

    Entries still attached are kept (usage mode adopted), the others dropped; documents the
    repository does not list are added by id.
    """
    locators = dig(live, _KB)
    inline = dig(pulled, _KB) is not MISSING
    if inline or not isinstance(locators, list) or not (locators or spec.knowledge):
        return []
    entries, unmatched = pulled.get("knowledge_base") or [], list(locators)
    kept, notes = [], []
    for position, knowledge in enumerate(spec.knowledge):
        locator = _take(spec.slug, knowledge, unmatched)
        entry = entries[position] if position < len(entries) else None
        if entry is not None and locator is not None:
            kept.append(_with_mode(entry, locator.get("usage_mode") or "auto"))
        elif entry is None and locator is None and knowledge.path is not None:
            notes.append(f"{knowledge.path.relative_to(spec.dir).as_posix()}: {_DETACHED}")
    entries = kept + [kb_entry(loc) for loc in unmatched]
    if entries or "knowledge_base" in pulled:
        pulled["knowledge_base"] = entries
    return notes


_DETACHED = "not attached to the live agent; delete it to adopt that"


def _take(slug: str, knowledge: KnowledgeSpec, locators: list[Any]) -> Mapping[str, Any] | None:
    """Remove from ``locators`` and return the one that is ``knowledge``'s document."""
    for locator in locators:
        if knowledge.kind == "id":
            hit = locator.get("id") == knowledge.id
        else:
            hit = locator.get("name") == document_name(slug, knowledge)
        if hit:
            locators.remove(locator)
            return dict(locator)
    return None


def _with_mode(entry: dict[str, Any], mode: str) -> dict[str, Any]:
    if (entry.get("usage_mode") or "auto") == mode:
        return entry
    entry = {k: v for k, v in entry.items() if k != "usage_mode"}
    return entry if mode == "auto" else {**entry, "usage_mode": mode}


def _pull_tests(
    client: ConvaiClient,
    spec: AgentSpec,
    live: Mapping[str, Any],
    index: RemoteIndex,
    tools: Mapping[str, tuple[str, str]],
) -> tuple[list[Path], list[str]]:
    """Write attached tests the repository lacks or holds differently; ``(files, notes)``.
    ``tools`` (tool id -> name, content hash) names the tool a tool test references."""
    by_remote = {remote_test_name(spec.slug, t): t for t in spec.tests}
    local = {t.name: t for t in spec.tests}
    seen: set[str] = set()
    files: list[Path] = []
    notes: list[str] = []
    taken = {t.path.stem for t in spec.tests}
    for test_id in attached_test_ids(live):
        known = by_remote.get(index.test_names.get(test_id, ""))
        if known is not None:
            seen.add(known.name)
            continue
        remote = client.get_test(test_id)
        name = local_test_name(str(remote.get("name", "")))[0]
        existing = local.get(name)
        if existing is None:
            path, note = write_test_file(spec.dir, remote, taken, tools)
            files.extend([path] if path else [])
            notes.extend([note] if note else [])
            continue
        seen.add(name)
        files.extend(_update_test(existing.path, remote, tools))
    notes += [f"tests/{t.path.name}: {_DETACHED}" for t in spec.tests if t.name not in seen]
    return files, notes


def _update_test(
    path: Path, remote: Mapping[str, Any], tools: Mapping[str, tuple[str, str]]
) -> list[Path]:
    """Adopt the live body into an existing test file (options and comments kept)."""
    raw = read_document(path).data
    data = remote_test_data(remote, tools)[1]
    data = {k: v for k, v in data.items() if k not in _OPTIONS}
    if "type" not in raw and data.get("type") == "llm":
        del data["type"]
    data.update((k, raw[k]) for k in _OPTIONS if k in raw)
    if json_equal(raw, data):
        return []
    update_yaml(path, data)
    return [path]
