"""Steps 1-5 of the gated apply, shared by ``apply``, ``check`` and ``promote``: stage an
agent's change on a branch and test it there. Nothing here merges (:mod:`convai_ops.apply`
does, through :mod:`convai_ops.merge`).

1. A new agent is first created as an empty shell carrying only its name and tags
   (``POST /v1/convai/agents/create``); its config arrives through the same gate as any change.
2. Main is read (``GET /v1/convai/agents/{id}``); if it moved since the plan, stop.
3. Tools the agent names are resolved to the workspace tools with the files' content, created
   when missing (``workspace_tools.resolve_tools``; a tool main uses is never changed);
   knowledge-base files are uploaded under content-addressed names (never overwritten);
   tests are created under content-addressed names (``testing.sync_tests``).
4. ``POST /v1/convai/agents/{id}/branches`` from main's version carries the declared
   ``conversation_config`` (with the document locators and ``prompt.tool_ids``), the
   ``workflow`` and the *versioned* subset of ``platform_settings`` only
   (:mod:`convai_ops.unversioned`); documents retrieved through RAG are then indexed
   (``knowledge.wait_for_rag_indexes``).
5. The tests run on that branch, named in the run-tests call (``testing.run_agent_tests``).
"""

from __future__ import annotations

import copy
import functools
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from convai_ops.agent_branches import create_named_branch, find_branch
from convai_ops.errors import MainMovedError, UsageError
from convai_ops.knowledge import sync_knowledge, wait_for_rag_indexes
from convai_ops.state import RemoteAgent, RemoteIndex, managed_tag
from convai_ops.testing import PollPolicy, SyncedTest, TestReport, run_agent_tests, sync_tests
from convai_ops.unversioned import versioned_platform_settings
from convai_ops.workspace_tools import main_tool_ids, resolve_tools

if TYPE_CHECKING:
    from convai_ops.api import ConvaiClient
    from convai_ops.breakglass import BreakGlass
    from convai_ops.canary.config import CanaryConfig
    from convai_ops.plan import AgentPlan
    from convai_ops.settings import Settings
    from convai_ops.spec import AgentSpec, Project

__all__ = [
    "BRANCH_PREFIX",
    "ApplyContext",
    "ApplyOptions",
    "Reporter",
    "Staged",
    "apply_branch_name",
    "read_main",
    "run_tests_on",
    "stage_agent",
    "sync_agent_tools",
]

BRANCH_PREFIX = "convai-ops-"
Reporter = Callable[[str, str], None]


@dataclass(frozen=True)
class ApplyOptions:
    """How to apply: environment, thread count, polling, and the branch description.

    ``break_glass`` (``--skip-tests --reason``): no test runs (``run_tests_on`` reports none),
    and the description starts with its record (:mod:`convai_ops.breakglass`)."""

    environment: str
    concurrency: int = 8
    policy: PollPolicy = field(default_factory=PollPolicy)
    description: str = "convai-ops apply"
    rebase: bool = False
    cleanup: bool = False
    break_glass: BreakGlass | None = None
    canary: CanaryConfig | None = None  # set: a canary on live traffic before each merge
    ignore_traffic_split: bool = False  # merge even when a split not made by convai-ops exists

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        commit: str | None = None,
        rebase: bool = False,
        cleanup: bool = False,
        break_glass: BreakGlass | None = None,
    ) -> ApplyOptions:
        """Options from resolved ``Settings``; ``commit`` (sha and subject) goes in the branch
        description so every branch names the commit it was tested from; ``break_glass``
        prefixes its record there."""
        policy = PollPolicy(settings.poll_initial, settings.poll_max, settings.test_timeout)
        description = f"convai-ops apply from {commit}" if commit else "convai-ops apply"
        if break_glass is not None:
            description = break_glass.describe(description)
        env, concurrency = settings.environment, settings.concurrency
        return cls(env, concurrency, policy, description, rebase, cleanup, break_glass)


@dataclass(frozen=True)
class ApplyContext:
    """What staging and applying an agent needs: the client, the project, the list-call
    index of this run, the options and a reporter ``(slug, message) -> None``."""

    client: ConvaiClient
    project: Project
    index: RemoteIndex
    options: ApplyOptions
    report: Reporter


@dataclass(frozen=True)
class Staged:
    """An agent's change staged on a branch and tested there (nothing merged yet);
    ``version_id`` is the branch version the tests ran against."""

    agent_id: str
    created: bool
    main: RemoteAgent
    branch_id: str
    tests: tuple[SyncedTest, ...]
    report: TestReport
    version_id: str | None = None


def stage_agent(ctx: ApplyContext, planned: AgentPlan, *, branch_name: str | None = None) -> Staged:
    """Steps 1-5 of the module docstring: shell, main, uploads, branch, tests. Never merges.

    With ``branch_name``, the branch of that name is reused (its config replaced by
    ``PATCH /v1/convai/agents/{id}?branch_id=``) instead of creating a new one: later pushes to
    a pull request update the same branch. An archived one is first unarchived
    (``PATCH .../branches/{branch_id}``): a name stays taken while its branch is archived.
    Raises ``UsageError`` before anything is uploaded when ``branch_name`` is main's.
    """
    spec = ctx.project.agent(planned.slug)
    agent_id, created = planned.agent_id, False
    if agent_id is None:
        agent_id, created = _create_shell(ctx, spec), True
    main = read_main(ctx, spec, agent_id, None if created else planned.base_version_id)
    existing = _find_branch(ctx, spec, main, branch_name) if branch_name else None
    tool_ids = sync_agent_tools(ctx, spec, main)
    tests = tuple(sync_tests(ctx.client, spec.slug, spec.tests, ctx.index, tool_ids))
    locators = sync_knowledge(ctx.client, spec, ctx.index, ctx.report)
    refs = _References(locators, [tool_ids[name] for name in spec.tools or ()])
    branch_id, version_id = _stage_branch(ctx, spec, main, tests, refs, branch_name, existing)
    if spec.knowledge:  # tests must not run before the documents are RAG-indexed
        say = functools.partial(ctx.report, spec.slug)
        wait_for_rag_indexes(ctx.client, agent_id, branch_id, ctx.options.policy, say)
    report = run_tests_on(ctx, spec.slug, agent_id, tests, branch_id)
    return Staged(agent_id, created, main, branch_id, tests, report, version_id)


def sync_agent_tools(ctx: ApplyContext, spec: AgentSpec, main: RemoteAgent) -> dict[str, str]:
    """``{name: tool id}`` of the tools the agent and its tests name: the workspace tools with
    the files' content (main's own first), created when missing; never one main uses changed."""
    say = functools.partial(ctx.report, spec.slug)
    prefer = main_tool_ids(main.config)
    tools = ctx.project.tools
    return resolve_tools(ctx.client, spec, tools, ctx.index.tools, prefer, say)


@dataclass(frozen=True)
class _References:
    """What the branch's prompt points at: document locators and (``tools:``) tool ids."""

    locators: list[dict[str, Any]]
    tool_ids: list[str]


def _create_shell(ctx: ApplyContext, spec: AgentSpec) -> str:
    desired = spec.desired(ctx.options.environment)
    body: dict[str, Any] = {
        "name": desired.get("name") or spec.slug,
        "tags": sorted({*desired.get("tags", ()), managed_tag(spec.slug)}),
        "conversation_config": {},
    }
    agent_id = ctx.client.create_agent(body, identity_tag=managed_tag(spec.slug))
    ctx.report(spec.slug, f"created agent {agent_id} (empty until its tests pass)")
    return agent_id


def read_main(
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


def _stage_branch(
    ctx: ApplyContext,
    spec: AgentSpec,
    main: RemoteAgent,
    tests: Sequence[SyncedTest],
    refs: _References,
    branch_name: str | None,
    existing: str | None,
) -> tuple[str, str | None]:
    """Write the change on the branch; return ``(branch_id, its new version_id)``."""
    conversation, platform = _branch_config(ctx, spec, tests, refs)
    change: dict[str, Any] = {"conversation_config": conversation, "platform_settings": platform}
    workflow = spec.desired(ctx.options.environment).get("workflow")
    if workflow is not None:  # versioned: the branch holds it, the API replaces it whole
        change["workflow"] = copy.deepcopy(workflow)
    if existing:
        updated = ctx.client.update_agent(main.agent_id, change, branch_id=existing)
        ctx.report(spec.slug, f"updated branch {branch_name} ({existing})")
        return existing, updated.get("version_id")
    created = create_named_branch(
        ctx.client,
        main.agent_id,
        parent_version_id=str(main.version_id),
        name=branch_name or apply_branch_name(),
        description=ctx.options.description,
        change=change,
        who=spec.slug,
    )
    branch_id: str = created["created_branch_id"]
    ctx.report(spec.slug, f"created branch {branch_id} from main version {main.version_id}")
    return branch_id, created.get("created_version_id")


def apply_branch_name() -> str:
    """A fresh name for apply's branch, ``convai-ops-<unix milliseconds>-<8 hex>``: the random
    part keeps two applies started in the same millisecond (two CI jobs) from colliding on the
    API's one-name-per-agent rule (``409``)."""
    return f"{BRANCH_PREFIX}{int(time.time() * 1000)}-{secrets.token_hex(4)}"


def _find_branch(ctx: ApplyContext, spec: AgentSpec, main: RemoteAgent, name: str) -> str | None:
    """The id of the agent's branch called ``name`` (unarchived first if need be), or ``None``
    when none was found: unarchived branches are looked at first, then all (each list holds at
    most 100, with no cursor), so ``None`` may mean "beyond the list"; creating it then meets
    the taken name (``create_named_branch``). Raises ``UsageError`` when that branch is
    main: staging never writes there."""
    found = find_branch(ctx.client, main.agent_id, name).found
    if found is None:
        return None
    if found["id"] == main.main_branch_id:
        raise UsageError(
            f"{spec.slug}: {name!r} is the agent's main branch; a check never writes to main: "
            "pass another --branch-name"
        )
    if found["is_archived"]:
        ctx.client.update_branch(main.agent_id, found["id"], is_archived=False)
        ctx.report(spec.slug, f"unarchived branch {name} ({found['id']}) to reuse it")
    return str(found["id"])


def _branch_config(
    ctx: ApplyContext, spec: AgentSpec, tests: Sequence[SyncedTest], refs: _References
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The branch's ``conversation_config`` (with the document locators and, when the agent
    declares ``tools:``, the ``prompt.tool_ids``) and the versioned subset of
    ``platform_settings``: agent-wide settings and the attached tests stay off the branch
    (written on main after the merge); the tests are named in the run-tests call."""
    desired = spec.desired(ctx.options.environment)
    conversation = copy.deepcopy(desired.get("conversation_config") or {})
    if spec.knowledge:
        prompt = conversation.setdefault("agent", {}).setdefault("prompt", {})
        prompt["knowledge_base"] = refs.locators
    if spec.tools is not None:
        prompt = conversation.setdefault("agent", {}).setdefault("prompt", {})
        prompt["tool_ids"] = refs.tool_ids
    return conversation, versioned_platform_settings(desired)


def run_tests_on(
    ctx: ApplyContext,
    slug: str,
    agent_id: str,
    tests: Sequence[SyncedTest],
    branch_id: str | None,
) -> TestReport:
    """Run ``tests`` on ``branch_id`` (main when ``None``); an empty report, with nothing run,
    when there are none or under ``--skip-tests`` (``ApplyOptions.break_glass``)."""
    if ctx.options.break_glass is not None:
        ctx.report(slug, "--skip-tests: tests NOT run (break-glass)")
        return TestReport(agent_id, branch_id, (), ())
    if not tests:
        ctx.report(slug, "no tests declared: nothing to run on the branch")
        return TestReport(agent_id, branch_id, (), ())
    return run_agent_tests(
        ctx.client,
        agent_id,
        tests,
        branch_id=branch_id,
        policy=ctx.options.policy,
        progress=lambda message: ctx.report(slug, message),
    )
