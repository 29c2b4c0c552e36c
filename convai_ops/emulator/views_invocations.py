"""Response bodies for test invocations and test runs, shaped per the OpenAPI document.

A run is ``pending`` until its ``due_at``; then ``passed`` or ``failed`` with its verdict.
"""

from __future__ import annotations

from typing import Any

from convai_ops.emulator.core import ACCESS_INFO, Emulator
from convai_ops.emulator.store import Invocation, TestRun

__all__ = ["invocation_response", "invocation_summary", "run_response", "run_status"]

_METADATA_TYPES = {"llm": "llm", "tool": "tool_call", "simulation": "simulation"}


def run_status(emu: Emulator, run: TestRun) -> str:
    """``pending`` before ``run.due_at``, then ``passed`` or ``failed``."""
    if emu.now() < run.due_at:
        return "pending"
    return "passed" if run.outcome.passed else "failed"


def run_response(emu: Emulator, run: TestRun) -> dict[str, Any]:
    """``UnitTestRunResponseModel`` of ``run``."""
    status = run_status(emu, run)
    done = status != "pending"
    return {
        "test_run_id": run.id,
        "test_info": dict(run.test_info),
        "test_invocation_id": run.invocation_id,
        "agent_id": run.agent_id,
        "branch_id": run.branch_id,
        "version_id": run.version_id,
        "ran_against_draft": run.ran_against_draft,
        "workflow_node_id": None,
        "status": status,
        "agent_responses": run.outcome.agent_responses if done else None,
        "test_id": run.test_id,
        "test_name": run.test_name,
        "condition_result": run.outcome.condition_result if done else None,
        "last_updated_at_unix": int(run.due_at) if done else run.created_at,
        "metadata": {
            "workspace_id": "emulator",
            "test_name": run.test_name,
            "ran_by_user_email": ACCESS_INFO["creator_email"],
            "test_type": _METADATA_TYPES[run.test_type],
        },
        "root_folder_id": None,
        "root_folder_name": None,
        "environment": None,
    }


def _runs(emu: Emulator, invocation: Invocation) -> list[TestRun]:
    return [emu.store.runs[run_id] for run_id in invocation.run_ids]


def invocation_response(emu: Emulator, invocation: Invocation) -> dict[str, Any]:
    """``GetTestSuiteInvocationResponseModel``; with ``repeat_count`` > 1, ``result_groups``
    buckets each test's finished runs by status and rationale."""
    runs = [run_response(emu, run) for run in _runs(emu, invocation)]
    pending = any(run["status"] == "pending" for run in runs)
    bucketing = None
    if invocation.repeat_count > 1:
        bucketing = "pending" if pending else "completed"
    return {
        "id": invocation.id,
        "agent_id": invocation.agent_id,
        "branch_id": invocation.branch_id,
        "version_id": invocation.version_id,
        "ran_against_draft": invocation.ran_against_draft,
        "created_at": invocation.created_at,
        "folder_id": None,
        "repeat_count": invocation.repeat_count,
        "bucketing_status": bucketing,
        "result_groups": _result_groups(runs) if bucketing == "completed" else [],
        "test_runs": runs,
    }


def _result_groups(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    for run in runs:
        group = groups.setdefault(
            run["test_id"],
            {
                "test_id": run["test_id"],
                "test_name": run["test_name"],
                "workflow_node_id": None,
                "buckets": [],
            },
        )
        reason = run["condition_result"]["rationale"]["summary"]
        bucket = next(
            (b for b in group["buckets"] if (b["status"], b["reason"]) == (run["status"], reason)),
            None,
        )
        if bucket is None:
            bucket = {
                "test_run_ids": [],
                "title": run["status"].capitalize(),
                "reason": reason,
                "status": run["status"],
            }
            group["buckets"].append(bucket)
        bucket["test_run_ids"].append(run["test_run_id"])
    return list(groups.values())


def invocation_summary(emu: Emulator, invocation: Invocation) -> dict[str, Any]:
    """``TestInvocationSummaryResponseModel`` with pass/fail/pending counts."""
    runs = _runs(emu, invocation)
    statuses = [run_status(emu, run) for run in runs]
    return {
        "id": invocation.id,
        "agent_id": invocation.agent_id,
        "branch_id": invocation.branch_id,
        "version_id": invocation.version_id,
        "ran_against_draft": invocation.ran_against_draft,
        "runs_diverged_from_version": any(run.version_id != invocation.version_id for run in runs),
        "created_at_unix_secs": invocation.created_at,
        "test_run_count": len(runs),
        "passed_count": statuses.count("passed"),
        "failed_count": statuses.count("failed"),
        "pending_count": statuses.count("pending"),
        "title": invocation.title,
        "access_info": dict(ACCESS_INFO),
        "repeat_count": invocation.repeat_count,
    }
