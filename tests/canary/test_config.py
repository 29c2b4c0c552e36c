"""The canary: block of convai-ops.yaml (validated offline, errors at their line) and the
branch description that carries a canary's plan."""

from __future__ import annotations

from pathlib import Path

import pytest

from convai_ops.canary.config import (
    CanaryConfig,
    CanaryPlan,
    describe,
    parse_description,
    parse_duration,
)
from convai_ops.errors import SpecError
from convai_ops.spec.loader import load_config

CONFIG = """\
version: 1
default_environment: production
environments:
  production:
    canary:
      steps: [10, 50]
      min_conversations: 40
      max_duration: 30m
      margin: 0.1
      metrics: [call_successful, greeted_as_ava]
"""


def test_the_canary_block_is_read_per_environment(tmp_path: Path) -> None:
    (tmp_path / "convai-ops.yaml").write_text(CONFIG)
    block = load_config(tmp_path).environments["production"].canary
    assert block is not None
    config = block.config()
    assert config.steps == (10.0, 50.0)
    assert config.min_conversations == 40
    assert config.max_duration_s == 1800
    assert config.metrics == ("call_successful", "greeted_as_ava")
    assert config.with_percent(20).steps == (20.0,)


@pytest.mark.parametrize(
    ("line", "bad", "message"),
    [
        (6, "      steps: [50, 10]", "steps must increase"),
        (6, "      steps: [0, 100]", "between 0 and 100"),
        (8, "      max_duration: soon", "is not a duration"),
        (9, "      margin: 2", "margin"),
        (7, "      min_conversation: 5", "min_conversation"),
    ],
)
def test_a_bad_canary_block_names_its_line(
    tmp_path: Path, line: int, bad: str, message: str
) -> None:
    lines = CONFIG.splitlines()
    lines[line - 1] = bad
    (tmp_path / "convai-ops.yaml").write_text("\n".join(lines) + "\n")
    with pytest.raises(SpecError) as error:
        load_config(tmp_path)
    assert f"convai-ops.yaml:{line}" in str(error.value)
    assert message in str(error.value)


def test_durations() -> None:
    assert [parse_duration(v) for v in (90, "90s", "30m", "2h", "1d")] == [
        90,
        90,
        1800,
        7200,
        86400,
    ]
    with pytest.raises(ValueError, match="positive"):
        parse_duration(0)


def test_the_description_round_trips_and_other_descriptions_are_not_canaries() -> None:
    plan = CanaryPlan(CanaryConfig(steps=(10.0, 50.0), metrics=("a",)), "v1", "abc123 fix")
    assert parse_description(describe(plan)) == plan
    assert parse_description("convai-ops apply from abc123") is None
    assert parse_description("convai-ops canary {not json") is None
    assert parse_description(None) is None
