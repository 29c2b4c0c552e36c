"""The canary's statistical decision against known cases (Newcombe's hybrid score interval)."""

from __future__ import annotations

import pytest

from convai_ops.canary.metrics import tally
from convai_ops.canary.stats import Criteria, Tally, compare, decide, difference_interval

CRITERIA = Criteria(margin=0.1, confidence=0.95, min_conversations=20)


def test_newcombe_interval_matches_the_published_example() -> None:
    # Newcombe (1998), table II, example (a): 56/70 vs 48/80, 95% two-sided -> 0.0524 to 0.3339
    low, high = difference_interval(Tally(56, 70), Tally(48, 80), confidence=0.975)
    assert low == pytest.approx(0.0524, abs=1e-4)
    assert high == pytest.approx(0.3339, abs=1e-4)


def test_too_few_conversations_is_no_decision_yet_even_when_the_branch_fails_everything() -> None:
    metric = compare("call_successful", Tally(0, 5, ("c1",)), Tally(50, 50), CRITERIA)
    assert metric.verdict == "too_few"
    decision = decide([metric])
    assert decision.action == "wait"
    assert "too few conversations" in decision.reason


def test_no_conversation_on_one_side_has_no_interval() -> None:
    metric = compare("call_successful", Tally(), Tally(30, 30), CRITERIA)
    assert (metric.low, metric.high, metric.verdict) == (None, None, "too_few")


def test_a_branch_as_good_as_main_with_enough_conversations_is_promoted() -> None:
    metric = compare("call_successful", Tally(40, 40), Tally(160, 160), CRITERIA)
    assert metric.low is not None and metric.low > -0.1
    assert metric.verdict == "holds"
    assert decide([metric]).action == "promote"


def test_a_branch_clearly_worse_beyond_the_margin_is_rolled_back_with_numbers_and_ids() -> None:
    failed = tuple(f"conv_{i}" for i in range(6))
    bad = compare("call_successful", Tally(14, 20, failed), Tally(20, 20), CRITERIA)
    good = compare("criterion:on_topic", Tally(20, 20), Tally(20, 20), CRITERIA)
    assert bad.verdict == "worse"
    decision = decide([good, bad])
    assert decision.action == "rollback"
    assert "call_successful: branch 14/20 (70%) vs main 20/20 (100%)" in decision.reason
    assert decision.failed[0].branch.failed_ids == failed


def test_worse_within_the_margin_waits_for_more_conversations() -> None:
    # 19/20 vs 20/20: the interval spans -margin, neither side of the test is shown
    metric = compare("call_successful", Tally(19, 20), Tally(20, 20), CRITERIA)
    assert metric.verdict == "undecided"
    assert decide([metric]).action == "wait"


def test_one_failing_metric_rolls_back_even_when_another_is_still_waiting() -> None:
    waiting = compare("a", Tally(3, 3), Tally(3, 3), CRITERIA)
    bad = compare("b", Tally(0, 20), Tally(20, 20), CRITERIA)
    assert decide([waiting, bad]).action == "rollback"


def test_max_duration_reached_decides_with_what_there_is() -> None:
    holds = compare("a", Tally(40, 40), Tally(160, 160), CRITERIA)
    few = compare("b", Tally(2, 2), Tally(2, 2), CRITERIA)
    assert decide([holds], expired=True).action == "promote"
    late = decide([holds, few], expired=True)
    assert late.action == "rollback"
    assert "max_duration" in late.reason


def test_a_wider_margin_accepts_what_a_narrow_one_does_not() -> None:
    tallies = (Tally(19, 20), Tally(20, 20))
    assert compare("a", *tallies, CRITERIA).verdict != "holds"
    assert compare("a", *tallies, Criteria(margin=0.3, min_conversations=20)).verdict == "holds"


def test_no_metric_at_all_waits() -> None:
    assert decide([]).action == "wait"


def test_unknown_and_missing_results_count_on_neither_side() -> None:
    conversations = [
        {"conversation_id": "c1", "call_successful": "success"},
        {"conversation_id": "c2", "call_successful": "failure"},
        {"conversation_id": "c3", "call_successful": "unknown"},
        {"conversation_id": "c4"},
        {
            "conversation_id": "c5",
            "call_successful": "success",
            "evaluation_criteria_results": {"warranty": {"result": "failure"}},
        },
        {
            "conversation_id": "c6",
            "call_successful": "success",
            "evaluation_criteria_results": {"warranty": {"result": "unknown"}},
        },
    ]
    assert tally(conversations, "call_successful") == Tally(3, 4, ("c2",))
    assert tally(conversations, "warranty") == Tally(0, 1, ("c5",))
