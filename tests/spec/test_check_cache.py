"""The validation cache (``.convai-ops/cache/``): an unchanged file is not checked again, and a
changed or bad file never passes through it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from convai_ops.errors import SpecError
from convai_ops.spec import load_project
from convai_ops.spec.check_cache import CACHE_DIR, ValidationCache

CACHE_FILE = Path(CACHE_DIR) / "validation.json"
_LOADS_JSONSCHEMA = (
    "import sys; from pathlib import Path; from convai_ops.spec import load_project; "
    "load_project(Path(sys.argv[1])); print('jsonschema' in sys.modules)"
)


def _loads_jsonschema(root: Path) -> bool:
    """Whether loading ``root`` in a fresh interpreter imports jsonschema (i.e. validates)."""
    out = subprocess.run(
        [sys.executable, "-c", _LOADS_JSONSCHEMA, str(root)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.strip() == "True"


def _break_temperature(root: Path) -> None:
    agent = root / "agents" / "support" / "agent.yaml"
    text = agent.read_text(encoding="utf-8")
    assert "temperature: 0}" in text
    agent.write_text(text.replace("temperature: 0}", "temperature: warm}"), encoding="utf-8")


def test_an_unchanged_project_is_not_validated_again(sample: Path) -> None:
    assert _loads_jsonschema(sample)  # first load: every file is checked
    assert (sample / CACHE_FILE).is_file()
    assert not _loads_jsonschema(sample)  # second: all known, the validator is never built
    assert load_project(sample) == load_project(sample)


def test_a_file_broken_after_a_cached_pass_is_reported_at_its_line(sample: Path) -> None:
    load_project(sample)
    _break_temperature(sample)
    with pytest.raises(SpecError) as raised:
        load_project(sample)
    assert re.search(r"agents/support/agent\.yaml:\d+:\d+: .*temperature", str(raised.value))
    with pytest.raises(SpecError):  # and again: failures are never remembered
        load_project(sample)


def test_a_cache_written_for_other_schemas_is_ignored(sample: Path) -> None:
    _break_temperature(sample)
    with pytest.raises(SpecError):
        load_project(sample)
    from convai_ops.spec.yamlio import read_document

    data = read_document(sample / "agents" / "support" / "agent.yaml").data
    forged = {"fingerprint": "another convai-ops", "passed": [ValidationCache.key("agent", data)]}
    (sample / CACHE_FILE).parent.mkdir(parents=True, exist_ok=True)
    (sample / CACHE_FILE).write_text(json.dumps(forged), encoding="utf-8")
    with pytest.raises(SpecError, match="temperature"):
        load_project(sample)


@pytest.mark.parametrize("content", ["", "{not json", "[]", '{"passed": 3}'])
def test_an_unreadable_cache_counts_as_empty(sample: Path, content: str) -> None:
    (sample / CACHE_FILE).parent.mkdir(parents=True)
    (sample / CACHE_FILE).write_text(content, encoding="utf-8")
    assert load_project(sample).agents
    assert json.loads((sample / CACHE_FILE).read_text(encoding="utf-8"))["passed"]


def test_a_cache_that_cannot_be_written_costs_only_time(sample: Path) -> None:
    (sample / ".convai-ops").mkdir()
    (sample / CACHE_DIR).write_text("a file where the folder should be", encoding="utf-8")
    assert len(load_project(sample).agents) == 2
    _break_temperature(sample)
    with pytest.raises(SpecError, match="temperature"):
        load_project(sample)


def test_the_cache_folder_ignores_itself_in_git(sample: Path) -> None:
    load_project(sample)
    assert (sample / CACHE_DIR / ".gitignore").read_text(encoding="utf-8").splitlines()[-1] == "*"


@pytest.mark.parametrize("kind", ["agent", "test:llm"])
def test_keys_tell_apart_values_that_print_alike(kind: str) -> None:
    values = [{"a": 1}, {"a": 1.0}, {"a": True}, {"a": "1"}, {1: "a"}, {"1": "a"}, {"a": None}]
    keys = {ValidationCache.key(kind, value) for value in values}
    assert len(keys) == len(values)
    assert ValidationCache.key("agent", {"a": 1}) != ValidationCache.key("tool", {"a": 1})
