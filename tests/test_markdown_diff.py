"""The markdown plan's ```diff blocks: GitHub colours a line by its first character, so each
change's marker (+ - ~) and each line of a prompt diff or of an added object starts at
column 0. No API, no spec files."""

from __future__ import annotations

import re

from convai_ops.plan import AgentPlan, Plan, diff_views
from convai_ops.render import render_plan_markdown

PROMPT = "You are Ava.\n  - Refunds within 30 days.\nOrders ship in 2 days.\n"


def _agent(before: dict[str, object], after: dict[str, object]) -> AgentPlan:
    changes = tuple(diff_views(before, after))
    return AgentPlan(slug="support", action="update", agent_id="agent_1", changes=changes)


def _diff_block(agent: AgentPlan) -> list[str]:
    plan = Plan(environment="staging", base_url="http://127.0.0.1:1", agents=(agent,))
    markdown = render_plan_markdown(plan)
    [block] = re.findall(r"^```diff\n(.*?)\n^```$", markdown, re.S | re.M)
    return str(block).splitlines()


def _prompt(text: str) -> dict[str, object]:
    return {"conversation_config": {"agent": {"prompt": {"prompt": text}}}}


def test_prompt_diff_lines_start_with_their_marker() -> None:
    after = PROMPT.replace("30 days", "14 days")
    assert _diff_block(_agent(_prompt(PROMPT), _prompt(after))) == [
        "~ conversation_config.agent.prompt.prompt:",
        "@@ -1,3 +1,3 @@",
        "     You are Ava.",
        "-      - Refunds within 30 days.",
        "+      - Refunds within 14 days.",
        "     Orders ship in 2 days.",
    ]


def test_an_added_item_and_a_changed_scalar_are_marked_at_column_0() -> None:
    item = {"id": "greeted", "name": "Greeted", "conversation_goal_prompt": "Say hi"}
    before = {"platform_settings": {"evaluation": {"criteria": []}}, "name": "A"}
    after = {"platform_settings": {"evaluation": {"criteria": [item]}}, "name": "B"}
    assert _diff_block(_agent(before, after)) == [
        '~ name: "A" -> "B" (not gated by tests)',
        "+ platform_settings.evaluation.criteria[greeted]:",
        '+    id: "greeted"',
        '+    name: "Greeted"',
        '+    conversation_goal_prompt: "Say hi"',
    ]
