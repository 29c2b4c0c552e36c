"""The check's reports on built values: markdown (size limit, failed tests, escaping), JUnit XML
and the step summary. No network."""

from __future__ import annotations

from pathlib import Path

from junitparser import JUnitXml

from convai_ops.check import AgentCheck, BranchName, CheckResult
from convai_ops.junit import write_test_runs_junit
from convai_ops.plan import AgentPlan, FieldChange, Plan
from convai_ops.render import MARKDOWN_LIMIT
from convai_ops.report import MARKER, publish_check, render_check_markdown, render_check_text
from convai_ops.testing import AgentTestRun, TestReport, TestVerdict

BRANCH = BranchName("convai-ops-pr-7", "pull request #7 (GITHUB_REF)")
PROMPT = "\n".join(
    f"Line {i} of a long system prompt about refunds and delivery." for i in range(80)
)


def _rationale(slug: str, test: str, length: int) -> str:
    head = f"{slug}/{test}: the reply lacks the phrase it needs. "
    return head + "The reply quoted the wrong window. " * (length // 35)


def _failing_agent(slug: str, failed: int, rationale: int) -> tuple[AgentPlan, AgentCheck]:
    change = FieldChange(
        path=("conversation_config", "agent", "prompt", "prompt"),
        kind="change",
        before=PROMPT,
        after=PROMPT.replace("refunds", "returns"),
    )
    plan = AgentPlan(slug=slug, action="update", agent_id=f"agent_{slug}", changes=(change,))
    failing = [
        TestVerdict(n, "llm", f"t_{slug}_{n}", 0, 3, 2, (_rationale(slug, n, rationale),) * 3)
        for n in (f"test-{i}" for i in range(failed))
    ]
    verdicts = (*failing, TestVerdict("passing-test", "llm", f"t_{slug}_ok", 1, 1, 1))
    report = TestReport(f"agent_{slug}", f"b_{slug}", ("inv",), verdicts)
    check = AgentCheck(slug, "tests_failed", f"agent_{slug}", f"b_{slug}", report, "tests failed")
    return plan, check


def _result(agents: int, failed: int = 2, rationale: int = 400) -> CheckResult:
    pairs = [_failing_agent(f"agent-{i:03d}", failed, rationale) for i in range(agents)]
    plan = Plan(environment="staging", base_url="", agents=tuple(p for p, _ in pairs))
    return CheckResult(plan, BRANCH, tuple(c for _, c in pairs), "HEAD~1", "abc123 change")


def test_failing_check_of_100_agents_names_every_failed_test_under_the_limit() -> None:
    result = _result(100, failed=2, rationale=1500)
    markdown = render_check_markdown(result)
    assert len(markdown) < 60_000
    assert markdown.startswith(MARKER + "\n## convai-ops check: ❌ tests failed")
    for check in result.checks:
        assert check.report is not None
        for verdict in check.report.failed:
            assert f"**{check.slug}** / `{verdict.name}`" in markdown
            assert verdict.rationales[0][:70] in markdown
    assert "passing-test" not in markdown.split("### Agents checked")[0]
    assert "more agent(s) not shown" in markdown  # the plan's 100 prompt diffs do not all fit


def test_small_check_shows_whole_rationales_table_and_plan() -> None:
    result = _result(2, failed=1, rationale=300)
    markdown = render_check_markdown(result)
    assert result.checks[0].report is not None
    assert result.checks[0].report.failed[0].rationales[0].strip() in markdown
    assert "`test-0` (llm, passed 0/3 (needs 2))" in markdown
    assert "| `agent-001` | ❌ tests failed | 1/2 | `b_agent-001` |" in markdown
    assert "### convai-ops plan: environment `staging`" in markdown
    assert "not shown" not in markdown


def test_thousands_of_failures_stay_under_the_limit_with_a_note() -> None:
    markdown = render_check_markdown(_result(1000, failed=3, rationale=200))
    assert len(markdown) < MARKDOWN_LIMIT
    assert "more failed test(s) and error(s) not shown" in markdown
    assert "more agent(s) not shown" in markdown


def test_rationales_cannot_inject_markup() -> None:
    plan, check = _failing_agent("support", 1, 50)
    assert check.report is not None
    verdict = check.report.verdicts[0]
    hostile = TestVerdict(verdict.name, "llm", "t", 0, 1, 1, ("<img src=x> a | b\n# title",))
    report = TestReport("a", "b", (), (hostile,))
    check = AgentCheck("support", "tests_failed", "a", "b", report, "tests failed")
    result = CheckResult(Plan(environment="s", base_url="", agents=(plan,)), BRANCH, (check,))
    markdown = render_check_markdown(result)
    assert "&lt;img src=x&gt; a \\| b # title" in markdown
    assert "<img" not in markdown


def test_verdicts_for_errors_and_nothing_to_test() -> None:
    plan = Plan(environment="staging", base_url="", agents=())
    error = AgentCheck("sales", "error", message="POST /branches: HTTP 422: bad field")
    unchanged = AgentCheck("support", "no_changes", message="no changes to test")
    errored = render_check_markdown(CheckResult(plan, BRANCH, (error, unchanged)))
    assert "## convai-ops check: ⚠️ error" in errored
    assert "- **sales**: error: POST /branches: HTTP 422: bad field" in errored
    calm = render_check_markdown(CheckResult(plan, BRANCH, (unchanged,)))
    assert "## convai-ops check: ✅ nothing to test" in calm
    assert "No agent changed since `main`" in render_check_markdown(
        CheckResult(plan, BRANCH, (), "main")
    )


def test_text_report_lists_each_agent_and_failed_test() -> None:
    text = render_check_text(_result(1, failed=1, rationale=40))
    assert "x agent-000: tests failed" in text
    assert "FAIL test-0 [llm] passed 0/3 (needs 2)" in text
    assert "why: agent-000/test-0: the reply lacks" in text
    assert text.rstrip().endswith("Check: 1 with failed tests.")


def test_junit_has_a_suite_per_agent_and_the_rationale_as_failure_message(tmp_path: Path) -> None:
    result = _result(2, failed=1, rationale=80)
    error = AgentCheck("sales", "error", message="HTTP 422: bad field")
    result = CheckResult(result.plan, BRANCH, (*result.checks, error))
    junit, summary = tmp_path / "check.xml", tmp_path / "summary.md"
    publish_check(result, junit=junit, step_summary=summary)
    xml = JUnitXml.fromfile(str(junit))
    suites = {suite.name: suite for suite in xml}
    assert list(suites) == ["agent-000", "agent-001", "sales"]
    assert (xml.tests, xml.failures, xml.errors) == (5, 2, 1)
    [failed] = [case for case in suites["agent-000"] if not case.is_passed]
    assert failed.classname == "convai-ops.agent-000"
    assert failed.result[0].message == _rationale("agent-000", "test-0", 80)
    assert suites["sales"].errors == 1
    assert summary.read_text().startswith(MARKER)


def test_junit_of_test_runs_marks_agents_without_a_run_skipped(tmp_path: Path) -> None:
    _, check = _failing_agent("support", 1, 60)
    runs = [AgentTestRun("support", "main", check.report), AgentTestRun("sales", "main", None)]
    path = tmp_path / "test.xml"
    write_test_runs_junit(runs, str(path))
    xml = JUnitXml.fromfile(str(path))
    assert (xml.tests, xml.failures, xml.skipped) == (3, 1, 1)
    suites = {suite.name: suite for suite in xml}
    [failed] = [case for case in suites["support"] if case.is_failure]
    assert failed.result[0].message == _rationale("support", "test-0", 60)
    assert [case.is_skipped for case in suites["sales"]] == [True]
