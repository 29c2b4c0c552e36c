"""Renderers of a ``Plan``: text (optionally coloured), markdown (for pull requests), JSON.

Markers: ``+`` create / add, ``~`` update / change, ``-`` delete / remove, ``=`` no change.
Multi-line or long strings (prompts) are shown as a unified line diff, not two blobs.
A list item added or removed (``criteria[greeted]``) and a workflow node shows one line per
field under its head line; a workflow edge shows as ``source -> target``; a reorder as
``order [...] -> [...]``. The markdown plan adds a Mermaid diagram of a changed workflow.
A change no version holds ends with :data:`UNGATED` (apply writes it on main after the merge);
an agent with only such changes is marked :data:`METADATA_ONLY` (written directly).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import click

from convai_ops.field_diff import is_item_segment
from convai_ops.plan import AgentPlan, FieldChange, Plan

if TYPE_CHECKING:
    from convai_ops.apply import AgentOutcome, ApplyResult
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
    "plain",
    "render_apply_result",
    "render_plan",
    "render_plan_json",
    "render_plan_markdown",
    "render_plan_text",
    "render_test_runs",
    "show_value",
    "summary_line",
    "text_diff",
]

MARKDOWN_LIMIT = 60_000
UNGATED = " (not gated by tests)"
METADATA_ONLY = "metadata only: written directly, no tests"
TESTS_ON_MAIN = "no versioned change: tests run on main, then written directly"
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
_COLOUR = {"+": "green", "~": "yellow", "-": "red", "=": None, "@": "cyan"}

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
    """``Plan: 1 to create, 2 to update, 5 unchanged; 7 tests will run.`` (convai-ops never
    deletes an agent, so there is no count of deletes.)"""
    tests = plan.tests_to_run
    noun = "test" if tests == 1 else "tests"
    return (
        f"Plan: {plan.count('create')} to create, {plan.count('update')} to update, "
        f"{plan.count('no-op')} unchanged; {tests} {noun} will run."
    )


def render_plan_text(plan: Plan, *, colour: bool = False) -> str:
    """The plan as terminal text; ``colour`` adds ANSI colours to the markers."""
    style = coloured if colour else plain
    lines = [line for agent in plan.agents for line in _agent_lines(agent, style)]
    if not plan.has_changes:
        lines.append("No changes. The live agents match the repository.")
    lines.append(summary_line(plan))
    return "\n".join(lines) + "\n"


def _agent_lines(agent: AgentPlan, style: Styler) -> Iterator[str]:
    mark = _MARK[agent.action]
    where = f" ({agent.agent_id})" if agent.agent_id else ""
    if agent.action == "no-op":
        yield style(f"= {agent.slug}{where}: no changes", mark)
        return
    yield style(f"{mark} {agent.slug}{where} {_verb(agent)}", mark)
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
    yield ""


def _verb(agent: AgentPlan) -> str:
    if agent.action == "create":
        return "will be created"
    return f"({_direct(agent)})" if agent.direct else "will be updated on a tested branch"


def _direct(agent: AgentPlan) -> str:
    return METADATA_ONLY if agent.metadata_only else TESTS_ON_MAIN


def _change_lines(change: FieldChange, style: Styler) -> Iterator[str]:
    mark, label = _MARK[change.kind], "" if change.gated else UNGATED
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
    return "".join(parts)


def _agent_markdown(agent: AgentPlan) -> str:
    mark = _MARK[agent.action]
    if agent.action == "no-op":
        return f"- `= {agent.slug}`: no changes\n"
    body = "\n".join(line for change in agent.changes for line in _change_lines(change, gutter))
    action = f"{agent.action} ({_direct(agent)})" if agent.direct else agent.action
    summary = f"<code>{mark} {agent.slug}</code> {action}: {len(agent.changes)} change(s)"
    graph = _workflow_markdown(agent)
    return f"<details><summary>{summary}</summary>\n\n```diff\n{body}\n```\n{graph}</details>\n\n"


def _workflow_markdown(agent: AgentPlan) -> str:
    """The changed workflow as a Mermaid diagram (GitHub draws it), ``""`` when unchanged."""
    if agent.workflow is None:
        return ""
    legend = "green: added, red dashed: removed, yellow: changed"
    return f"\nWorkflow ({legend}):\n\n```mermaid\n{mermaid(agent.workflow)}```\n"


def render_plan_json(plan: Plan) -> str:
    """The plan as JSON: ``format_version``, environment, per-agent action (and
    ``direct`` / ``metadata_only``), field changes (each with ``path``, ``field`` (dotted, list
    items as ``criteria[greeted]``), ``kind`` add/change/remove/reorder and ``gated``) and
    ``workflow`` (the changed workflow's nodes and edges with their marks, or ``null``)."""
    data = plan.model_dump(mode="json")
    for agent, model in zip(data["agents"], plan.agents, strict=True):
        agent["direct"], agent["metadata_only"] = model.direct, model.metadata_only
        for change, field in zip(agent["changes"], model.changes, strict=True):
            change["field"] = field.dotted
    data["summary"] = {
        "create": plan.count("create"),
        "update": plan.count("update"),
        "delete": 0,
        "tests_to_run": plan.tests_to_run,
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def render_plan(plan: Plan, fmt: str, *, colour: bool = False) -> str:
    """Render in ``fmt``: ``text``, ``markdown`` or ``json``."""
    if fmt == "json":
        return render_plan_json(plan)
    if fmt == "markdown":
        return render_plan_markdown(plan)
    return render_plan_text(plan, colour=colour)


def render_apply_result(result: ApplyResult) -> str:
    """A closing report: one line per agent, every failed test with its rationale."""
    lines = [""]
    for outcome in result.outcomes:
        lines.extend(_outcome_lines(outcome))
    counts = {s: sum(1 for o in result.outcomes if o.status == s) for s in _OUTCOME}
    summary = ", ".join(f"{n} {_OUTCOME[s]}" for s, n in counts.items() if n or s == "merged")
    lines.append(f"Apply: {summary}.")
    return "\n".join(lines) + "\n"


_OUTCOME = {
    "merged": "merged",
    "written": "written directly (no versioned change)",
    "tests_failed": "blocked by failing tests",
    "rolled_back": "rolled back by their canary",
    "error": "failed with an error",
    "unchanged": "unchanged",
}


def _outcome_lines(outcome: AgentOutcome) -> Iterator[str]:
    if outcome.status == "unchanged":
        return
    if outcome.status == "merged":
        yield f"+ {outcome.slug}: merged into main ({outcome.agent_id})"
    elif outcome.status == "written":
        yield f"+ {outcome.slug}: {outcome.message} ({outcome.agent_id})"
    elif outcome.status == "tests_failed" and outcome.branch_id is None:
        yield f"x {outcome.slug}: tests failed on main: nothing written, main unchanged"
    elif outcome.status == "tests_failed":
        yield (
            f"x {outcome.slug}: tests failed: NOT merged, main unchanged; "
            f"branch {outcome.branch_id} kept for inspection"
        )
    else:
        yield f"! {outcome.slug}: {outcome.message}"
    if outcome.report:
        yield from (_verdict_line(v) for v in outcome.report.verdicts)


def _verdict_line(verdict: TestVerdict) -> str:
    mark = "pass" if verdict.ok else "FAIL"
    need = f" (needs {verdict.min_pass})" if verdict.runs > 1 or not verdict.ok else ""
    line = (
        f"    {mark} {verdict.name} [{verdict.type}] {verdict.passed}/{verdict.runs} passed{need}"
    )
    if not verdict.ok and verdict.rationales:
        line += f"\n         why: {verdict.rationales[0]}"
    return line


def render_test_runs(runs: Sequence[AgentTestRun]) -> str:
    """A results table per agent: test, type, passed x/N, and each failure's rationale."""
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
