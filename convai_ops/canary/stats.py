"""The canary's statistical decision: is the branch at least as good as main on live traffic?

Pure: no I/O. Per metric (call success rate, each evaluation criterion's success rate) the
branch's and main's conversations of the same time window are counted (``Tally``); the
difference of success rates ``d = p_branch - p_main`` gets a two-sided ``1 - 2 * alpha``
confidence interval, i.e. a one-sided ``1 - alpha`` bound on each side, by **Newcombe's hybrid
score interval** (Newcombe R. G., "Interval estimation for the difference between independent
proportions: comparison of eleven methods", Statistics in Medicine 17:873-890, 1998, method
10), as computed by ``statsmodels.stats.proportion.confint_proportions_2indep(...,
method="newcomb", compare="diff")``. With ``margin`` m (a share, 0-1):

- ``holds``: the lower bound is above ``-m`` (one-sided non-inferiority test rejects
  "the branch is worse by m or more" at level ``alpha``);
- ``worse``: the upper bound is below ``-m`` (one-sided test: the branch is worse than main by
  more than m, at level ``alpha``);
- ``too_few``: fewer than ``min_conversations`` judged conversations on either side: no
  decision yet, whatever the numbers say;
- ``undecided``: neither, yet.

``decide``: ``rollback`` as soon as one metric is ``worse``; ``promote`` when every metric
``holds``; ``wait`` otherwise. When ``max_duration`` is over (``expired``), the canary decides
with what there is: ``promote`` only if every metric holds, else ``rollback`` (a change reaches
every caller only once it was shown to do at least as well as main).

Conversations whose result is ``unknown`` (or missing) count on neither side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "Criteria",
    "Decision",
    "MetricResult",
    "Tally",
    "compare",
    "decide",
    "difference_interval",
]

Verdict = Literal["holds", "worse", "undecided", "too_few"]
Action = Literal["promote", "rollback", "wait"]


@dataclass(frozen=True)
class Tally:
    """One side's judged conversations for one metric: ``successes`` of ``total``, and the ids
    of the conversations that failed (newest first)."""

    successes: int = 0
    total: int = 0
    failed_ids: tuple[str, ...] = ()

    @property
    def rate(self) -> float | None:
        """Success share 0-1, ``None`` with no judged conversation."""
        return self.successes / self.total if self.total else None


@dataclass(frozen=True)
class Criteria:
    """``margin``: how much worse (a share 0-1) the branch may be; ``confidence``: of each
    one-sided bound (0.5-1); ``min_conversations``: judged conversations needed per side."""

    margin: float = 0.1
    confidence: float = 0.95
    min_conversations: int = 20


@dataclass(frozen=True)
class MetricResult:
    """One metric compared: both tallies, the interval on ``p_branch - p_main`` (``None``
    without data on a side) and the verdict."""

    name: str
    branch: Tally
    main: Tally
    low: float | None
    high: float | None
    verdict: Verdict

    def describe(self) -> str:
        """``call_successful: branch 14/20 (70%) vs main 20/20 (100%), difference [-48%, -12%]``."""
        interval = (
            f", difference [{self.low:+.0%}, {self.high:+.0%}]"
            if self.low is not None and self.high is not None
            else ""
        )
        return f"{self.name}: branch {_share(self.branch)} vs main {_share(self.main)}{interval}"


@dataclass(frozen=True)
class Decision:
    """What to do now, why, and the metrics it was taken from."""

    action: Action
    reason: str
    metrics: tuple[MetricResult, ...] = field(default_factory=tuple)

    @property
    def failed(self) -> tuple[MetricResult, ...]:
        """Why not promoted: the ``worse`` metrics if any, else those that do not hold."""
        worse = tuple(m for m in self.metrics if m.verdict == "worse")
        return worse or tuple(m for m in self.metrics if m.verdict != "holds")


def difference_interval(branch: Tally, main: Tally, confidence: float) -> tuple[float, float]:
    """Newcombe's hybrid score interval on ``p_branch - p_main`` whose bounds are each a
    one-sided ``confidence`` bound (two-sided level ``2 * confidence - 1``). Both totals must
    be positive, else ``ValueError``."""
    if branch.total <= 0 or main.total <= 0:
        raise ValueError("both sides need at least one judged conversation")
    from statsmodels.stats.proportion import confint_proportions_2indep

    low, high = confint_proportions_2indep(
        branch.successes,
        branch.total,
        main.successes,
        main.total,
        method="newcomb",
        compare="diff",
        alpha=2 * (1 - confidence),
    )
    return float(low), float(high)


def compare(name: str, branch: Tally, main: Tally, criteria: Criteria) -> MetricResult:
    """Compare one metric of the branch with main; see the module docstring for verdicts."""
    if not branch.total or not main.total:
        return MetricResult(name, branch, main, None, None, "too_few")
    low, high = difference_interval(branch, main, criteria.confidence)
    verdict: Verdict = "undecided"
    if min(branch.total, main.total) < criteria.min_conversations:
        verdict = "too_few"
    elif high < -criteria.margin:
        verdict = "worse"
    elif low > -criteria.margin:
        verdict = "holds"
    return MetricResult(name, branch, main, low, high, verdict)


def decide(metrics: Sequence[MetricResult], *, expired: bool = False) -> Decision:
    """``rollback`` if a metric is ``worse``; ``promote`` if all hold; else ``wait``, or when
    ``expired`` (``max_duration`` over) ``rollback``. No metrics: ``wait`` (or ``rollback``
    when expired)."""
    metrics = tuple(metrics)
    worse = [m for m in metrics if m.verdict == "worse"]
    if worse:
        return Decision(
            "rollback", "worse than main: " + "; ".join(_why(m) for m in worse), metrics
        )
    if metrics and all(m.verdict == "holds" for m in metrics):
        return Decision("promote", "every metric holds against main", metrics)
    pending = [m for m in metrics if m.verdict != "holds"]
    waiting = "; ".join(_why(m) for m in pending) or "no metric to judge yet"
    if expired:
        return Decision("rollback", f"max_duration reached, not shown to hold: {waiting}", metrics)
    return Decision("wait", waiting, metrics)


def _why(metric: MetricResult) -> str:
    text = metric.describe()
    if metric.verdict == "too_few":
        text += " (too few conversations)"
    return text


def _share(tally: Tally) -> str:
    rate = tally.rate
    return f"{tally.successes}/{tally.total}" + (f" ({rate:.0%})" if rate is not None else "")
