"""``convai-ops demo --canary``: after the gated flow, a change promoted by its canary, then
one rolled back on live traffic (metric and failed conversation ids shown), main unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import make_runner


def test_demo_canary_promotes_one_change_and_rolls_back_the_other(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = make_runner(tmp_path, capsys)("demo", "--canary")
    assert (code, err) == (0, ""), out
    assert "--- Step 7/9: convai-ops apply --canary 20" in out
    assert "canary holds on every metric: merging, main back to 100%" in out
    assert "Apply: 1 merged, 1 unchanged." in out
    assert "--- Step 8/9" in out
    assert "canary rolled back: worse than main: " in out
    assert " failed in: conv_" in out
    assert "Apply: 0 merged, 1 rolled back by their canary, 1 unchanged." in out
    assert "main still states the 2-year warranty: yes" in out
    assert "Canary complete" in out
