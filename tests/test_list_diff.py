"""Lists of objects in the plan: matched by identity, changed field by field, reorders shown as
such, masking inside items, and the paths surviving a saved plan (no API, no spec files)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from convai_ops.drift import AgentDrift, DriftReport, render_drift_json, render_drift_text
from convai_ops.field_diff import identity_key
from convai_ops.plan import MASK, AgentPlan, FieldChange, Plan, _masked, diff_views
from convai_ops.render import render_plan_json, render_plan_text
from convai_ops.saved_plan import read_plan, write_plan

CRITERIA = ("platform_settings", "evaluation", "criteria")


def _criterion(ident: str, goal: str = "goal", **more: Any) -> dict[str, Any]:
    return {"id": ident, "name": ident.title(), "conversation_goal_prompt": goal, **more}


def _view(*criteria: dict[str, Any]) -> dict[str, Any]:
    return {"platform_settings": {"evaluation": {"criteria": list(criteria)}}}


def _by_field(changes: list[FieldChange]) -> dict[str, FieldChange]:
    return {c.dotted: c for c in changes}


def test_a_changed_item_field_is_one_change_under_the_items_id() -> None:
    before = _view(_criterion("greeted", "a"), _criterion("polite"))
    after = _view(_criterion("greeted", "b"), _criterion("polite"))
    [change] = diff_views(before, after)
    assert change.path == (*CRITERIA, "[greeted]", "conversation_goal_prompt")
    assert (
        change.dotted == "platform_settings.evaluation.criteria[greeted].conversation_goal_prompt"
    )
    assert (change.kind, change.before, change.after, change.gated) == ("change", "a", "b", True)


def test_added_and_removed_items_are_named_by_id_and_hold_the_whole_item() -> None:
    before = _view(_criterion("old"), _criterion("kept"))
    after = _view(_criterion("kept"), _criterion("new"))
    changes = _by_field(diff_views(before, after))
    assert sorted(changes) == [
        "platform_settings.evaluation.criteria[new]",
        "platform_settings.evaluation.criteria[old]",
    ]  # "kept" moved from second to first only because "old" went: not a reorder
    assert changes["platform_settings.evaluation.criteria[new]"].kind == "add"
    assert changes["platform_settings.evaluation.criteria[new]"].after == _criterion("new")
    assert changes["platform_settings.evaluation.criteria[old]"].kind == "remove"
    assert changes["platform_settings.evaluation.criteria[old]"].before == _criterion("old")


def test_a_reorder_is_a_change_shown_as_a_reorder_line() -> None:
    before = _view(_criterion("a"), _criterion("b"), _criterion("c"))
    after = _view(_criterion("c"), _criterion("a"), _criterion("b"))
    [change] = diff_views(before, after)
    assert (change.path, change.kind) == (CRITERIA, "reorder")
    assert (change.before, change.after) == (["a", "b", "c"], ["c", "a", "b"])
    text = render_plan_text(_plan(change))
    assert (
        '~ platform_settings.evaluation.criteria: order ["a", "b", "c"] -> ["c", "a", "b"]' in text
    )


def test_a_reorder_and_an_edit_are_two_changes() -> None:
    before = _view(_criterion("a"), _criterion("b", "x"))
    after = _view(_criterion("b", "y"), _criterion("a"))
    changes = _by_field(diff_views(before, after))
    assert changes["platform_settings.evaluation.criteria"].kind == "reorder"
    edit = changes["platform_settings.evaluation.criteria[b].conversation_goal_prompt"]
    assert (edit.before, edit.after) == ("x", "y")
    assert len(changes) == 2


def test_items_equal_as_json_values_are_equal() -> None:
    before = _view(_criterion("a", max_score=1, use_knowledge_base=False))
    assert diff_views(before, _view(_criterion("a", max_score=1.0, use_knowledge_base=False))) == []
    [change] = diff_views(before, _view(_criterion("a", max_score=1, use_knowledge_base=0)))
    assert change.dotted.endswith("criteria[a].use_knowledge_base")


def test_items_are_named_by_name_when_they_have_no_id() -> None:
    tool = {"type": "webhook", "description": "Looks up an order"}
    before = {"conversation_config": {"agent": {"prompt": {"tools": [{"name": "lookup", **tool}]}}}}
    after = json.loads(json.dumps(before))
    after["conversation_config"]["agent"]["prompt"]["tools"][0]["description"] = "Finds an order"
    [change] = diff_views(before, after)
    assert change.dotted == "conversation_config.agent.prompt.tools[lookup].description"


def test_lists_of_items_inside_items_are_matched_too() -> None:
    node = {"type": "tool", "tools": [{"tool_id": "t1", "x": 1}, {"tool_id": "t2", "x": 1}]}
    edited = {"type": "tool", "tools": [{"tool_id": "t1", "x": 1}, {"tool_id": "t2", "x": 2}]}
    before = {"workflow": {"nodes": {"n": node}}}
    [change] = diff_views(before, {"workflow": {"nodes": {"n": edited}}})
    assert change.path == ("workflow", "nodes", "n", "tools", "[t2]", "x")


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (["a", "b"], ["b", "a"]),  # strings have no identity
        ([{"x": 1}], [{"x": 2}]),  # no identity key
        ([{"id": "a"}, {"id": "a", "n": 1}], [{"id": "a"}]),  # repeated identities
        ([{"id": "a"}], [{"id": {"nested": 1}}]),  # an identity that is not a scalar
    ],
)
def test_lists_without_usable_identities_are_one_field_shown_whole(
    before: list[Any], after: list[Any]
) -> None:
    [change] = diff_views({"a": {"l": before}}, {"a": {"l": after}})
    assert (change.path, change.kind, change.before, change.after) == (
        ("a", "l"),
        "change",
        before,
        after,
    )


def test_identity_key_prefers_id_then_name_and_needs_it_on_both_sides() -> None:
    assert identity_key([{"id": "a", "name": "x"}], [{"id": "b", "name": "x"}]) == "id"
    assert identity_key([{"id": "a", "name": "x"}], [{"name": "y"}]) == "name"
    assert identity_key([{"id": 1}, {"id": "2"}]) == "id"
    assert identity_key([{"id": True}]) is None
    assert identity_key([], []) is None


def test_an_agent_wide_list_item_change_is_not_gated() -> None:
    before = {"platform_settings": {"auth": {"allowlist": [{"hostname": "a.example"}]}}}
    after = {"platform_settings": {"auth": {"allowlist": [{"hostname": "b.example"}]}}}
    changes = diff_views(before, after)
    assert {c.dotted: c.gated for c in changes} == {
        "platform_settings.auth.allowlist[a.example]": False,
        "platform_settings.auth.allowlist[b.example]": False,
    }


def _tools(headers: dict[str, str], description: str = "d") -> dict[str, Any]:
    api_schema = {"url": "https://x.example", "request_headers": headers}
    tool = {"name": "lookup", "description": description, "api_schema": api_schema}
    return {"conversation_config": {"agent": {"prompt": {"tools": [tool]}}}}


def test_a_secret_changed_inside_a_list_item_is_masked() -> None:
    changes = diff_views(
        _tools({"Authorization": "Bearer old-s3cret"}), _tools({"Authorization": "Bearer new"})
    )
    [change] = [_masked(c) for c in changes]
    assert change.dotted.endswith("tools[lookup].api_schema.request_headers.Authorization")
    assert (change.before, change.after) == (MASK, MASK)
    assert "s3cret" not in render_plan_text(_plan(change))


def test_a_secret_inside_an_added_item_is_masked() -> None:
    before = {"conversation_config": {"agent": {"prompt": {"tools": []}}}}
    [change] = diff_views(before, _tools({"Authorization": "Bearer s3cret"}))
    masked = _masked(change)
    assert masked.dotted == "conversation_config.agent.prompt.tools[lookup]"
    assert masked.after["api_schema"]["request_headers"] == MASK
    assert masked.after["description"] == "d"
    assert "s3cret" not in render_plan_text(_plan(masked))


def test_an_item_named_like_a_secret_does_not_hide_its_fields() -> None:
    before = _view(_criterion("api_key_never_read", "a"))
    after = _view(_criterion("api_key_never_read", "b"))
    [change] = [_masked(c) for c in diff_views(before, after)]
    assert (change.before, change.after) == ("a", "b")


def _plan(*changes: FieldChange) -> Plan:
    agent = AgentPlan(slug="support", action="update", agent_id="agent_1", changes=changes)
    return Plan(environment="staging", base_url="http://127.0.0.1:1", agents=(agent,))


def test_added_item_renders_a_head_line_and_one_line_per_field() -> None:
    [change] = diff_views(_view(), _view(_criterion("greeted", "Say hi")))
    lines = [line.strip() for line in render_plan_text(_plan(change)).splitlines()]
    head = lines.index("+ platform_settings.evaluation.criteria[greeted]:")
    assert lines[head + 1 : head + 4] == [
        'id: "greeted"',
        'name: "Greeted"',
        'conversation_goal_prompt: "Say hi"',
    ]


def test_saved_plan_keeps_item_paths_and_reorders(tmp_path: Path) -> None:
    before = _view(_criterion("a", "x"), _criterion("b"), _criterion("old"))
    after = _view(_criterion("b"), _criterion("a", "y"), _criterion("new"))
    plan = _plan(*diff_views(before, after))
    write_plan(plan, tmp_path / "plan.json")
    assert read_plan(tmp_path / "plan.json") == plan
    fields = {
        c["field"]: c["kind"] for c in json.loads(render_plan_json(plan))["agents"][0]["changes"]
    }
    assert fields == {
        "platform_settings.evaluation.criteria": "reorder",
        "platform_settings.evaluation.criteria[a].conversation_goal_prompt": "change",
        "platform_settings.evaluation.criteria[new]": "add",
        "platform_settings.evaluation.criteria[old]": "remove",
    }


def test_drift_shows_a_reorder_as_the_live_and_the_repository_order() -> None:
    before = _view(_criterion("a"), _criterion("b"))  # live
    after = _view(_criterion("b"), _criterion("a"))  # repository
    changes = tuple(diff_views(before, after))
    report = DriftReport("staging", (AgentDrift("support", "agent_1", "v1", changes),))
    text = render_drift_text(report)
    assert (
        '~ platform_settings.evaluation.criteria: live order ["a", "b"], repository ["b", "a"]'
        in text
    )
    [field] = json.loads(render_drift_json(report))["agents"][0]["fields"]
    assert (field["kind"], field["live"], field["repository"]) == (
        "reordered",
        ["a", "b"],
        ["b", "a"],
    )


def test_a_new_agent_lists_each_item_once_with_its_fields() -> None:
    after = {"name": "A", **_view(_criterion("greeted"), _criterion("polite"))}
    after["platform_settings"]["call_limits"] = {"agent_concurrency_limit": 3}
    changes = diff_views({}, after)
    assert [(c.dotted, c.kind, c.gated) for c in changes] == [
        ("name", "add", False),
        ("platform_settings.call_limits.agent_concurrency_limit", "add", False),
        ("platform_settings.evaluation.criteria[greeted]", "add", True),
        ("platform_settings.evaluation.criteria[polite]", "add", True),
    ]
    assert changes[2].after == _criterion("greeted")
