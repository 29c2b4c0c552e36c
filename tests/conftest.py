"""Shared fixtures. Tests never see the developer's environment: ELEVENLABS_* and CONVAI_OPS_*
variables are cleared and HOME points at a temporary directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

#: ``server``, ``project``, ``cli`` for folders that do not define their own.
pytest_plugins = ["tests.example_fixtures"]


@pytest.fixture(autouse=True)
def _isolated_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    for name in list(os.environ):
        if name.startswith(("ELEVENLABS_", "CONVAI_OPS_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
