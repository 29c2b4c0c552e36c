"""Reports of a check (terminal text; markdown for a sticky pull-request comment and the job
summary) and of a promotion (terminal text), and writing a check's report files.

The markdown report starts with :data:`MARKER` (how CI finds its own comment to update), then
the verdict, every failed test with its rationale, a table of the agents checked and the plan:
one section per environment (``### convai-ops plan: environment `<name>```, then how the plan
was made: live, or offline between the base and head commits) when the check made them.
It stays under ``limit`` characters (GitHub refuses comments over 65,536): rationales are
shortened to share the room, and rows or plan sections that still do not fit are counted in a
note. Every report is passed through :func:`convai_ops.errors.redact`. No API call.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from convai_ops.errors import redact
from convai_ops.junit import write_junit
from convai_ops.render import (
    MARKDOWN_LIMIT,
    render_apply_result,
    render_plan_markdown,
    render_plan_text,
)

if TYPE_CHECKING:
    from convai_ops.check import AgentCheck, BranchName, CheckResult, CheckStatus, ClosedBranch
    from convai_ops.env_plans import EnvironmentPlan
    from convai_ops.promote import PromoteResult
    from convai_ops.testing import TestVerdict

__all__ = [
    "MARKER",
    "publish_check",
    "render_check_markdown",
    "render_check_text",
    "render_close_text",
    "render_promote_result",
]

MARKER = "<!-- convai-ops-check -->"
_LABEL = {
    "passed": "✅ passed",
    "tests_failed": "❌ tests failed",
    "no_tests": "no tests declared",
    "untested": "❌ no tests: will not merge",
    "no_changes": "no changes",
    "metadata_only": "metadata only: written at apply, untested",
    "error": "⚠️ error",
}
_TEXT_MARK = {
    "passed": "+",
    "tests_failed": "x",
    "no_tests": "~",
    "untested": "x",
    "no_changes": "=",
    "metadata_only": "~",
    "error": "!",
}
_UNGATED_NOTE = (
    "\nChanges marked *(not gated by tests)* (name, tags, agent-wide platform settings, attached "
    "tests) are not written by a check: apply writes them on main after the merge."
)
_MIN_RATIONALE, _MAX_RATIONALE = 80, 600
_MIN_PLAN_ROOM = 400
_SLACK = 200


def render_check_text(result: CheckResult) -> str:
    """The closing terminal report: one line per agent, each failed test with its rationale."""
    lines = [f"\nCheck on agent branch {result.branch.name} ({result.branch.source}); not merged."]
    if not result.checks:
        since = f" since {result.since}" if result.since else ""
        lines.append(f"No agent changed{since}: nothing to check.")
    for check in result.checks:
        lines.append(f"{_TEXT_MARK[check.status]} {check.slug}: {check.message}")
        lines.extend(_failed_text(v) for v in (check.report.failed if check.report else ()))
    lines.extend(line for env in result.environments for line in _environment_text(env))
    lines.append(f"Check: {_counts(result)}.")
    return redact("\n".join(lines) + "\n")


def _environment_text(env: EnvironmentPlan) -> Iterator[str]:
    yield f"\nEnvironment {env.environment}: {env.label}"
    if env.checked:
        yield "  (its plan is shown above)"
    elif env.plan is not None and env.kind == "offline" and not env.has_changes:
        yield "No changes to this environment's declared config between the two commits."
    elif env.plan is not None:
        yield render_plan_text(env.plan).rstrip("\n")
    yield from (f"? {slug}: {_REMOVED}" for slug in env.removed)


_REMOVED = "folder deleted by this change (the live agent stays unless `apply --prune`)"


def render_close_text(branch: BranchName, closed: Sequence[ClosedBranch]) -> str:
    """The closing line of ``check --close``: how many branches were archived and kept."""
    if not closed:
        return f"Close: no agent has an unarchived branch {branch.name}.\n"
    archived = sum(c.archived for c in closed)
    return f"Close: {archived} branch(es) archived, {len(closed) - archived} kept.\n"


def _failed_text(verdict: TestVerdict) -> str:
    why = f"\n         why: {verdict.rationales[0]}" if verdict.rationales else ""
    return f"    FAIL {verdict.name} [{verdict.type}] {_tally(verdict)}{why}"


def _tally(verdict: TestVerdict) -> str:
    return verdict.tally


def _counts(result: CheckResult) -> str:
    words: dict[CheckStatus, str] = {
        "passed": "passed",
        "tests_failed": "with failed tests",
        "error": "with an error",
        "no_tests": "without tests",
        "untested": "without tests (will not merge)",
        "no_changes": "without changes",
        "metadata_only": "with metadata changes only (written at apply)",
    }
    parts = [f"{result.count(s)} {w}" for s, w in words.items() if result.count(s)]
    return ", ".join(parts) or "no agent selected"


def render_check_markdown(result: CheckResult, *, limit: int = MARKDOWN_LIMIT) -> str:
    """The check as markdown for one sticky comment, under ``limit`` characters: marker, verdict,
    failed tests with rationales, a table of the agents checked, then the plan."""
    head = _heading(result)
    if not result.checks and not any(e.has_changes for e in result.environments):
        return redact(head)
    room = limit - len(head) - _SLACK
    problems = _problems_section(result, room * 2 // 3)
    room -= len(problems)
    table = _table_section(result, min(room // 2, limit // 4))
    room -= len(table)
    return redact(f"{head}{problems}{table}\n{_plans_section(result, room)}")


def _plans_section(result: CheckResult, room: int) -> str:
    """The plan of the check's environment, or one section per environment."""
    if not result.environments:
        plan = render_plan_markdown(result.plan, limit=room) if room >= _MIN_PLAN_ROOM else ""
        return plan or _PLAN_NOT_SHOWN
    share = room // len(result.environments)
    return "".join(_environment_markdown(env, share) for env in result.environments)


_PLAN_NOT_SHOWN = "\n_The plan is not shown to stay under the comment size limit._\n"


def _environment_markdown(env: EnvironmentPlan, room: int) -> str:
    """``### convai-ops plan: environment `<name>```, the label, the plan and removed agents."""
    title = f"### convai-ops plan: environment `{env.environment}`\n\n_{_clip(env.label, 300)}_\n\n"
    removed = "".join(f"- `? {slug}`: {_REMOVED}\n" for slug in env.removed)
    if env.plan is None:
        return title + removed
    room -= len(title) + len(removed)
    plan = render_plan_markdown(env.plan, limit=room) if room >= _MIN_PLAN_ROOM else ""
    body = plan.split("\n\n", 1)[1] if plan else _PLAN_NOT_SHOWN.lstrip("\n")
    return f"{title}{body}{removed}\n"


def _heading(result: CheckResult) -> str:
    where = [
        f"environment `{result.plan.environment}`",
        f"agent branch `{result.branch.name}` ({_clip(result.branch.source, 200)})",
    ]
    if result.commit:
        where.append(f"commit `{_clip(result.commit, 120)}`")
    if result.since:
        where.append(f"agents changed since `{_clip(result.since, 200)}`")
    lines = [MARKER, f"## convai-ops check: {_verdict(result)}", "", " · ".join(where) + "."]
    if not result.checks:
        lines.append(f"\nNo agent changed{_since(result)}: nothing to check.")
    else:
        lines.append(f"\n**Agents: {_counts(result)}.** Nothing is merged by a check.")
    if any(a.ungated for a in result.plan.agents):
        lines.append(_UNGATED_NOTE)
    return "\n".join(lines) + "\n"


def _since(result: CheckResult) -> str:
    return f" since `{_clip(result.since, 200)}`" if result.since else ""


def _verdict(result: CheckResult) -> str:
    if result.count("error") or any(e.kind == "error" for e in result.environments):
        return "⚠️ error"
    if result.count("tests_failed"):
        return "❌ tests failed"
    if result.count("untested"):
        return "❌ no tests: will not merge"
    return "✅ all tests passed" if result.count("passed") else "✅ nothing to test"


def _problems_section(result: CheckResult, budget: int) -> str:
    failed = [(c.slug, v) for c in result.checks if c.report for v in c.report.failed]
    errors = [c for c in result.checks if c.status == "error"]
    if not failed and not errors:
        return ""
    heads = [_failed_head(slug, v) for slug, v in failed]
    heads += [f"- **{c.slug}**: error: " for c in errors]
    texts = [v.rationales[0] if v.rationales else "" for _, v in failed]
    texts += [c.message for c in errors]
    share = (budget - sum(len(h) + 6 for h in heads)) // len(heads)
    cap = max(_MIN_RATIONALE, min(_MAX_RATIONALE, share))
    items = [_item(head, text, cap) for head, text in zip(heads, texts, strict=True)]
    title = "Failed tests and errors" if errors else "Failed tests"
    return _fit(f"\n### {title}\n\n", items, budget, "failed test(s) and error(s)")


def _failed_head(slug: str, verdict: TestVerdict) -> str:
    return f"- **{slug}** / `{_escape(verdict.name)}` ({verdict.type}, {_tally(verdict)})\n  > "


def _item(head: str, text: str, cap: int) -> str:
    return f"{head}{_clip(text, cap) if text else '_no rationale given_'}\n"


def _table_section(result: CheckResult, budget: int) -> str:
    staged = [c for c in result.checks if c.status != "no_changes"]
    if not staged:
        return ""
    head = "\n### Agents checked\n\n| agent | result | tests passed | branch |\n|---|---|---|---|\n"
    return _fit(head, [_row(c) for c in staged], budget, "agent(s)")


def _row(check: AgentCheck) -> str:
    verdicts = check.report.verdicts if check.report else ()
    tests = f"{sum(v.ok for v in verdicts)}/{len(verdicts)}" if verdicts else "-"
    branch = f"`{check.branch_id}`" if check.branch_id else "-"
    return f"| `{check.slug}` | {_LABEL[check.status]} | {tests} | {branch} |\n"


def _fit(head: str, items: Sequence[str], budget: int, noun: str) -> str:
    """``head`` and as many ``items`` as fit in ``budget``, then a note counting the rest."""
    note = (
        f"\n_{{n}} more {noun} not shown to stay under the comment size limit; see the job log._\n"
    )
    kept, used = [head], len(head) + len(note) + 8
    for item in items:
        if used + len(item) > budget:
            break
        kept.append(item)
        used += len(item)
    omitted = len(items) - (len(kept) - 1)
    return "".join(kept) + (note.format(n=omitted) if omitted else "")


def _clip(text: str, cap: int) -> str:
    flat = " ".join(text.split())
    flat = flat if len(flat) <= cap else flat[: cap - 1].rstrip() + "…"
    return _escape(flat)


def _escape(text: str) -> str:
    return html.escape(text, quote=False).replace("|", "\\|")


def publish_check(
    result: CheckResult,
    *,
    markdown: Path | None = None,
    junit: Path | None = None,
    step_summary: Path | None = None,
) -> list[Path]:
    """Write the markdown report to ``markdown``, the JUnit XML to ``junit``, and append the
    markdown report to ``step_summary``; returns the paths written. Raises ``OSError``."""
    report = render_check_markdown(result)
    written = []
    if markdown:
        markdown.write_text(report, encoding="utf-8")
        written.append(markdown)
    if junit:
        write_junit(result, junit)
        written.append(junit)
    if step_summary:
        with step_summary.open("a", encoding="utf-8") as summary:
            summary.write(report + "\n")
        written.append(step_summary)
    return written


def render_promote_result(result: PromoteResult) -> str:
    """The closing report of a promotion: each agent's tests on the source's main, then either
    the refusal (target untouched) or the apply's report."""
    lines = list(_gate_lines(result))
    if result.blocked:
        lines.append(
            f"Promotion refused: tests failed on {result.source}'s main; "
            f"{result.target} was not touched."
        )
    elif result.applied is None:
        lines.append(f"Nothing to promote: {result.target} already matches the repository.")
    text = "\n".join(lines) + "\n"
    if result.applied is not None and not result.blocked:
        text += render_apply_result(result.applied)
    return redact(text)


def _gate_lines(result: PromoteResult) -> Iterator[str]:
    if result.gate:
        yield f"\nTests on {result.source}'s main:"
    for gate in result.gate:
        report = gate.report
        verdicts = report.verdicts
        mark = "+" if report.ok else "x"
        yield f"{mark} {gate.slug}: {sum(v.ok for v in verdicts)}/{len(verdicts)} test(s) passed"
        yield from (_failed_text(v) for v in report.failed)
