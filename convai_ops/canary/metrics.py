"""Count a canary's live conversations per side and metric, over the same time window.

The branch and main are read with the same query but their ``branch_id``
(``GET /v1/convai/conversations?agent_id=&branch_id=&call_start_after_unix=
&evaluation_criteria_ids=...``), so both sides cover the step's window. Each conversation
counts for a metric when its result is ``success`` or ``failure``; ``unknown`` (or a missing
result: still in progress, not analysed) counts on neither side.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from convai_ops.canary.config import CALL_SUCCESSFUL
from convai_ops.canary.stats import Criteria, MetricResult, Tally, compare

if TYPE_CHECKING:
    from convai_ops.api import ConvaiClient
    from convai_ops.canary.state import Canary

__all__ = ["criteria_ids", "measure", "metric_names", "tally"]

#: The most conversations read per side and analysis (newest first).
MAX_CONVERSATIONS = 5000


def criteria_ids(agent: Mapping[str, Any]) -> list[str]:
    """The ids of the agent's evaluation criteria
    (``platform_settings.evaluation.criteria[].id``), in order."""
    evaluation = (agent.get("platform_settings") or {}).get("evaluation") or {}
    return [str(c["id"]) for c in evaluation.get("criteria") or () if c.get("id")]


def metric_names(chosen: Sequence[str] | None, criteria: Sequence[str]) -> list[str]:
    """The metrics to judge: ``chosen`` when set, else call success and every criterion."""
    return list(chosen) if chosen else [CALL_SUCCESSFUL, *criteria]


def _result(conversation: Mapping[str, Any], metric: str) -> str | None:
    if metric == CALL_SUCCESSFUL:
        return conversation.get("call_successful")
    results = conversation.get("evaluation_criteria_results") or {}
    return (results.get(metric) or {}).get("result")


def tally(conversations: Iterable[Mapping[str, Any]], metric: str) -> Tally:
    """One side's :class:`Tally` of ``metric`` over ``conversations``."""
    successes, total, failed = 0, 0, []
    for conversation in conversations:
        result = _result(conversation, metric)
        if result not in ("success", "failure"):
            continue
        total += 1
        if result == "success":
            successes += 1
        else:
            failed.append(str(conversation.get("conversation_id")))
    return Tally(successes, total, tuple(failed))


def _side(
    client: ConvaiClient, canary: Canary, branch_id: str, since: int, criteria: Sequence[str]
) -> list[dict[str, Any]]:
    listed = client.iter_conversations(
        agent_id=canary.agent_id,
        branch_id=branch_id,
        call_start_after_unix=since,
        evaluation_criteria_ids=criteria,
    )
    side: list[dict[str, Any]] = []
    for conversation in listed:
        if conversation.get("branch_id") not in (None, branch_id):
            continue  # the filter is the API's; a conversation of another branch never counts
        side.append(conversation)
        if len(side) >= MAX_CONVERSATIONS:
            break
    return side


def measure(
    client: ConvaiClient, canary: Canary, since: int, metrics: Sequence[str]
) -> list[MetricResult]:
    """Compare branch and main on each metric over conversations started after ``since``
    (Unix seconds). Calls ``GET /v1/convai/conversations`` (pages) once per side."""
    criteria = [m for m in metrics if m != CALL_SUCCESSFUL]
    branch = _side(client, canary, canary.branch_id, since, criteria)
    main = _side(client, canary, canary.main_branch_id, since, criteria)
    config = canary.plan.config
    thresholds = Criteria(config.margin, config.confidence, config.min_conversations)
    return [compare(m, tally(branch, m), tally(main, m), thresholds) for m in metrics]
