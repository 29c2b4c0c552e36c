"""Unit tests of the field diff and the plan renderers (no API, no spec files)."""

from __future__ import annotations

import json

from convai_ops.plan import AgentPlan, FieldChange, Plan, diff_views
from convai_ops.render import render_plan_json, render_plan_markdown, render_plan_text
from convai_ops.state import project_onto

PROMPT = "You are Ava.\nRefunds within 30 days.\nOrders ship in 2 days.\n"


def _cc(prompt: str = PROMPT, temperature: float = 0.1) -> dict[str, object]:
    return {
        "conversation_config": {"agent": {"prompt": {"prompt": prompt, "temperature": temperature}}}
    }


def test_equal_views_have_no_changes() -> None:
    assert diff_views(_cc(), _cc()) == []


def test_int_and_float_of_equal_value_are_equal() -> None:
    assert diff_views(_cc(temperature=0), _cc(temperature=0.0)) == []


def test_changed_scalar_reports_before_and_after() -> None:
    [change] = diff_views(_cc(temperature=0.1), _cc(temperature=0.5))
    assert change.path == ("conversation_config", "agent", "prompt", "temperature")
    assert (change.kind, change.before, change.after) == ("change", 0.1, 0.5)


def test_added_and_removed_keys() -> None:
    before = {"name": "A", "tags": ["x"]}
    after = {"name": "A", "platform_settings": {"call_limits": {"agent_concurrency_limit": 3}}}
    changes = {c.dotted: c for c in diff_views(before, after)}
    assert changes["platform_settings"].kind == "add"
    assert changes["platform_settings"].after == {"call_limits": {"agent_concurrency_limit": 3}}
    assert changes["tags"].kind == "remove"


def test_list_is_one_field_shown_whole() -> None:
    [change] = diff_views({"tags": ["a", "b"]}, {"tags": ["a", "c", "d"]})
    assert change.path == ("tags",)
    assert (change.before, change.after) == (["a", "b"], ["a", "c", "d"])


def test_projection_drops_undeclared_server_fields() -> None:
    remote = {
        "name": "A",
        "conversation_config": {"agent": {"language": "en", "first_message": "Hi"}, "tts": {}},
    }
    declared = {"conversation_config": {"agent": {"language": "de"}}}
    assert project_onto(remote, declared) == {"conversation_config": {"agent": {"language": "en"}}}


def _plan(*agents: AgentPlan) -> Plan:
    return Plan(environment="staging", base_url="http://127.0.0.1:1", agents=agents)


def _prompt_update() -> AgentPlan:
    changes = diff_views(_cc(), _cc(PROMPT.replace("30 days", "14 days")))
    return AgentPlan(
        slug="support",
        action="update",
        agent_id="agent_1",
        changes=tuple(changes),
        unchanged=4,
        tests=("refund",),
    )


def test_one_line_prompt_edit_renders_as_one_line_diff() -> None:
    text = render_plan_text(_plan(_prompt_update()))
    minus = [line.strip() for line in text.splitlines() if line.strip().startswith("- ")]
    plus = [line.strip() for line in text.splitlines() if line.strip().startswith("+ ")]
    assert minus == ["- Refunds within 30 days."]
    assert plus == ["+ Refunds within 14 days."]
    assert "  You are Ava." in text  # one line of context
    assert "(4 unchanged fields hidden)" in text
    assert text.rstrip().endswith("Plan: 0 to create, 1 to update, 0 unchanged; 1 test will run.")


def test_no_changes_says_so() -> None:
    text = render_plan_text(_plan(AgentPlan(slug="support", action="no-op", agent_id="agent_1")))
    assert "No changes." in text
    assert "0 tests will run" in text


def test_markdown_has_diff_block_and_stays_under_limit() -> None:
    agents = tuple(_prompt_update().model_copy(update={"slug": f"agent-{i}"}) for i in range(400))
    markdown = render_plan_markdown(_plan(*agents), limit=20_000)
    assert len(markdown) < 20_000
    assert "```diff" in markdown
    assert "\n-    Refunds within 30 days.\n" in markdown  # marker at column 0
    assert "more agent(s) not shown" in markdown


def test_json_plan_parses_with_format_version_and_fields() -> None:
    data = json.loads(render_plan_json(_plan(_prompt_update())))
    assert data["format_version"] == 2
    [agent] = data["agents"]
    assert agent["action"] == "update"
    assert agent["changes"][0]["field"] == "conversation_config.agent.prompt.prompt"
    assert data["summary"]["update"] == 1


def test_sensitive_values_are_masked_in_field_changes() -> None:
    from convai_ops.plan import _masked

    change = FieldChange(
        path=("platform_settings", "webhook"),
        kind="add",
        after={"request_headers": {"Authorization": "Bearer s3cret"}},
    )
    assert "s3cret" not in json.dumps(_masked(change).model_dump())


def test_dicts_with_no_key_in_common_are_still_walked_key_by_key() -> None:
    before = {"platform_settings": {"call_limits": {"daily_limit": 100}}}
    after = {"platform_settings": {"privacy": {"record_voice": False}}}
    changes = {c.dotted: c for c in diff_views(before, after)}
    assert sorted(changes) == ["platform_settings.call_limits", "platform_settings.privacy"]
    assert changes["platform_settings.call_limits"].kind == "remove"
    assert changes["platform_settings.privacy"].after == {"record_voice": False}


def test_a_bool_never_equals_a_number() -> None:
    [change] = diff_views({"a": {"flag": True, "n": 1}}, {"a": {"flag": 1, "n": 1.0}})
    assert (change.dotted, change.before, change.after) == ("a.flag", True, 1)


def test_only_the_differing_leaf_is_reported_among_many_equal_ones() -> None:
    same = {f"k{i}": {"v": i, "l": [i, str(i)]} for i in range(50)}
    before = {"conversation_config": {**same, "tts": {"stability": 0.5}}}
    after = {"conversation_config": {**same, "tts": {"stability": 0.7}}}
    [change] = diff_views(before, after)
    assert change.path == ("conversation_config", "tts", "stability")
    assert (change.kind, change.before, change.after) == ("change", 0.5, 0.7)
