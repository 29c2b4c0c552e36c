"""The break-glass record in a branch description: written, read back, bounded."""

from __future__ import annotations

from pathlib import Path

import pytest

from convai_ops.breakglass import (
    MAX_DESCRIPTION,
    BreakGlass,
    break_glass,
    parse_untested,
)
from convai_ops.errors import MissingReasonError, UsageError


@pytest.mark.parametrize(
    "reason",
    ["test service down", 'quotes " and \\ backslashes', "two\nlines", "émoji ✓ ok", "a: b; c"],
)
def test_the_record_reads_back_what_was_written(reason: str) -> None:
    glass = BreakGlass(reason, "Ann <ann@example.com>")
    description = glass.describe("convai-ops apply from 0123456789ab Fix refunds")
    found = parse_untested(description)
    assert found is not None
    assert (found.reason, found.operator) == (reason, "Ann <ann@example.com>")
    assert description.endswith("; convai-ops apply from 0123456789ab Fix refunds")


def test_a_tested_description_has_no_record() -> None:
    assert parse_untested("convai-ops apply from 0123456789ab Fix refunds") is None
    assert parse_untested("Merged branch x into main") is None
    assert parse_untested(None) is None


def test_the_record_stays_within_the_apis_bound() -> None:
    glass = BreakGlass("r" * 1000, "o" * 200)
    description = glass.describe("convai-ops apply from " + "s" * 5000)
    assert len(description) == MAX_DESCRIPTION
    assert parse_untested(description) is not None


def test_reason_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USER", "ci-runner")
    assert break_glass(False, None, tmp_path) is None
    with pytest.raises(MissingReasonError) as missing:
        break_glass(True, None, tmp_path)
    assert missing.value.exit_code == 2
    with pytest.raises(UsageError, match="only for --skip-tests"):
        break_glass(False, "why", tmp_path)
    with pytest.raises(UsageError, match="at most 1000"):
        break_glass(True, "x" * 1001, tmp_path)
    glass = break_glass(True, "  outage  ", tmp_path)  # outside git: $USER is the operator
    assert glass == BreakGlass("outage", "ci-runner")
