"""The plan: field by field, how the live agents differ from the repository.

``make_plan(project, snapshot, env)`` is a pure function of the desired state and what
``state.read_snapshot`` read; it makes no API call. Both sides are first turned into *views*
holding only what the repository declares:

- ``name``, ``tags`` (when declared; the managed tag ``convai-ops:<slug>`` is always added,
  the live break-glass marker ``convai-ops-untested`` never compared), the declared subsets
  of ``conversation_config`` and ``platform_settings``;
- ``knowledge_base``: the sorted document names (content-addressed for local files);
- ``tests``: the sorted remote test names (content-addressed) attached to the agent;
- ``workflow`` (when declared): the whole graph on both sides, response defaults filled in
  (:func:`workflow_view`): a write replaces it whole, so what the repository lacks differs;
- ``tools`` (when ``agent.yaml`` declares ``tools:``): ``{name: tool_config}`` of the declared
  ``tools/<name>.yaml`` against the workspace tools main's ``prompt.tool_ids`` point at (keyed by
  their names; an id the tools list does not know is keyed by the id), compared with the
  response schema's defaults filled on both sides (``workspace_tools.remote_tools_view``). A
  tool change is gated: the changed tool is a new workspace tool, referenced from the branch.

List items are compared with the API's response defaults filled in on both sides
(:func:`with_list_defaults`), so an item declared with its required fields only equals the
item the API stores. Paths listed under ``ignore:`` (JSON pointers, project-wide and per
agent) are removed from both views. The views are compared with deepdiff
(:mod:`convai_ops.field_diff`): a dict is walked key by key, a list of objects item by item,
matched by identity (``id``, else ``name``, ...: a path names the item as ``[greeted]``, and
a change of order is one ``reorder`` change); anything else is a leaf compared as JSON values
(a list of strings or of objects without identities is one field, shown whole; ``1 == 1.0``,
``True != 1``). A changed workflow also gets a diagram (:mod:`convai_ops.workflow_diff`,
``AgentPlan.workflow``). Values under sensitive keys (headers, secrets, tokens, passwords, API
keys) are masked. Apply still writes lists whole (the API replaces them whole): only the
display and the granularity of changes differ.

Identity and orphans (:mod:`convai_ops.state`): an agent found through a ``previous_slugs``
entry (``convai-ops mv``) still carries ``convai-ops:<old slug>``; its plan changes ``tags`` to
the new managed tag (shown as ``~ tag convai-ops:OLD -> convai-ops:NEW``; the user's own tags
are kept when ``tags:`` is not declared), never a create. :func:`build_plan` reads the agents
list even when every id is pinned (one paginated ``GET /v1/convai/agents``) to find *orphans*:
live agents carrying a managed tag whose slug has no folder and that no folder resolved to
(:class:`Orphan`). Apply deletes them only with ``--prune`` / ``prune: true``
(:attr:`Plan.prune`); a plan made for some ``--target`` agents lists none. A create whose name
an orphan carries says so (``AgentPlan.hint``: a folder renamed without ``convai-ops mv``).

Each change is ``gated`` (a version holds the field, so apply stages it on a branch and the
tests gate it) or not: ``name``, ``tags``, agent-wide ``platform_settings`` and the attached
``tests`` (:mod:`convai_ops.versioning`) are written on main after the merge, or directly when
the agent has no gated change (``AgentPlan.direct``, ``AgentPlan.metadata_only``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from convai_ops.dicts import json_equal
from convai_ops.field_diff import (
    ChangeKind,
    added_leaves,
    dotted,
    field_changes,
    identity_key,
    is_item_segment,
)
from convai_ops.orphans import Orphan, create_hint, find_orphans
from convai_ops.plan_views import (
    declared_view,
    desired_view,
    remote_view,
    with_list_defaults,
    without_pointers,
    workflow_view,
)
from convai_ops.reference_check import check_references
from convai_ops.state import (
    UNTESTED_TAG,
    RemoteAgent,
    RemoteIndex,
    Snapshot,
    managed_tag,
    read_snapshot,
)
from convai_ops.versioning import is_versioned_path
from convai_ops.workflow_diff import (
    WorkflowDiagram,
    expand_graph_changes,
    is_graph_entry,
    workflow_diagram,
)

if TYPE_CHECKING:
    from convai_ops.api import ConvaiClient
    from convai_ops.settings import Settings
    from convai_ops.spec import AgentSpec, Project

__all__ = [
    "FORMAT_VERSION",
    "AgentPlan",
    "FieldChange",
    "Orphan",
    "Plan",
    "build_plan",
    "changed_workflow_diagram",
    "desired_view",
    "diff_views",
    "make_agent_plan",
    "make_plan",
    "masked_changes",
    "remote_view",
    "with_list_defaults",
    "workflow_view",
]

FORMAT_VERSION = 2  # 2: FieldChange.gated
MASK = "***"
_SENSITIVE = re.compile(r"secret|password|api[_-]?key|authorization|headers|(^|_)token$", re.I)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class FieldChange(_Frozen):
    """One declared field that differs: ``path`` is the key path, an item of a list of objects
    named by its identity (``("platform_settings", "evaluation", "criteria", "[greeted]",
    "name")``); ``kind`` add/change/remove, or ``reorder`` (``before``/``after`` are then the
    list's item identities in order); ``gated`` is False for fields no version holds (never
    written on a branch, so not gated by tests: name, tags, agent-wide platform settings,
    attached tests)."""

    path: tuple[str, ...]
    kind: ChangeKind
    before: Any = None
    after: Any = None
    gated: bool = True

    @property
    def dotted(self) -> str:
        """The path as ``conversation_config.agent.prompt.prompt`` or
        ``platform_settings.evaluation.criteria[greeted].name``."""
        return dotted(self.path)


class AgentPlan(_Frozen):
    """What apply will do to one agent, and the remote version the plan was made against;
    ``workflow`` is the workflow's diagram when the plan changes it; ``require_tests`` is the
    agent's setting (see :attr:`blocked_without_tests`); ``untested`` says who merged main's
    config with ``--skip-tests`` and why (``breakglass.UntestedChange.summary``) until a tested
    apply supersedes it (``None``: main's last merge was tested); ``hint`` a note for its plan
    line (a create while an orphan has its name: ``convai-ops mv``)."""

    slug: str
    action: Literal["create", "update", "no-op"]
    agent_id: str | None = None
    base_version_id: str | None = None
    main_branch_id: str | None = None
    changes: tuple[FieldChange, ...] = ()
    unchanged: int = 0
    tests: tuple[str, ...] = ()
    desired_hash: str = ""
    workflow: WorkflowDiagram | None = None
    require_tests: bool = True
    untested: str | None = None
    hint: str = ""

    @property
    def direct(self) -> bool:
        """True for an update whose every change is ungated: nothing versioned changes, so
        apply needs no branch and no merge and writes the changes directly on main (after
        running the tests on main when the attached tests change)."""
        return self.action == "update" and not any(c.gated for c in self.changes)

    @property
    def blocked_without_tests(self) -> bool:
        """True when apply will stage the change but not merge it: a versioned change (not
        :attr:`direct`) of an agent with no tests that requires them (its gate would pass
        vacuously)."""
        return self.action != "no-op" and not self.direct and not self.tests and self.require_tests

    @property
    def metadata_only(self) -> bool:
        """True for a :attr:`direct` update that leaves the attached tests alone: written
        directly, with no tests run."""
        return self.direct and not any(c.path[0] == "tests" for c in self.changes)

    @property
    def ungated(self) -> tuple[FieldChange, ...]:
        """The changes apply writes on main after the merge (or directly), untested."""
        return tuple(c for c in self.changes if not c.gated)


class Plan(_Frozen):
    """The whole plan for one environment; ``format_version`` versions the JSON form.
    ``orphans`` are managed agents with no folder; ``prune`` says apply deletes them."""

    format_version: int = FORMAT_VERSION
    environment: str
    base_url: str
    agents: tuple[AgentPlan, ...]
    orphans: tuple[Orphan, ...] = ()
    prune: bool = False

    def count(self, action: str) -> int:
        """How many agents have ``action`` (create, update, no-op)."""
        return sum(1 for a in self.agents if a.action == action)

    @property
    def has_changes(self) -> bool:
        """True when any agent is to be created or updated."""
        return any(a.action != "no-op" for a in self.agents)

    @property
    def deletes(self) -> tuple[Orphan, ...]:
        """The orphans apply deletes: all of them with :attr:`prune`, else none."""
        return self.orphans if self.prune else ()

    @property
    def has_work(self) -> bool:
        """True when apply would write anything: an agent to create or update, or an orphan
        to delete (``plan --detailed-exitcode`` exits 2)."""
        return self.has_changes or bool(self.deletes)

    @property
    def tests_to_run(self) -> int:
        """Number of tests apply will run (those of agents changed through a branch)."""
        return sum(len(a.tests) for a in self.agents if a.action != "no-op" and not a.metadata_only)


def build_plan(
    client: ConvaiClient,
    project: Project,
    settings: Settings,
    *,
    orphans: bool = False,
    on_remote: Callable[[str, RemoteAgent], None] | None = None,
) -> tuple[Plan, Snapshot]:
    """Read the remote state of ``project``'s agents and plan them; returns both.

    The same plan as ``make_plan(project, snapshot, ...)``, but each agent is planned as soon
    as its read arrives, while the others are still being read. ``orphans`` (pass it only for
    the whole project, never for ``--target`` agents) lists the managed agents without a
    folder (:func:`find_orphans`; the agents list is then read even when every id is
    pinned). Raises ``SpecError`` for a reference missing in the environment
    (``reference_check.check_references``): nothing can be applied from such a plan;
    ``AmbiguousAgentError`` when two live agents carry one agent's tag. ``on_remote(slug,
    remote)`` is called as each live agent is read (in the calling thread), to start more reads;
    early answers not taken are then kept for those reads, and the caller ends them
    (``client.end_early_reads(drop=True)``, as ``TrafficReads.warnings`` does).
    """
    env, ignore = settings.environment, tuple(project.config.ignore)
    planned: dict[str, AgentPlan] = {}

    def plan_one(spec: AgentSpec, remote: RemoteAgent | None, index: RemoteIndex) -> None:
        if on_remote is not None and remote is not None:
            on_remote(spec.slug, remote)
        planned[spec.slug] = make_agent_plan(spec, remote, index, env, ignore)

    snapshot = read_snapshot(
        client,
        project.agents,
        env,
        concurrency=settings.concurrency,
        on_agent=plan_one,
        list_agents=orphans,
        keep_early=on_remote is not None,
    )
    check_references(project, snapshot.index, env)
    found = find_orphans(project, snapshot) if orphans else ()
    agents = tuple(
        planned[spec.slug].model_copy(update={"hint": create_hint(spec, env, found)})
        if planned[spec.slug].action == "create"
        else planned[spec.slug]
        for spec in project.agents
    )
    plan = Plan(environment=env, base_url=settings.base_url, agents=agents, orphans=found)
    return plan, snapshot


def make_plan(project: Project, snapshot: Snapshot, env: str, base_url: str = "") -> Plan:
    """Compare every agent of ``project`` with ``snapshot`` (pure; no API call)."""
    ignore = tuple(project.config.ignore)
    agents = tuple(
        make_agent_plan(spec, snapshot.agents.get(spec.slug), snapshot.index, env, ignore)
        for spec in project.agents
        if spec.slug in snapshot.agents
    )
    return Plan(environment=env, base_url=base_url, agents=agents)


def make_agent_plan(
    spec: AgentSpec,
    remote: RemoteAgent | None,
    index: RemoteIndex,
    env: str,
    ignore: Sequence[str] = (),
) -> AgentPlan:
    """Plan one agent: ``create`` when ``remote`` is ``None``, else ``update`` or ``no-op``."""
    pointers = (*ignore, *spec.ignore)
    declared = without_pointers(declared_view(spec, env), pointers)
    desired = with_list_defaults(dict(declared))
    before = (
        without_pointers(remote_view(remote.config, desired, spec, index), pointers)
        if remote
        else {}
    )
    changes = [_as_declared(c, declared) for c in diff_views(before, desired)]
    if remote is not None and "tags" not in desired:
        changes = _retag(spec, remote.config.get("tags")) + changes
    action = "create" if remote is None else ("update" if changes else "no-op")
    return AgentPlan(
        slug=spec.slug,
        action=action,
        agent_id=remote.agent_id if remote else None,
        base_version_id=remote.version_id if remote else None,
        main_branch_id=remote.main_branch_id if remote else None,
        changes=tuple(_masked(c) for c in changes),
        unchanged=max(0, _count_leaves(desired) - len(changes)),
        tests=tuple(t.name for t in spec.tests),
        desired_hash=_hash(desired),
        workflow=changed_workflow_diagram(before, desired, changes),
        require_tests=spec.require_tests,
    )


def _retag(spec: AgentSpec, tags: Any) -> list[FieldChange]:
    """When ``tags:`` is not declared: the change re-tagging an agent still carrying the tag of
    a previous slug (``convai-ops mv``): its tags with the old managed tags replaced by the new
    one (its other tags kept); none when it carries no old tag."""
    live = sorted(str(t) for t in tags or () if t != UNTESTED_TAG)  # apply keeps the marker
    old = {managed_tag(p) for p in spec.previous_slugs} & set(live)
    if not old:
        return []
    after = sorted({*(set(live) - old), managed_tag(spec.slug)})
    return [FieldChange(path=("tags",), kind="change", before=live, after=after, gated=False)]


def changed_workflow_diagram(
    before: Mapping[str, Any], desired: Mapping[str, Any], changes: Sequence[FieldChange]
) -> WorkflowDiagram | None:
    """The workflow's diagram from view ``before`` to view ``desired`` when ``changes`` touch
    the workflow (``None`` otherwise)."""
    if not any(c.path[0] == "workflow" for c in changes):
        return None
    return workflow_diagram(before.get("workflow"), desired.get("workflow"))


def _as_declared(change: FieldChange, declared: Mapping[str, Any]) -> FieldChange:
    """An added list item shown as the repository declares it, without the defaults the
    comparison filled in (the API fills them as it stores the item)."""
    if change.kind != "add" or not change.path or not is_item_segment(change.path[-1]):
        return change
    item = _at_path(declared, change.path)
    return change if item is _ABSENT else change.model_copy(update={"after": item})


_ABSENT = object()


def _at_path(view: Any, path: Sequence[str]) -> Any:
    """The value at ``path`` of ``view`` (item segments name list items by identity)."""
    for segment in path:
        if isinstance(view, list) and is_item_segment(segment):
            key = identity_key(view)
            found = [i for i in view if key is not None and f"[{i[key]}]" == segment]
            view = found[0] if len(found) == 1 else _ABSENT
        elif isinstance(view, Mapping) and segment in view:
            view = view[segment]
        else:
            return _ABSENT
    return view


def diff_views(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[FieldChange]:
    """Field changes turning ``before`` into ``after``, sorted by path.

    ``kind`` is ``add`` when the path is missing in ``before``, ``remove`` when missing in
    ``after``, ``reorder`` when a list's items changed order, else ``change``; ``gated`` from
    :func:`convai_ops.versioning.is_versioned_path`. Dicts present on both sides are walked key
    by key and lists of objects item by item, matched by identity (``[greeted]`` in the path;
    :func:`convai_ops.field_diff.field_changes`); a key or item on one side only is one change
    holding its whole value, except that a workflow, its ``nodes`` or its ``edges`` added or
    removed whole is one change per node and edge. An empty ``before`` gives every leaf of
    ``after`` (items of lists of objects, workflow nodes and edges: whole). Anything else is a
    leaf compared as JSON values (``dicts.json_equal``): a list without identities is one
    field, shown whole; ``1 == 1.0`` but ``True != 1``.
    """
    if json_equal(before, after):  # the common case (an in-sync agent): nothing to walk
        return []
    if before:
        found = expand_graph_changes(field_changes(before, after))
    else:  # nothing exists yet: every declared leaf, list item and workflow node is an add
        found = added_leaves(after, whole=is_graph_entry)
    return [
        FieldChange(
            path=c.path,
            kind=c.kind,
            before=c.before,
            after=c.after,
            gated=is_versioned_path(c.path),
        )
        for c in found
    ]


def masked_changes(changes: Sequence[FieldChange]) -> tuple[FieldChange, ...]:
    """``changes`` with values under sensitive keys masked, as the plan shows them."""
    return tuple(_masked(c) for c in changes)


def _masked(change: FieldChange) -> FieldChange:
    keys = (key for key in change.path if not is_item_segment(key))  # names, not keys
    if not any(_SENSITIVE.search(key) for key in keys):
        return change.model_copy(
            update={"before": _mask(change.before), "after": _mask(change.after)}
        )
    return change.model_copy(
        update={
            "before": None if change.before is None else MASK,
            "after": None if change.after is None else MASK,
        }
    )


def _mask(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: MASK if _SENSITIVE.search(str(k)) else _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return value


def _count_leaves(value: Any) -> int:
    if isinstance(value, Mapping) and value:
        return sum(_count_leaves(v) for v in value.values())
    if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        return sum(_count_leaves(v) for v in value)  # items are diffed field by field
    return 1


def _hash(view: Mapping[str, Any]) -> str:
    canonical = json.dumps(view, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
