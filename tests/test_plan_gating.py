"""Unit tests: which changes a version holds (gated by tests), how the plan labels the rest in
text, markdown and JSON, and saved plans carrying the flag (no API, no spec files)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from convai_ops.check import AgentCheck, BranchName, CheckResult
from convai_ops.errors import UsageError
from convai_ops.plan import AgentPlan, Plan, diff_views
from convai_ops.render import render_plan_json, render_plan_markdown, render_plan_text
from convai_ops.report import render_check_markdown
from convai_ops.saved_plan import read_plan, write_plan
from convai_ops.versioning import is_versioned_path, split_platform_settings

PROMPT = {"conversation_config": {"agent": {"prompt": {"prompt": "Hi."}}}}
LIMIT = "platform_settings.call_limits.agent_concurrency_limit"


def _view(
    prompt: str = "Hi.", limit: int = -1, tags: tuple[str, ...] = ("a",)
) -> dict[str, object]:
    return {
        "tags": list(tags),
        "conversation_config": {"agent": {"prompt": {"prompt": prompt}}},
        "platform_settings": {
            "call_limits": {"agent_concurrency_limit": limit},
            "evaluation": {"criteria": []},
        },
    }


def _agent(before: dict[str, object], after: dict[str, object]) -> AgentPlan:
    changes = tuple(diff_views(before, after))
    return AgentPlan(
        slug="support", action="update", agent_id="agent_1", changes=changes, tests=("refund",)
    )


def _plan(*agents: AgentPlan) -> Plan:
    return Plan(environment="staging", base_url="http://127.0.0.1:1", agents=agents)


@pytest.mark.parametrize(
    ("path", "versioned"),
    [
        (("conversation_config", "agent", "prompt", "prompt"), True),
        (("workflow", "nodes"), True),
        (("platform_settings", "evaluation", "criteria"), True),
        (("platform_settings", "widget", "variant"), True),
        (("platform_settings", "data_collection"), True),
        (("platform_settings", "safety"), True),
        (("platform_settings", "call_limits", "daily_limit"), False),
        (("platform_settings", "testing", "attached_tests"), False),
        (("platform_settings", "privacy"), False),
        (("name",), False),
        (("tags",), False),
        (("knowledge_base",), True),
        (("tests",), False),
    ],
)
def test_which_fields_a_version_holds(path: tuple[str, ...], versioned: bool) -> None:
    assert is_versioned_path(path) is versioned


def test_split_platform_settings_keeps_the_versioned_subset_on_one_side() -> None:
    versioned, agent_wide = split_platform_settings(
        {"widget": {"variant": "full"}, "call_limits": {"daily_limit": 5}, "auth": {}}
    )
    assert versioned == {"widget": {"variant": "full"}}
    assert agent_wide == {"call_limits": {"daily_limit": 5}, "auth": {}}


def test_agent_wide_change_is_labelled_in_text_beside_a_gated_one() -> None:
    agent = _agent(_view(), _view(prompt="Hello.", limit=3))
    text = render_plan_text(_plan(agent))
    assert "~ support (agent_1) will be updated on a tested branch" in text
    assert f"    ~ {LIMIT}: -1 -> 3 (not gated by tests)" in text
    assert '~ conversation_config.agent.prompt.prompt: "Hi." -> "Hello."\n' in text
    assert "(1 not gated by tests: written on main after the merge)" in text
    assert "tests to run on the branch: refund" in text
    assert "1 test will run" in text


def test_tags_only_change_is_metadata_only_in_text() -> None:
    agent = _agent(_view(), _view(tags=("a", "b")))
    assert agent.metadata_only and agent.direct
    text = render_plan_text(_plan(agent))
    assert "~ support (agent_1) (metadata only: written directly, no tests)" in text
    assert '~ tags: ["a"] -> ["a", "b"] (not gated by tests)' in text
    assert "tests to run" not in text
    assert "0 tests will run" in text


def test_labels_in_markdown() -> None:
    gated = _agent(_view(), _view(prompt="Hello.", limit=3))
    metadata = _agent(_view(), _view(tags=("b",))).model_copy(update={"slug": "sales"})
    markdown = render_plan_markdown(_plan(gated, metadata))
    assert f"~ {LIMIT}: -1 -> 3 (not gated by tests)" in markdown
    assert "<code>~ support</code> update: 2 change(s)" in markdown
    assert (
        "<code>~ sales</code> update (metadata only: written directly, no tests): 1 change(s)"
        in markdown
    )


def test_labels_in_json() -> None:
    gated = _agent(_view(), _view(prompt="Hello.", limit=3))
    metadata = _agent(_view(), _view(limit=9)).model_copy(update={"slug": "sales"})
    data = json.loads(render_plan_json(_plan(gated, metadata)))
    support, sales = data["agents"]
    assert {c["field"]: c["gated"] for c in support["changes"]} == {
        "conversation_config.agent.prompt.prompt": True,
        LIMIT: False,
    }
    assert (support["direct"], support["metadata_only"]) == (False, False)
    assert (sales["direct"], sales["metadata_only"]) == (True, True)
    assert data["summary"]["tests_to_run"] == 1


def test_changed_attached_tests_alone_run_on_main() -> None:
    agent = _agent({"tests": ["refund #1"]}, {"tests": ["refund #2"]})
    assert agent.direct and not agent.metadata_only
    text = render_plan_text(_plan(agent))
    assert "(no versioned change: tests run on main, then written directly)" in text
    assert "tests to run on main: refund" in text


def test_saved_plan_keeps_the_gated_flag(tmp_path: Path) -> None:
    plan = _plan(_agent(_view(), _view(prompt="Hello.", limit=3)))
    path = tmp_path / "plan.json"
    write_plan(plan, path)
    [agent] = read_plan(path).agents
    assert {c.dotted: c.gated for c in agent.changes} == {
        "conversation_config.agent.prompt.prompt": True,
        LIMIT: False,
    }


def test_saved_plan_of_format_1_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    data = json.loads(render_plan_json(_plan(_agent(_view(), _view(limit=3)))))
    data["format_version"] = 1
    path.write_text(json.dumps(data))
    with pytest.raises(UsageError, match=r"older convai-ops \(format_version 1.*plan --out again"):
        read_plan(path)


def test_check_report_says_ungated_changes_are_written_at_apply() -> None:
    metadata = _agent(_view(), _view(tags=("b",)))
    check = AgentCheck("support", "metadata_only", "agent_1", message="metadata only")
    result = CheckResult(_plan(metadata), BranchName("convai-ops-pr-1", "test"), (check,))
    markdown = render_check_markdown(result)
    assert "not written by a check: apply writes them on main after the merge" in markdown
    assert "metadata only: written at apply, untested" in markdown
    assert result.exit_code == 0
