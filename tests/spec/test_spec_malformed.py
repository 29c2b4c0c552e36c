"""Each folder under malformed/ breaks the sample project in one way; the error must say where."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from spec_helpers import SAMPLE, write_tree

from convai_ops.errors import SpecError
from convai_ops.spec import load_project

CORPUS = Path(__file__).parent / "malformed"
EXPECTED: dict[str, dict[str, Any]] = YAML(typ="safe").load(CORPUS / "expected.yaml")


def _overlay(case: str) -> dict[str, str]:
    folder = CORPUS / case
    return {
        path.relative_to(folder).as_posix(): path.read_text("utf-8")
        for path in folder.rglob("*")
        if path.is_file()
    }


def test_every_case_folder_has_an_expectation() -> None:
    folders = {path.name for path in CORPUS.iterdir() if path.is_dir()}
    assert folders == set(EXPECTED)
    assert len(folders) >= 25


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_malformed_input_is_reported_precisely(case: str, tmp_path: Path) -> None:
    expected = EXPECTED[case]
    root = write_tree(tmp_path / "repo", SAMPLE)
    write_tree(root, _overlay(case))

    with pytest.raises(SpecError) as caught:
        load_project(root)

    error = caught.value
    message = str(error)
    assert "\n" not in message
    assert error.path == root / expected["file"]
    assert error.line == expected["line"]
    assert error.field == expected["field"]
    assert expected["message"] in message
    location = f"{root / expected['file']}:{expected['line']}:" if expected["line"] else ""
    assert message.startswith(location or str(root / expected["file"]))
    if expected["field"]:
        assert f": {expected['field']}: " in message
