"""The gated apply: branch, test, merge — main never receives untested config.

Per agent with changes (agents run in parallel, bounded by ``concurrency``):

1. A new agent is first created as an empty shell carrying only its name and tags
   (``POST /v1/convai/agents/create?enable_versioning=true``); its config arrives through the
   same gate as any change.
2. Main is read (``GET /v1/convai/agents/{id}``); if it moved since the plan, stop.
3. Knowledge-base files are uploaded under content-addressed names (never overwritten);
   tests are created under content-addressed names (``testing.sync_tests``).
4. ``POST /v1/convai/agents/{id}/branches`` from main's version carries the declared
   ``conversation_config`` / ``platform_settings`` with the document locators and the attached
   tests.
5. The tests run on that branch (``testing.run_agent_tests``).
6. All passed and main still at the same version -> merge
   (``POST .../branches/{branch}/merge?target_branch_id={main}``), then name/tag changes are
   patched onto main, then main is read back and must re-plan empty. Otherwise nothing is merged
   and the branch is kept for inspection.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from convai_ops.errors import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_TESTS_FAILED,
    ConvaiOpsError,
    MainMovedError,
    UsageError,
    VerifyError,
)
from convai_ops.plan import AgentPlan, Plan, make_agent_plan
from convai_ops.state import RemoteAgent, RemoteIndex, document_name, managed_tag, map_bounded
from convai_ops.testing import PollPolicy, SyncedTest, TestReport, run_agent_tests, sync_tests

if TYPE_CHECKING:
    from convai_ops.api import ConvaiClient
    from convai_ops.spec import AgentSpec, KnowledgeSpec, Project

__all__ = [
    "AgentOutcome",
    "ApplyContext",
    "ApplyOptions",
    "ApplyResult",
    "Staged",
    "apply_plan",
    "stage_agent",
]

Status = Literal["merged", "unchanged", "tests_failed", "error"]
Reporter = Callable[[str, str], None]


@dataclass(frozen=True)
class ApplyOptions:
    """How to apply: environment, thread count, polling, and the branch description."""

    environment: str
    concurrency: int = 8
    policy: PollPolicy = field(default_factory=PollPolicy)
    description: str = "convai-ops apply"


@dataclass(frozen=True)
class AgentOutcome:
    """What happened to one agent; ``branch_id`` is kept (not merged) on failure."""

    slug: str
    status: Status
    agent_id: str | None = None
    branch_id: str | None = None
    created: bool = False
    report: TestReport | None = None
    message: str = ""


@dataclass(frozen=True)
class ApplyResult:
    """All outcomes; ``exit_code`` is 0 (all good), 3 (tests failed) or 1 (an error)."""

    outcomes: tuple[AgentOutcome, ...]

    @property
    def exit_code(self) -> int:
        """1 if any agent errored, else 3 if any agent's tests failed, else 0."""
        statuses = {o.status for o in self.outcomes}
        if "error" in statuses:
            return EXIT_ERROR
        return EXIT_TESTS_FAILED if "tests_failed" in statuses else EXIT_OK


@dataclass(frozen=True)
class ApplyContext:
    """What staging and applying an agent needs: the client, the project, the list-call
    index of this run, the options and a reporter ``(slug, message) -> None``."""

    client: ConvaiClient
    project: Project
    index: RemoteIndex
    options: ApplyOptions
    report: Reporter


def apply_plan(
    client: ConvaiClient,
    project: Project,
    plan: Plan,
    index: RemoteIndex,
    options: ApplyOptions,
    report: Reporter | None = None,
) -> ApplyResult:
    """Apply every changed agent of ``plan`` through the gate; see the module docstring.

    Never raises for a single agent's failure: each agent's error becomes an ``AgentOutcome``
    with status ``error`` and its message.
    """
    ctx = ApplyContext(client, project, index, options, report or (lambda slug, msg: None))
    changed = [a for a in plan.agents if a.action != "no-op"]
    outcomes = map_bounded(lambda a: _guarded(ctx, a), changed, options.concurrency)
    unchanged = [
        AgentOutcome(a.slug, "unchanged", a.agent_id) for a in plan.agents if a.action == "no-op"
    ]
    return ApplyResult(tuple(outcomes + unchanged))


def _guarded(ctx: ApplyContext, planned: AgentPlan) -> AgentOutcome:
    try:
        return _apply_agent(ctx, planned)
    except ConvaiOpsError as exc:
        ctx.report(planned.slug, f"error: {exc}")
        return AgentOutcome(planned.slug, "error", planned.agent_id, message=str(exc))


@dataclass(frozen=True)
class Staged:
    """An agent's change staged on a branch and tested there (nothing merged yet)."""

    agent_id: str
    created: bool
    main: RemoteAgent
    branch_id: str
    tests: tuple[SyncedTest, ...]
    report: TestReport


def stage_agent(ctx: ApplyContext, planned: AgentPlan, *, branch_name: str | None = None) -> Staged:
    """Steps 1-5 of the module docstring: shell, main, uploads, branch, tests. Never merges.

    With ``branch_name``, an unarchived branch of that name is reused (its config replaced by
    ``PATCH /v1/convai/agents/{id}?branch_id=``) instead of creating a new one: later pushes to
    a pull request update the same branch.
    """
    spec = ctx.project.agent(planned.slug)
    agent_id, created = planned.agent_id, False
    if agent_id is None:
        agent_id, created = _create_shell(ctx, spec), True
    main = _read_main(ctx, spec, agent_id, None if created else planned.base_version_id)
    tests = tuple(sync_tests(ctx.client, spec.slug, spec.tests, ctx.index))
    locators = _sync_knowledge(ctx, spec)
    branch_id = _stage_branch(ctx, spec, main, tests, locators, branch_name)
    report = _run_tests(ctx, spec.slug, agent_id, tests, branch_id)
    return Staged(agent_id, created, main, branch_id, tests, report)


def _apply_agent(ctx: ApplyContext, planned: AgentPlan) -> AgentOutcome:
    staged = stage_agent(ctx, planned)
    slug, report, branch_id = planned.slug, staged.report, staged.branch_id
    if not report.ok:
        names = ", ".join(v.name for v in report.failed)
        ctx.report(slug, f"tests failed ({names}): not merged; branch {branch_id} kept")
        return AgentOutcome(
            slug, "tests_failed", staged.agent_id, branch_id, staged.created, report
        )
    spec = ctx.project.agent(slug)
    _merge(ctx, spec, staged.main, branch_id)
    _patch_metadata(ctx, spec, staged.agent_id, planned)
    _verify(ctx, spec, staged.agent_id, staged.tests)
    ctx.report(slug, f"merged into main ({len(report.verdicts)} test(s) passed)")
    return AgentOutcome(slug, "merged", staged.agent_id, branch_id, staged.created, report)


def _create_shell(ctx: ApplyContext, spec: AgentSpec) -> str:
    desired = spec.desired(ctx.options.environment)
    body: dict[str, Any] = {
        "name": desired.get("name") or spec.slug,
        "tags": sorted({*desired.get("tags", ()), managed_tag(spec.slug)}),
        "conversation_config": {},
    }
    agent_id = ctx.client.create_agent(body, enable_versioning=True)
    ctx.report(spec.slug, f"created agent {agent_id} (empty until its tests pass)")
    return agent_id


def _read_main(
    ctx: ApplyContext, spec: AgentSpec, agent_id: str, planned: str | None
) -> RemoteAgent:
    main = RemoteAgent(agent_id, ctx.client.get_agent(agent_id))
    if main.version_id is None or main.main_branch_id is None:
        raise UsageError(
            f"{spec.slug}: agent {agent_id} has versioning off; convai-ops needs branches: "
            "enable versioning for it in the ElevenLabs dashboard, then re-run"
        )
    if planned is not None and main.version_id != planned:
        raise MainMovedError(
            f"{spec.slug}: main moved from version {planned} to {main.version_id} since the plan; "
            "re-run plan"
        )
    return main


def _sync_knowledge(ctx: ApplyContext, spec: AgentSpec) -> list[dict[str, Any]]:
    return [_locator(ctx, spec, k) for k in spec.knowledge]


def _locator(ctx: ApplyContext, spec: AgentSpec, knowledge: KnowledgeSpec) -> dict[str, Any]:
    name = document_name(spec.slug, knowledge)
    doc_id = knowledge.id if knowledge.kind == "id" else ctx.index.document_ids.get(name)
    kind = {"file": "text", "url": "url", "id": "text"}[knowledge.kind]
    if doc_id is None:
        doc = _upload(ctx, spec, knowledge, name)
        doc_id = doc["id"]
        ctx.report(spec.slug, f"uploaded knowledge-base document {name!r} ({doc_id})")
    elif knowledge.kind == "id":
        doc = ctx.client.get_document(doc_id)
        name, kind = doc.get("name", name), doc.get("type", kind)
    if knowledge.kind == "file" and not _is_text_file(knowledge):
        kind = "file"
    return {"type": kind, "name": name, "id": doc_id, "usage_mode": knowledge.usage_mode or "auto"}


def _upload(
    ctx: ApplyContext, spec: AgentSpec, knowledge: KnowledgeSpec, name: str
) -> dict[str, Any]:
    if knowledge.kind == "url":
        return ctx.client.create_url_document(str(knowledge.url), name=name)
    path = spec.dir / str(knowledge.path)
    if _is_text_file(knowledge):
        return ctx.client.create_text_document(path.read_text(encoding="utf-8"), name=name)
    return ctx.client.create_file_document(path.name, path.read_bytes(), name=name)


def _is_text_file(knowledge: KnowledgeSpec) -> bool:
    return str(knowledge.path).lower().endswith((".md", ".txt", ".markdown"))


def _stage_branch(
    ctx: ApplyContext,
    spec: AgentSpec,
    main: RemoteAgent,
    tests: Sequence[SyncedTest],
    locators: list[dict[str, Any]],
    branch_name: str | None,
) -> str:
    conversation, platform = _branch_config(ctx, spec, tests, locators)
    existing = _find_branch(ctx, main.agent_id, branch_name) if branch_name else None
    if existing:
        body = {"conversation_config": conversation, "platform_settings": platform}
        ctx.client.update_agent(main.agent_id, body, branch_id=existing)
        ctx.report(spec.slug, f"updated branch {branch_name} ({existing})")
        return existing
    created = ctx.client.create_branch(
        main.agent_id,
        parent_version_id=str(main.version_id),
        name=branch_name or f"convai-ops-{int(time.time() * 1000)}",
        description=ctx.options.description,
        conversation_config=conversation,
        platform_settings=platform,
    )
    branch_id: str = created["created_branch_id"]
    ctx.report(spec.slug, f"created branch {branch_id} from main version {main.version_id}")
    return branch_id


def _find_branch(ctx: ApplyContext, agent_id: str, name: str) -> str | None:
    branches = ctx.client.list_branches(agent_id)
    return next((b["id"] for b in branches if b["name"] == name and not b["is_archived"]), None)


def _branch_config(
    ctx: ApplyContext, spec: AgentSpec, tests: Sequence[SyncedTest], locators: list[dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    desired = spec.desired(ctx.options.environment)
    conversation = _deep_copy(desired.get("conversation_config") or {})
    platform = _deep_copy(desired.get("platform_settings") or {})
    if spec.knowledge:
        prompt = conversation.setdefault("agent", {}).setdefault("prompt", {})
        prompt["knowledge_base"] = locators
    if spec.tests:
        testing = platform.setdefault("testing", {})
        testing["attached_tests"] = [{"test_id": t.test_id} for t in tests]
    return conversation, platform


def _deep_copy(value: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _deep_copy(v) if isinstance(v, Mapping) else v for k, v in value.items()}


def _run_tests(
    ctx: ApplyContext, slug: str, agent_id: str, tests: Sequence[SyncedTest], branch_id: str
) -> TestReport:
    if not tests:
        ctx.report(slug, "warning: no tests declared; the change is merged untested")
        return TestReport(agent_id, branch_id, (), ())
    return run_agent_tests(
        ctx.client,
        agent_id,
        tests,
        branch_id=branch_id,
        policy=ctx.options.policy,
        progress=lambda message: ctx.report(slug, message),
    )


def _merge(ctx: ApplyContext, spec: AgentSpec, main: RemoteAgent, branch_id: str) -> None:
    current = RemoteAgent(main.agent_id, ctx.client.get_agent(main.agent_id))
    if current.version_id != main.version_id:
        raise MainMovedError(
            f"{spec.slug}: main moved from version {main.version_id} to {current.version_id} "
            f"while the tests ran; not merged, branch {branch_id} kept. Re-run apply"
        )
    ctx.client.merge_branch(
        main.agent_id, branch_id, str(main.main_branch_id), archive_source_branch=True
    )


def _patch_metadata(ctx: ApplyContext, spec: AgentSpec, agent_id: str, planned: AgentPlan) -> None:
    fields = {c.path[0] for c in planned.changes if c.path[0] in ("name", "tags")}
    if not fields or planned.action == "create":
        return
    desired = spec.desired(ctx.options.environment)
    body: dict[str, Any] = {}
    if "name" in fields:
        body["name"] = desired.get("name")
    if "tags" in fields:
        body["tags"] = sorted({*desired.get("tags", ()), managed_tag(spec.slug)})
    ctx.client.update_agent(agent_id, body)


def _verify(ctx: ApplyContext, spec: AgentSpec, agent_id: str, tests: Sequence[SyncedTest]) -> None:
    index = replace(
        ctx.index,
        test_names={**ctx.index.test_names, **{t.test_id: t.remote_name for t in tests}},
    )
    main = RemoteAgent(agent_id, ctx.client.get_agent(agent_id))
    replan = make_agent_plan(
        spec, main, index, ctx.options.environment, tuple(ctx.project.config.ignore)
    )
    if replan.changes:
        fields = ", ".join(c.dotted for c in replan.changes)
        raise VerifyError(f"{spec.slug}: after the merge main does not hold: {fields}")
