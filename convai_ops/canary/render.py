"""How ``convai-ops canary status`` shows canaries: a table per canary (text) or JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from convai_ops.canary.engine import Status
    from convai_ops.canary.stats import MetricResult, Tally

__all__ = ["render_status", "status_data"]


def _tally(tally: Tally) -> dict[str, Any]:
    return {
        "successes": tally.successes,
        "conversations": tally.total,
        "rate": tally.rate,
        "failed_conversation_ids": list(tally.failed_ids),
    }


def _metric(metric: MetricResult) -> dict[str, Any]:
    return {
        "name": metric.name,
        "branch": _tally(metric.branch),
        "main": _tally(metric.main),
        "difference_interval": (
            None if metric.low is None else {"low": metric.low, "high": metric.high}
        ),
        "verdict": metric.verdict,
    }


def status_data(slug: str, judged: Status) -> dict[str, Any]:
    """One canary as a JSON-ready dict: shares (percent), step, window, time left (seconds),
    the decision and each metric with both sides' counts and the interval on the difference."""
    canary, config = judged.canary, judged.canary.plan.config
    counts = {m.name: (m.branch.total, m.main.total) for m in judged.decision.metrics}
    return {
        "agent": slug,
        "agent_id": canary.agent_id,
        "branch_id": canary.branch_id,
        "branch_name": canary.name,
        "commit": canary.plan.commit,
        "step": None if canary.step is None else canary.step + 1,
        "steps": list(config.steps),
        "shares": {"branch": canary.share, "main": canary.main_share},
        "conversations": {
            "branch": max((b for b, _ in counts.values()), default=0),
            "main": max((m for _, m in counts.values()), default=0),
        },
        "since_unix": judged.since,
        "time_left_s": judged.time_left_s,
        "margin": config.margin,
        "confidence": config.confidence,
        "min_conversations": config.min_conversations,
        "rolled_back": canary.rolled_back,
        "decision": judged.decision.action,
        "reason": judged.decision.reason,
        "metrics": [_metric(m) for m in judged.decision.metrics],
    }


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1%}"


def _text(slug: str, judged: Status) -> list[str]:
    data = status_data(slug, judged)
    step = (
        "not deployed yet" if data["step"] is None else f"step {data['step']}/{len(data['steps'])}"
    )
    left = "" if data["time_left_s"] is None else f", {data['time_left_s']:.0f}s left in the step"
    lines = [
        f"{slug}: canary on branch {data['branch_name']} ({data['branch_id']}), {step}",
        f"  shares: branch {data['shares']['branch']:g}%, main {data['shares']['main']:g}%{left}",
        f"  decision: {data['decision']} ({data['reason']})",
    ]
    if judged.decision.metrics:
        lines.append(f"  {'metric':<28} {'branch':>12} {'main':>12}  difference interval  verdict")
    for metric in judged.decision.metrics:
        branch = f"{metric.branch.successes}/{metric.branch.total}"
        main = f"{metric.main.successes}/{metric.main.total}"
        interval = f"[{_pct(metric.low)}, {_pct(metric.high)}]"
        lines.append(
            f"  {metric.name:<28} {branch:>12} {main:>12}  {interval:<19}  {metric.verdict}"
        )
    return lines


def render_status(rows: Sequence[tuple[str, Status]], fmt: str, environment: str) -> str:
    """``rows`` (slug, judged canary) as ``text`` or ``json``
    (``{"environment", "canaries": [status_data...]}``)."""
    if fmt == "json":
        data = {"environment": environment, "canaries": [status_data(s, j) for s, j in rows]}
        return json.dumps(data, indent=2) + "\n"
    if not rows:
        return f"No canary running in {environment}.\n"
    return "\n".join(line for slug, judged in rows for line in _text(slug, judged)) + "\n"
