"""The canary's settings: the ``canary:`` block of an environment in convai-ops.yaml, and the
branch description that carries them in the API while a canary runs.

convai-ops.yaml::

    environments:
      production:
        canary:
          steps: [10, 50]          # branch share (percent of live traffic) at each step
          min_conversations: 100   # judged conversations needed per side and metric
          max_duration: 2h         # per step: 90s, 30m, 2h or seconds as a number
          margin: 0.05             # how much worse (share 0-1) the branch may be
          confidence: 0.95         # of each one-sided bound
          metrics: [call_successful, knows_hours]   # default: call success + every criterion
          analysis_interval: 30    # seconds between analyses while apply waits

The branch description (written once when the branch is created: the API cannot change it
later) is ``convai-ops canary {json}``; :func:`describe` / :func:`parse_description`.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import asdict, dataclass, replace

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "CALL_SUCCESSFUL",
    "DESCRIPTION_PREFIX",
    "CanaryConfig",
    "CanaryFile",
    "CanaryPlan",
    "describe",
    "parse_description",
    "parse_duration",
]

CALL_SUCCESSFUL = "call_successful"
DESCRIPTION_PREFIX = "convai-ops canary "
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


def parse_duration(value: str | float) -> float:
    """Seconds from ``90``, ``"90s"``, ``"30m"``, ``"2h"`` or ``"1d"``; ``ValueError`` otherwise
    or when not positive."""
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(value)
        if not match:
            raise ValueError(f"{value!r} is not a duration (like 90s, 30m, 2h or seconds)")
        seconds = float(match.group(1)) * _UNIT_S[match.group(2)]
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    return seconds


class CanaryFile(BaseModel):
    """The ``canary:`` block of one environment in convai-ops.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    steps: list[float] = Field(
        default_factory=lambda: [20.0],
        min_length=1,
        description="Branch share of live traffic (percent, 0-100 exclusive) at each step.",
    )
    min_conversations: int = Field(100, ge=1, description="Judged conversations per side.")
    max_duration: str | float = Field("2h", description="Longest a step lasts: 90s, 30m, 2h.")
    margin: float = Field(0.05, ge=0, lt=1, description="How much worse (0-1) is tolerated.")
    confidence: float = Field(0.95, ge=0.5, lt=1, description="Of each one-sided bound.")
    metrics: list[str] | None = Field(
        None, min_length=1, description="call_successful and/or evaluation criterion ids."
    )
    analysis_interval: float = Field(30, gt=0, description="Seconds between analyses.")

    @field_validator("steps")
    @classmethod
    def _increasing(cls, steps: list[float]) -> list[float]:
        if any(not 0 < step < 100 for step in steps):
            raise ValueError("each step is a share between 0 and 100 (exclusive)")
        if any(b <= a for a, b in itertools.pairwise(steps)):
            raise ValueError("steps must increase")
        return steps

    @field_validator("max_duration")
    @classmethod
    def _duration(cls, value: str | float) -> str | float:
        parse_duration(value)
        return value

    def config(self) -> CanaryConfig:
        """These settings as a :class:`CanaryConfig`."""
        return CanaryConfig(
            steps=tuple(self.steps),
            min_conversations=self.min_conversations,
            max_duration_s=parse_duration(self.max_duration),
            margin=self.margin,
            confidence=self.confidence,
            metrics=tuple(self.metrics) if self.metrics else None,
            analysis_interval_s=self.analysis_interval,
        )


@dataclass(frozen=True)
class CanaryConfig:
    """A canary's settings (see the module docstring); ``metrics`` ``None``: call success and
    every evaluation criterion of the agent."""

    steps: tuple[float, ...] = (20.0,)
    min_conversations: int = 100
    max_duration_s: float = 7200.0
    margin: float = 0.05
    confidence: float = 0.95
    metrics: tuple[str, ...] | None = None
    analysis_interval_s: float = 30.0

    def with_percent(self, percent: float | None) -> CanaryConfig:
        """A copy whose single step is ``percent`` (``apply --canary PERCENT``)."""
        return self if percent is None else replace(self, steps=(float(percent),))


@dataclass(frozen=True)
class CanaryPlan:
    """What the branch description carries: the settings, main's version the branch was made
    from (the merge must land on it) and the commit it was tested from."""

    config: CanaryConfig
    main_version: str | None = None
    commit: str | None = None


def describe(plan: CanaryPlan) -> str:
    """The branch description ``convai-ops canary {json}`` for ``plan``."""
    body = {**asdict(plan.config), "main_version": plan.main_version, "commit": plan.commit}
    return DESCRIPTION_PREFIX + json.dumps(body, separators=(",", ":"))


def parse_description(description: str | None) -> CanaryPlan | None:
    """The plan a canary branch's description carries; ``None`` for any other description
    (a branch not made by a canary apply, or one whose description cannot be read)."""
    if not description or not description.startswith(DESCRIPTION_PREFIX):
        return None
    try:
        body = json.loads(description[len(DESCRIPTION_PREFIX) :])
        main_version, commit = body.pop("main_version", None), body.pop("commit", None)
        body["steps"] = tuple(body["steps"])
        body["metrics"] = tuple(body["metrics"]) if body.get("metrics") else None
        return CanaryPlan(CanaryConfig(**body), main_version, commit)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
