"""Renderers of a ``Plan``: text (optionally coloured), markdown (for pull requests), JSON.

Markers: ``+`` create / add, ``~`` update / change, ``-`` delete / remove, ``=`` no change.
Multi-line or long strings (prompts) are shown as a unified line diff, not two blobs.
A list item added or removed (``criteria[greeted]``) and a workflow node shows one line per
field under its head line; a workflow edge shows as ``source -> target``; a reorder as
``order [...] -> [...]``. The markdown plan adds a Mermaid diagram of a changed workflow.
A change no version holds ends with :data:`UNGATED` (apply writes it on main after the merge);
an agent with only such changes is marked :data:`METADATA_ONLY` (written directly). A change of
``tags`` replacing one managed tag by another (a re-tag after ``convai-ops mv``) shows as
``~ tag convai-ops:OLD -> convai-ops:NEW``. Orphans (managed agents with no folder) show as
``? orphan: <slug> <agent id> (no folder; use --prune to delete)`` in text and markdown and
under ``orphans`` in JSON, and are counted in the summary line.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import click

from convai_ops.field_diff import is_item_segment
from convai_ops.orphans import Orphan
from convai_ops.plan import AgentPlan, FieldChange, Plan
from convai_ops.state import MANAGED_TAG_PREFIX

if TYPE_CHECKING:
    from convai_ops.apply import AgentOutcome, ApplyResult
    from convai_ops.prune import PruneOutcome
    from convai_ops.testing import AgentTestRun, TestVerdict
from convai_ops.workflow_diff import graph_summary, mermaid

__all__ = [
    "MARKDOWN_LIMIT",
    "METADATA_ONLY",
    "TESTS_ON_MAIN",
    "UNGATED",
    "coloured",
    "gutter",
    "is_long_text",
    "orphan_line",
    "plain",
    "render_apply_result",
    "render_plan",
    "render_plan_json",
    "render_plan_markdown",
    "render_plan_text",
    "render_prune_result",
    "render_test_runs",
    "show_value",
    "summary_line",
    "text_diff",
    "untested_line",
]

MARKDOWN_LIMIT = 60_000
UNGATED = " (not gated by tests)"
METADATA_ONLY = "metadata only: written directly, no tests"
TESTS_ON_MAIN = "no versioned change: tests run on main, then written directly"
NO_TESTS = "no tests: will not merge"
NO_TESTS_HINT = "add tests under agents/{slug}/tests/, or set require_tests: false"
_LONG = 72
_MARK = {
    "create": "+",
    "update": "~",
    "no-op": "=",
    "add": "+",
    "change": "~",
    "remove": "-",
    "reorder": "~",
}
_INDENT = "    "
_COLOUR = {"+": "green", "~": "yellow", "-": "red", "=": None, "@": "cyan", "!": "red"}

Styler = Callable[[str, str], str]


def plain(text: str, marker: str) -> str:
    """``text`` unstyled (the ``Styler`` for files and pipes)."""
    return text


def gutter(text: str, marker: str) -> str:
    """``text`` with its ``marker`` at column 0 (the ``Styler`` of markdown ```diff blocks,
    which GitHub colours by a line's first character): ``    ~ a.b: 1 -> 2`` becomes
    ``~ a.b: 1 -> 2``; a nested line ``        + Refunds`` becomes ``+    Refunds``, as does a
    field line of an object added whole (which has no marker of its own); a context line starts
    with a space and a hunk header ``@@ ... @@`` at column 0."""
    line = text.removeprefix(_INDENT)
    if not line.startswith(_INDENT):
        return line
    inner = line.removeprefix(_INDENT)
    if marker == "@":
        return inner
    content = inner[2:] if inner.startswith(f"{marker} ") else inner
    return f"{marker}{_INDENT}{content}"


def coloured(text: str, marker: str) -> str:
    """``text`` in the colour of its ``marker`` (+ green, ~ yellow, - red, @ cyan)."""
    colour = _COLOUR.get(marker)
    return click.style(text, fg=colour) if colour else text


def summary_line(plan: Plan) -> str:
    """``Plan: 1 to create, 2 to update, 5 unchanged; 7 tests will run.``, with
    ``, 1 orphan`` (``, 1 orphan to delete`` when prune is on) before the ``;`` when the plan
    found orphans."""
    tests = plan.tests_to_run
    noun = "test" if tests == 1 else "tests"
    blocked = sum(a.blocked_without_tests for a in plan.agents)
    untested = f"; {blocked} agent(s) without tests will not merge" if blocked else ""
    return (
        f"Plan: {plan.count('create')} to create, {plan.count('update')} to update, "
        f"{plan.count('no-op')} unchanged{_orphan_count(plan)}; {tests} {noun} will run{untested}."
    )


def _orphan_count(plan: Plan) -> str:
    if not plan.orphans:
        return ""
    count = len(plan.orphans)
    return f", {count} orphan{'s' if count != 1 else ''}{' to delete' if plan.prune else ''}"


def orphan_line(orphan: Orphan) -> str:
    """``? orphan: assistant agent_123 (no folder; use --prune to delete)``."""
    return f"? orphan: {orphan.slug} {orphan.agent_id} (no folder; use --prune to delete)"


def _orphan_lines(plan: Plan) -> Iterator[str]:
    for orphan in plan.orphans:
        yield orphan_line(orphan)
        if plan.prune:
            yield f"    prune is on: apply deletes agent {orphan.agent_id} ({orphan.name!r})"
    if plan.orphans:
        yield ""


def render_plan_text(plan: Plan, *, colour: bool = False) -> str:
    """The plan as terminal text; ``colour`` adds ANSI colours to the markers."""
    style = coloured if colour else plain
    lines = [line for agent in plan.agents for line in _agent_lines(agent, style)]
    lines.extend(style(line, "-" if plan.prune else "~") for line in _orphan_lines(plan))
    if not plan.has_changes:
        lines.append("No changes. The live agents match the repository.")
    lines.append(summary_line(plan))
    return "\n".join(lines) + "\n"


def _agent_lines(agent: AgentPlan, style: Styler) -> Iterator[str]:
    mark = _MARK[agent.action]
    where = f" ({agent.agent_id})" if agent.agent_id else ""
    if agent.action == "no-op":
        yield style(f"= {agent.slug}{where}: no changes", mark)
        yield from _untested_lines(agent, style)
        return
    hint = f"; {agent.hint}" if agent.hint else ""
    yield style(f"{mark} {agent.slug}{where} {_verb(agent)}{hint}", mark)
    yield from _untested_lines(agent, style)
    for change in agent.changes:
        yield from _change_lines(change, style)
    if agent.unchanged and agent.action == "update":
        yield f"    ({agent.unchanged} unchanged field{'s' if agent.unchanged != 1 else ''} hidden)"
    if agent.ungated and not agent.direct:
        when = "outside the branch" if agent.action == "create" else "on main after the merge"
        yield f"    ({len(agent.ungated)} not gated by tests: written {when})"
    if agent.tests and not agent.metadata_only:
        where = "main" if agent.direct else "the branch"
        yield f"    tests to run on {where}: {', '.join(agent.tests)}"
    if agent.blocked_without_tests:
        yield style(f"    ! {NO_TESTS} ({NO_TESTS_HINT.format(slug=agent.slug)})", "-")
    yield ""


def untested_line(untested: str) -> str:
    """``! main holds an untested change (--skip-tests by X: "reason")``."""
    return f"! main holds an untested change ({untested})"


def _untested_lines(agent: AgentPlan, style: Styler) -> Iterator[str]:
    if agent.untested:
        yield style(f"    {untested_line(agent.untested)}", "!")


def _verb(agent: AgentPlan) -> str:
    if agent.action == "create":
        return "will be created"
    return f"({_direct(agent)})" if agent.direct else "will be updated on a tested branch"


def _direct(agent: AgentPlan) -> str:
    return METADATA_ONLY if agent.metadata_only else TESTS_ON_MAIN


def _change_lines(change: FieldChange, style: Styler) -> Iterator[str]:
    mark, label = _MARK[change.kind], "" if change.gated else UNGATED
    if change.path == ("tags",) and change.kind == "change":
        retag = _retag_line(change.before, change.after)
        if retag:
            yield style(f"    ~ {retag}{label}", "~")
            if _own_tags(change.before) == _own_tags(change.after):
                return
    if is_long_text(change.before) or is_long_text(change.after):
        yield style(f"    {mark} {change.dotted}:{label}", mark)
        for line in text_diff(change.before, change.after):
            yield style(f"        {line}", line[:1])
        return
    whole = change.after if change.kind == "add" else change.before
    if change.kind in ("add", "remove") and isinstance(whole, Mapping) and whole:
        yield from _object_lines(change, whole, style)
        return
    yield style(f"    {mark} {change.dotted}: {_shown(change)}{label}", mark)


def _retag_line(before: Any, after: Any) -> str:
    """``tag convai-ops:OLD -> convai-ops:NEW`` when one managed tag replaces another."""
    gone = sorted(set(_managed(before)) - set(_managed(after)))
    new = sorted(set(_managed(after)) - set(_managed(before)))
    return f"tag {', '.join(gone)} -> {', '.join(new)}" if gone and new else ""


def _managed(tags: Any) -> list[str]:
    return [t for t in tags or () if isinstance(t, str) and t.startswith(MANAGED_TAG_PREFIX)]


def _own_tags(tags: Any) -> list[str]:
    return sorted(t for t in tags or () if t not in _managed(tags))


def _shown(change: FieldChange) -> str:
    if change.kind == "add":
        return show_value(change.after)
    if change.kind == "remove":
        return show_value(change.before)
    if change.kind == "reorder":
        return f"order {show_value(change.before)} -> {show_value(change.after)}"
    return f"{show_value(change.before)} -> {show_value(change.after)}"


def _object_lines(change: FieldChange, value: Mapping[str, Any], style: Styler) -> Iterator[str]:
    """An object added or removed whole: a workflow edge on one line (source -> target), a
    workflow node or a list item as a head line and one line per field; any other object on
    one line."""
    mark, label = _MARK[change.kind], "" if change.gated else UNGATED
    summary = graph_summary(change.path, value)
    if summary is not None and change.path[1] == "edges":
        yield style(f"    {mark} {change.dotted}: {summary}{label}", mark)
        return
    if summary is None and not is_item_segment(change.path[-1]):
        yield style(f"    {mark} {change.dotted}: {show_value(value)}{label}", mark)
        return
    head = f" {summary}" if summary else ""
    yield style(f"    {mark} {change.dotted}:{head}{label}", mark)
    for key, field in value.items():
        yield style(f"        {key}: {show_value(field)}", mark)


def is_long_text(value: Any) -> bool:
    """True for strings shown as a line diff: multi-line, or longer than 72 characters."""
    return isinstance(value, str) and ("\n" in value or len(value) > _LONG)


def text_diff(before: Any, after: Any) -> Iterator[str]:
    """Unified diff lines (one line of context) from ``before`` to ``after``."""
    old = before.splitlines() if isinstance(before, str) else []
    new = after.splitlines() if isinstance(after, str) else []
    diff = difflib.unified_diff(old, new, lineterm="", n=1)
    for line in diff:
        if line.startswith(("---", "+++")):
            continue
        yield line if line.startswith("@@") else f"{line[:1]} {line[1:]}"


def show_value(value: Any) -> str:
    """A value as compact JSON (strings quoted, keys sorted)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def render_plan_markdown(plan: Plan, *, limit: int = MARKDOWN_LIMIT) -> str:
    """The plan for a pull-request comment: one collapsible section per changed agent.

    The result stays under ``limit`` characters; agents that do not fit are named in a
    truncation note.
    """
    head = f"### convai-ops plan: environment `{plan.environment}`\n\n**{summary_line(plan)}**\n\n"
    note = (
        "\n_{n} more agent(s) not shown to stay under the comment size limit; see the job log._\n"
    )
    parts, omitted = [head], 0
    for agent in plan.agents:
        block = _agent_markdown(agent)
        if sum(map(len, parts)) + len(block) + len(note) + 20 > limit:
            omitted += 1
            continue
        parts.append(block)
    if omitted:
        parts.append(note.format(n=omitted))
    if plan.orphans:
        orphans = "\n".join(_orphan_lines(plan)).rstrip("\n")
        parts.append(f"\nManaged agents with no folder:\n\n```diff\n{orphans}\n```\n")
    return "".join(parts)


def _agent_markdown(agent: AgentPlan) -> str:
    mark = _MARK[agent.action]
    flag = f"\n  > **{untested_line(agent.untested)}**" if agent.untested else ""
    if agent.action == "no-op":
        return f"- `= {agent.slug}`: no changes{flag}\n"
    body = "\n".join(line for change in agent.changes for line in _change_lines(change, gutter))
    action = f"{agent.action} ({_direct(agent)})" if agent.direct else agent.action
    if agent.blocked_without_tests:
        action += f" (**{NO_TESTS}**: {NO_TESTS_HINT.format(slug=agent.slug)})"
    summary = f"<code>{mark} {agent.slug}</code> {action}: {len(agent.changes)} change(s)"
    summary += f" ({agent.hint})" if agent.hint else ""
    graph = _workflow_markdown(agent)
    flag = f"**{untested_line(agent.untested)}**\n\n" if agent.untested else ""
    details = f"<details><summary>{summary}</summary>\n\n```diff\n{body}\n```\n{graph}</details>"
    return f"{flag}{details}\n\n"


def _workflow_markdown(agent: AgentPlan) -> str:
    """The changed workflow as a Mermaid diagram (GitHub draws it), ``""`` when unchanged."""
    if agent.workflow is None:
        return ""
    legend = "green: added, red dashed: removed, yellow: changed"
    return f"\nWorkflow ({legend}):\n\n```mermaid\n{mermaid(agent.workflow)}```\n"


def render_plan_json(plan: Plan) -> str:
    """The plan as JSON: ``format_version``, environment, per-agent action (and
    ``direct`` / ``metadata_only``; ``merge_blocked``: ``"no tests: will not merge"`` or null),
    field changes (each with ``path``, ``field`` (dotted, list
    items as ``criteria[greeted]``), ``kind`` add/change/remove/reorder and ``gated``) and
    ``workflow`` (the changed workflow's nodes and edges with their marks, or ``null``), and
    ``orphans`` (``[{slug, agent_id, name}]``, with ``prune``); the summary counts orphans
    and, when prune is on, them as deletes."""
    data = plan.model_dump(mode="json")
    for agent, model in zip(data["agents"], plan.agents, strict=True):
        agent["direct"], agent["metadata_only"] = model.direct, model.metadata_only
        agent["merge_blocked"] = NO_TESTS if model.blocked_without_tests else None
        for change, field in zip(agent["changes"], model.changes, strict=True):
            change["field"] = field.dotted
    data["summary"] = {
        "create": plan.count("create"),
        "update": plan.count("update"),
        "delete": len(plan.deletes),
        "orphans": len(plan.orphans),
        "tests_to_run": plan.tests_to_run,
        "blocked_without_tests": sum(a.blocked_without_tests for a in plan.agents),
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def render_plan(plan: Plan, fmt: str, *, colour: bool = False) -> str:
    """Render in ``fmt``: ``text``, ``markdown`` or ``json``."""
    if fmt == "json":
        return render_plan_json(plan)
    if fmt == "markdown":
        return render_plan_markdown(plan)
    return render_plan_text(plan, colour=colour)


def render_apply_result(result: ApplyResult, title: str = "Apply") -> str:
    """A closing report: one line per agent, every failed test with its rationale; the summary
    line starts with ``title`` (``Rollback`` for a rollback)."""
    lines = [""]
    for outcome in result.outcomes:
        lines.extend(_outcome_lines(outcome))
    counts = {s: sum(1 for o in result.outcomes if o.status == s) for s in _OUTCOME}
    summary = ", ".join(f"{n} {_OUTCOME[s]}" for s, n in counts.items() if n or s == "merged")
    lines.append(f"{title}: {summary}.")
    return "\n".join(lines) + "\n"


_OUTCOME = {
    "merged": "merged",
    "written": "written directly (no versioned change)",
    "tests_failed": "blocked by failing tests",
    "no_tests": "blocked: no tests",
    "rolled_back": "rolled back by their canary",
    "error": "failed with an error",
    "unchanged": "unchanged",
}


def _outcome_lines(outcome: AgentOutcome) -> Iterator[str]:
    if outcome.status == "unchanged":
        return
    if outcome.status == "merged":
        note = f" {outcome.message}" if outcome.message else ""
        yield f"+ {outcome.slug}: merged into main ({outcome.agent_id}){note}"
    elif outcome.status == "written":
        yield f"+ {outcome.slug}: {outcome.message} ({outcome.agent_id})"
    elif outcome.status == "tests_failed" and outcome.branch_id is None:
        yield f"x {outcome.slug}: tests failed on main: nothing written, main unchanged"
    elif outcome.status == "tests_failed":
        yield (
            f"x {outcome.slug}: tests failed: NOT merged, main unchanged; "
            f"branch {outcome.branch_id} kept for inspection"
        )
    elif outcome.status == "no_tests":
        yield f"x {outcome.slug}: {outcome.message}"
    else:
        yield f"! {outcome.slug}: {outcome.message}"
    if outcome.report:
        yield from (_verdict_line(v) for v in outcome.report.verdicts)


def _verdict_line(verdict: TestVerdict) -> str:
    mark = "pass" if verdict.ok else "FAIL"
    line = f"    {mark} {verdict.name} [{verdict.type}] {verdict.tally}"
    if not verdict.ok and verdict.rationales:
        line += f"\n         why: {verdict.rationales[0]}"
    return line


def render_prune_result(outcomes: Sequence[PruneOutcome]) -> str:
    """One line per orphan apply tried to delete, and a closing count."""
    lines = [
        f"- {o.orphan.slug}: deleted orphan agent {o.orphan.agent_id}"
        if o.ok
        else f"! {o.orphan.slug}: could not delete orphan agent {o.orphan.agent_id}: {o.error}"
        for o in outcomes
    ]
    deleted = sum(1 for o in outcomes if o.ok)
    lines.append(f"Prune: {deleted} orphan(s) deleted, {len(outcomes) - deleted} failed.")
    return "\n".join(lines) + "\n"


def render_test_runs(runs: Sequence[AgentTestRun]) -> str:
    """A results table per agent: test, type, ``passed x/N (needs M)``, each failure's rationale."""
    lines: list[str] = []
    for run in runs:
        if run.report is None:
            lines.append(f"- {run.slug}: skipped (no tests, or the agent does not exist yet)")
            continue
        status = "all passed" if run.report.ok else f"{len(run.report.failed)} failed"
        lines.append(f"{run.slug} on {run.target}: {status}")
        lines.extend(_verdict_line(v) for v in run.report.verdicts)
    total = [v for r in runs if r.report for v in r.report.verdicts]
    failed = sum(1 for v in total if not v.ok)
    lines.append(f"Tests: {len(total) - failed} passed, {failed} failed.")
    return "\n".join(lines) + "\n"
