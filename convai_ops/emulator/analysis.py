"""The post-call analysis of an emulated conversation: each evaluation criterion judged, and
``call_successful``. Used by ``simulate-conversation`` and the synthetic live conversations.

1. Each criterion of the agent's ``platform_settings.evaluation.criteria`` (and any extra ones)
   is judged on the agent's messages joined by spaces with :func:`convai_ops.emulator.llm.judge`
   (as simulation test conditions are), its ``conversation_goal_prompt`` as the condition.
2. *Conditional criteria.* A goal prompt that starts with ``When`` or ``If`` and a clause up to
   the first comma (``When the caller asks about the warranty, the agent states the "2-year
   warranty".``) applies only to a conversation whose caller messages share a content word
   with that clause's content words (minus the judge words: caller, asks, agent...). Otherwise
   its result is ``unknown`` ("not raised"); when it applies, the text after the comma is
   judged. The spec's binary scoring "resolves to success/failure/unknown"; that ``unknown``
   means "not raised in this conversation" is inferred.
3. ``call_successful``: ``failure`` when a criterion failed, else ``success`` when one
   succeeded, else ``unknown`` (no criteria, or none raised).

Data collection is not emulated (empty results).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from convai_ops.emulator.llm import JUDGE_WORDS, content_words, judge

__all__ = ["analyse", "judge_criterion"]

Message = dict[str, Any]
_CONDITIONAL = re.compile(r"^\s*(?:when|if)\b([^,]*),(.+)$", re.IGNORECASE | re.DOTALL)


def judge_criterion(criterion: Mapping[str, Any], caller: str, spoken: str) -> Message:
    """``ConversationHistoryEvaluationCriteriaResultCommonModel`` of ``criterion`` for a
    conversation whose caller said ``caller`` and whose agent said ``spoken``."""
    goal = str(criterion.get("conversation_goal_prompt") or "")
    result: dict[str, str] = {"criteria_id": str(criterion["id"])}
    conditional = _CONDITIONAL.match(goal)
    if conditional is not None:
        topic = content_words(conditional.group(1)) - JUDGE_WORDS
        if topic and not topic & content_words(caller):
            asked = ", ".join(sorted(topic))
            return {**result, "result": "unknown", "rationale": f"not raised (no {asked})"}
        goal = conditional.group(2).strip()
    verdict = judge(goal, spoken)
    outcome = "success" if verdict.success else "failure"
    return {**result, "result": outcome, "rationale": verdict.summary}


def analyse(transcript: Sequence[Message], criteria: Sequence[Mapping[str, Any]]) -> Message:
    """``ConversationHistoryAnalysisCommonModel`` of ``transcript`` (messages with ``role`` and
    ``message``) judged by ``criteria`` (rules in the module docstring)."""
    spoken = _said(transcript, "agent")
    caller = _said(transcript, "user")
    results = {str(c["id"]): judge_criterion(c, caller, spoken) for c in criteria}
    outcomes = {item["result"] for item in results.values()}
    successful = (
        "failure" if "failure" in outcomes else "success" if "success" in outcomes else "unknown"
    )
    return {
        "evaluation_criteria_results": results,
        "data_collection_results": {},
        "evaluation_criteria_results_list": list(results.values()),
        "data_collection_results_list": [],
        "call_successful": successful,
        "transcript_summary": _summary(transcript),
        "call_summary_title": _title(transcript),
    }


def _said(transcript: Sequence[Message], role: str) -> str:
    return " ".join(str(m["message"]) for m in transcript if m["role"] == role and m["message"])


def _summary(transcript: Sequence[Message]) -> str:
    said = [m for m in transcript if m["message"]]
    users = sum(1 for m in said if m["role"] == "user")
    agents = [m for m in said if m["role"] == "agent"]
    text = f"The caller sent {users} message(s); the agent answered {len(agents)} time(s)."
    return f'{text} Last agent message: "{agents[-1]["message"]}"' if agents else text


def _title(transcript: Sequence[Message]) -> str:
    first = next((m["message"] for m in transcript if m["role"] == "user" and m["message"]), "")
    text = str(first) or "Simulated conversation"
    return text if len(text) <= 60 else text[:57] + "..."
