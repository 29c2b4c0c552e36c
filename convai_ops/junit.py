"""JUnit XML of agent test results (built with ``junitparser``), for CI test-report viewers.

Shape: one ``<testsuite name="<slug>">`` per agent, with properties naming the environment, the
agent and the branch (or the target the tests ran on); one ``<testcase>`` per test
(``classname`` ``convai-ops.<slug>``), whose ``<failure>`` message is the first rationale and
whose text holds every failed run's rationale, and whose ``time`` is the test's duration in
seconds as the API's invocation and run timestamps give it (``TestVerdict.duration_s``; whole
seconds, absent when the API gave no timestamps). In a check, an agent that errored has one
testcase carrying an ``<error>`` and agents without changes have no suite; in a test run, an
agent whose tests could not run has one ``<skipped>`` testcase. No API call; texts are redacted.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from junitparser import Error, Failure, JUnitXml, Skipped, TestCase, TestSuite

from convai_ops.errors import redact

if TYPE_CHECKING:
    from convai_ops.check import AgentCheck, CheckResult
    from convai_ops.testing import AgentTestRun, TestVerdict

__all__ = ["check_junit", "junit_of_test_runs", "write_junit", "write_test_runs_junit"]


def check_junit(result: CheckResult) -> JUnitXml:
    """The JUnit document of a check (see the module docstring for its shape)."""
    suites = [
        _check_suite(check, result.plan.environment, result.branch.name)
        for check in result.checks
        if check.report is not None or check.status == "error"
    ]
    return _document("convai-ops check", suites)


def write_junit(result: CheckResult, path: Path) -> None:
    """Write ``check_junit(result)`` to ``path`` (UTF-8, with an XML declaration)."""
    check_junit(result).write(str(path), pretty=True)


def junit_of_test_runs(runs: Sequence[AgentTestRun]) -> JUnitXml:
    """The JUnit document of ``convai-ops test`` runs: one suite per agent."""
    return _document("convai-ops test", [_run_suite(run) for run in runs])


def write_test_runs_junit(runs: Sequence[AgentTestRun], path: str | Path) -> None:
    """Write ``junit_of_test_runs(runs)`` to ``path`` (UTF-8, with an XML declaration)."""
    junit_of_test_runs(runs).write(str(path), pretty=True)


def _document(name: str, suites: Sequence[TestSuite]) -> JUnitXml:
    xml = JUnitXml(name)
    for suite in suites:
        xml.add_testsuite(suite)
    xml.update_statistics()  # type: ignore[no-untyped-call]
    return xml


def _check_suite(check: AgentCheck, environment: str, branch: str) -> TestSuite:
    suite = TestSuite(check.slug)
    suite.add_property("environment", environment)
    suite.add_property("agent_id", check.agent_id or "")
    suite.add_property("branch", f"{branch} ({check.branch_id or 'not created'})")
    if check.status == "error":
        case = TestCase("stage the change on the branch", f"convai-ops.{check.slug}")
        case.result = [Error(redact(check.message), "error")]
        suite.add_testcase(case)
    for verdict in check.report.verdicts if check.report else ():
        suite.add_testcase(_case(check.slug, verdict))
    return suite


def _run_suite(run: AgentTestRun) -> TestSuite:
    suite = TestSuite(run.slug)
    suite.add_property("target", run.target)
    if run.report is None:
        case = TestCase("tests", f"convai-ops.{run.slug}")
        case.result = [Skipped("no tests, or the agent does not exist yet")]
        suite.add_testcase(case)
        return suite
    suite.add_property("agent_id", run.report.agent_id)
    for verdict in run.report.verdicts:
        suite.add_testcase(_case(run.slug, verdict))
    return suite


def _case(slug: str, verdict: TestVerdict) -> TestCase:
    case = TestCase(verdict.name, f"convai-ops.{slug}")
    tally = verdict.tally
    if not verdict.ok:
        reasons = verdict.rationales or (tally,)
        failure = Failure(redact(reasons[0]), verdict.type)
        failure.text = redact("\n".join((tally, *reasons)))
        case.result = [failure]
    case.system_out = tally
    if verdict.duration_s is not None:
        case.time = verdict.duration_s
    return case
