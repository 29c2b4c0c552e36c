"""Fixtures for the spec tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from spec_helpers import SAMPLE, write_tree


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """A valid project with two agents (support: everything; billing: the least)."""
    return write_tree(tmp_path / "repo", SAMPLE)
