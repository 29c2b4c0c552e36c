"""Loading one agent folder: agents/<slug>/agent.yaml, its prompt file and knowledge documents."""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path, PurePosixPath
from typing import Any

from convai_ops.errors import SpecError
from convai_ops.spec import dynamic_variables
from convai_ops.spec.limits import MAX_KNOWLEDGE_BYTES, MAX_PROMPT_BYTES, MAX_PROMPT_MODE_BYTES
from convai_ops.spec.models import AgentSpec, KnowledgeSpec, ProjectConfig
from convai_ops.spec.pointers import check_ignore
from convai_ops.spec.schema import READ_ONLY_SETTINGS, AgentFile, KnowledgeEntry, OverrideFile
from convai_ops.spec.testfile import load_tests
from convai_ops.spec.validate import check, did_you_mean, parse_model
from convai_ops.spec.yamlio import Document, Loc, read_document

__all__ = ["load_agent"]

_PROMPT = ("conversation_config", "agent", "prompt")


def load_agent(directory: Path, config: ProjectConfig) -> AgentSpec:
    """Load ``directory`` (``agents/<slug>/``) into an :class:`AgentSpec`.

    Reads agent.yaml, the prompt file, every file under ``knowledge/`` and ``tests/*.yaml``;
    environments are checked against ``config``. Raises :class:`SpecError`.
    """
    doc = read_document(directory / "agent.yaml")
    check(doc, "agent")
    spec = parse_model(doc, AgentFile, doc.data)
    check_ignore(doc, spec.ignore)
    documents = _knowledge_files(directory)
    _check_environments(doc, spec, config)
    _check_tags(doc, spec, directory.name)
    _check_exclusive(doc, spec, bool(documents))
    prompt_file = _prompt_path(doc, spec, directory)
    agent = AgentSpec(
        slug=directory.name,
        dir=directory,
        name=spec.name,
        tags=tuple(spec.tags) if spec.tags is not None else None,
        environments=dict(spec.environments),
        previous_slugs=tuple(spec.previous_slugs),
        prompt_file=prompt_file,
        conversation_config=_conversation_config(doc, spec, prompt_file),
        platform_settings=_managed(spec.platform_settings),
        workflow=copy.deepcopy(spec.workflow),
        overrides=_overrides(spec),
        knowledge=_knowledge(doc, spec.knowledge_base, directory, documents),
        tools=tuple(spec.tools) if spec.tools is not None else None,
        tests=load_tests(directory),
        ignore=tuple(spec.ignore),
        require_tests=config.require_tests if spec.require_tests is None else spec.require_tests,
    )
    _check_dynamic_variables(doc, agent)
    return agent


def _check_dynamic_variables(doc: Document, agent: AgentSpec) -> None:
    """Every ``{{name}}`` has a placeholder; tests set only placeholders
    (:mod:`convai_ops.spec.dynamic_variables`)."""
    dynamic_variables.check_agent(doc, agent)
    declared = dynamic_variables.declared_placeholders(agent)
    for test in agent.tests:
        dynamic_variables.check_test_variables(test, declared)


def _check_environments(doc: Document, spec: AgentFile, config: ProjectConfig) -> None:
    """Agent ids and overrides may only name environments convai-ops.yaml lists (if any)."""
    known = list(config.environments)
    if not known:
        return
    for section in ("environments", "overrides"):
        for env in getattr(spec, section):
            if env not in known:
                hint = did_you_mean(env, known) or f" (convai-ops.yaml lists: {', '.join(known)})"
                raise doc.error((section, env), f"unknown environment {env!r}{hint}")


_MANAGED_PREFIX = "convai-ops:"  # state.MANAGED_TAG_PREFIX
_UNTESTED_TAG = "convai-ops-untested"  # state.UNTESTED_TAG, the break-glass marker


def _check_tags(doc: Document, spec: AgentFile, slug: str) -> None:
    """``convai-ops:`` tags and the break-glass marker ``convai-ops-untested`` are
    convai-ops's own (the managed tag of each agent, added by apply; the marker of a
    ``--skip-tests`` merge): refused in ``tags:`` and in an override's; an agent's
    ``previous_slugs`` never name its own folder."""
    lists = [((), spec.tags)] + [(("overrides", env), o.tags) for env, o in spec.overrides.items()]
    for loc, tags in lists:
        for index, tag in enumerate(tags or ()):
            if tag.startswith(_MANAGED_PREFIX):
                message = (
                    f"{tag!r}: convai-ops: tags are convai-ops's own (it tags each agent "
                    f"{_MANAGED_PREFIX}<folder name> itself); remove it"
                )
                raise doc.error((*loc, "tags", index), message)
            if tag == _UNTESTED_TAG:
                message = (
                    f"{tag!r} is convai-ops's own (apply --skip-tests puts it on the agent, a "
                    "tested apply removes it); remove it"
                )
                raise doc.error((*loc, "tags", index), message)
    if slug in spec.previous_slugs:
        index = spec.previous_slugs.index(slug)
        raise doc.error(("previous_slugs", index), f"{slug!r} is this folder's own name")


def _check_exclusive(doc: Document, spec: AgentFile, has_files: bool) -> None:
    """Refuse saying the same thing two ways (documents, tools)."""
    prompt = _dig(spec.conversation_config, _PROMPT[1:])
    if (has_files or spec.knowledge_base) and "knowledge_base" in prompt:
        message = "list documents under knowledge_base: or in knowledge/, not here"
        raise doc.error((*_PROMPT, "knowledge_base"), message)
    _refuse_tools_twice(doc, spec, prompt, ())
    _refuse_tools_and_ids(doc, prompt, ())
    for env, patch in spec.overrides.items():
        mine = _dig(patch.conversation_config, _PROMPT[1:])
        _refuse_tools_twice(doc, spec, mine, ("overrides", env))
        _refuse_tools_and_ids(doc, {**prompt, **mine}, ("overrides", env), mine)


def _refuse_tools_twice(doc: Document, spec: AgentFile, prompt: dict[str, Any], loc: Loc) -> None:
    """Top-level ``tools:`` names the agent's tools; ``prompt.tool_ids`` / ``prompt.tools``
    would say it again (and win or lose depending on the environment)."""
    if spec.tools is None:
        return
    for key in ("tool_ids", "tools"):
        if key in prompt:
            message = f"name tools under the top-level tools: only, not in prompt.{key}"
            raise doc.error((*loc, *_PROMPT, key), message)


def _refuse_tools_and_ids(
    doc: Document, prompt: dict[str, Any], loc: Loc, own: dict[str, Any] | None = None
) -> None:
    """The API refuses a prompt with both ``tools`` and ``tool_ids`` (it reads back both but
    accepts one); point at the key ``own`` (an override's prompt) or ``loc`` declares."""
    if "tools" not in prompt or "tool_ids" not in prompt:
        return
    key = "tools" if own is None or "tools" in own else "tool_ids"
    message = "declare tool_ids or tools, not both: the API refuses both (prefer tool_ids)"
    raise doc.error((*loc, *_PROMPT, key), message)


def _dig(data: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


def _prompt_path(doc: Document, spec: AgentFile, directory: Path) -> Path | None:
    if spec.prompt_file is None:
        return None
    return _inside(doc, directory, spec.prompt_file, ("prompt_file",), "prompt file")


def _conversation_config(doc: Document, spec: AgentFile, path: Path | None) -> dict[str, Any]:
    """The declared conversation_config with the prompt file's text inlined."""
    config = copy.deepcopy(spec.conversation_config)
    if path is None:
        return config
    _refuse_inline_prompt(doc, config, ())
    for env, patch in spec.overrides.items():
        _refuse_inline_prompt(doc, patch.conversation_config, ("overrides", env))
    prompt = config.setdefault("agent", {}).setdefault("prompt", {})
    prompt["prompt"] = _read_prompt(doc, path)
    return config


def _refuse_inline_prompt(doc: Document, config: dict[str, Any], loc: Loc) -> None:
    if "prompt" in _dig(config, _PROMPT[1:]):
        message = "the prompt is set both here and by prompt_file; keep one"
        raise doc.error((*loc, *_PROMPT, "prompt"), message)


def _read_prompt(doc: Document, path: Path) -> str:
    """The prompt file's text; trailing newlines (which editors add) are dropped."""
    size = path.stat().st_size if path.exists() else 0
    if size > MAX_PROMPT_BYTES:
        message = f"{path.name} is {size} bytes: a prompt file may hold at most {MAX_PROMPT_BYTES}"
        raise doc.error(("prompt_file",), message)
    try:
        return path.read_text(encoding="utf-8").rstrip("\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise doc.error(("prompt_file",), f"cannot read {path.name}: {exc}") from None


def _inside(doc: Document, directory: Path, value: str, loc: Loc, what: str) -> Path:
    """``directory / value`` when it is an existing file inside ``directory``.

    Raises :class:`SpecError` at ``loc`` for an absolute path, ``..``, a symlink leading out,
    or a missing file.
    """
    named = f"{what} {value if len(value) <= 80 else value[:77] + '...'!r}"
    relative = PurePosixPath(value.replace("\\", "/"))
    if relative.is_absolute() or ".." in relative.parts or "\x00" in value:
        raise doc.error(loc, f"{named} must be a relative path inside the agent folder")
    path = directory / relative
    try:
        outside = not path.resolve().is_relative_to(directory.resolve())
        found = path.is_file()
    except OSError as exc:
        raise doc.error(loc, f"cannot use {named}: {exc.strerror}") from None
    if outside:
        raise doc.error(loc, f"{named} leads outside the agent folder")
    if not found:
        raise doc.error(loc, f"{named} not found in {directory.name}/")
    return path


def _managed(settings: dict[str, Any]) -> dict[str, Any]:
    """platform_settings without the keys the API does not accept."""
    return {k: v for k, v in settings.items() if k not in READ_ONLY_SETTINGS}


def _overrides(spec: AgentFile) -> dict[str, dict[str, Any]]:
    """Each environment's patch: only the keys it declares."""
    out: dict[str, dict[str, Any]] = {}
    for env, patch in spec.overrides.items():
        declared = [key for key in OverrideFile.model_fields if key in patch.model_fields_set]
        data = {key: copy.deepcopy(getattr(patch, key)) for key in declared}
        data = {key: value for key, value in data.items() if value is not None}
        if "platform_settings" in data:
            data["platform_settings"] = _managed(data["platform_settings"])
        out[env] = data
    return out


def _knowledge_files(directory: Path) -> list[Path]:
    """Every file under ``knowledge/`` (hidden files and folders skipped), sorted."""
    folder = directory / "knowledge"
    if not folder.is_dir():
        return []
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file() and not any(p.startswith(".") for p in path.relative_to(folder).parts)
    )


def _knowledge(
    doc: Document, entries: list[KnowledgeEntry], directory: Path, files: list[Path]
) -> tuple[KnowledgeSpec, ...]:
    """Declared entries in order, then the remaining ``files`` of ``knowledge/``."""
    specs: list[KnowledgeSpec] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        spec = _entry(doc, entry, directory, ("knowledge_base", index))
        identity = str(spec.path or spec.url or spec.id)
        if identity in seen:
            message = f"this document is already listed at knowledge_base[{seen[identity]}]"
            raise doc.error(("knowledge_base", index), message)
        seen[identity] = index
        specs.append(spec)
    for path in files:
        if str(path) not in seen:
            _check_not_leading_out(path, directory)
            specs.append(_file_spec(doc, path, directory, KnowledgeEntry(), ("knowledge_base",)))
    return tuple(specs)


def _check_not_leading_out(path: Path, directory: Path) -> None:
    """A symlink under ``knowledge/`` leading outside the agent folder would upload a file
    from elsewhere (in CI even ``/proc/self/environ``): refused."""
    if not path.resolve().is_relative_to(directory.resolve()):
        where = path.relative_to(directory).as_posix()
        message = f"{where} is a symlink leading outside the agent folder"
        raise SpecError(directory / "agent.yaml", message, field="knowledge_base")


def _entry(doc: Document, entry: KnowledgeEntry, directory: Path, loc: Loc) -> KnowledgeSpec:
    given = [key for key in ("file", "url", "id") if getattr(entry, key) is not None]
    if len(given) != 1:
        choice = "only one of" if given else "one of"
        raise doc.error(loc, f"a knowledge_base entry needs {choice} file, url or id")
    mode = entry.usage_mode or "auto"
    if entry.url is not None:
        return KnowledgeSpec(
            kind="url", name=entry.name or entry.url, url=entry.url, usage_mode=mode
        )
    if entry.id is not None:
        return KnowledgeSpec(kind="id", name=entry.name, id=entry.id, usage_mode=mode)
    path = _inside(doc, directory, str(entry.file), (*loc, "file"), "knowledge file")
    return _file_spec(doc, path, directory, entry, (*loc, "file"))


def _file_spec(
    doc: Document, path: Path, directory: Path, entry: KnowledgeEntry, loc: Loc
) -> KnowledgeSpec:
    knowledge = directory / "knowledge"
    base = knowledge if path.is_relative_to(knowledge) else directory
    _check_uploadable(doc, path, path.relative_to(base).as_posix(), entry, loc)
    return KnowledgeSpec(
        kind="file",
        name=entry.name or path.relative_to(base).as_posix(),
        path=path,
        usage_mode=entry.usage_mode or "auto",
        content_hash=_sha256(doc, path),
    )


KNOWLEDGE_SUFFIXES = (".pdf", ".txt", ".docx", ".html", ".htm", ".epub", ".md", ".markdown")
"""File types the knowledge base takes (docs: PDF, TXT, DOCX, HTML, EPUB; Markdown as text)."""


def _check_uploadable(
    doc: Document, path: Path, shown: str, entry: KnowledgeEntry, loc: Loc
) -> None:
    """Refuse a file the API would refuse (type or size, per usage mode) before anything is
    sent: at most :data:`MAX_KNOWLEDGE_BYTES`, and :data:`MAX_PROMPT_MODE_BYTES` in prompt mode."""
    if path.suffix.lower() not in KNOWLEDGE_SUFFIXES:
        accepted = ", ".join(KNOWLEDGE_SUFFIXES)
        message = f"{shown}: the knowledge base does not take this file type (accepted: {accepted})"
        raise doc.error(loc, message)
    size = path.stat().st_size if path.exists() else 0
    if size > MAX_KNOWLEDGE_BYTES:
        message = f"{shown} is {size} bytes: the knowledge base takes at most 21 MB per file"
        raise doc.error(loc, message)
    if entry.usage_mode == "prompt" and size > MAX_PROMPT_MODE_BYTES:
        message = (
            f"{shown} is {size} bytes: a document used in prompt mode takes at most 300 KB "
            "(use usage_mode: auto for RAG)"
        )
        raise doc.error(loc, message)


def _sha256(doc: Document, path: Path) -> str:
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as exc:
        raise doc.error(("knowledge_base",), f"cannot read {path}: {exc.strerror}") from None
