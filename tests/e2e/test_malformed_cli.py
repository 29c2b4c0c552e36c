"""Every malformed-input case of tests/spec/malformed, through the CLI against a live emulator:
exit 1, one line on stderr naming file:line and the field, no traceback, zero API requests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from convai_ops.cli import main
from convai_ops.emulator import EmulatorConfig, run_in_thread
from tests.spec.spec_helpers import SAMPLE, write_tree

CORPUS = Path(__file__).parents[1] / "spec" / "malformed"
EXPECTED: dict[str, dict[str, Any]] = YAML(typ="safe").load(CORPUS / "expected.yaml")

COMMANDS = (("plan",), ("apply", "--auto-approve"), ("validate",))


@pytest.fixture(scope="module")
def shared_server() -> Iterator[Any]:
    """One emulator for the whole corpus: its request log must stay empty throughout."""
    with run_in_thread(EmulatorConfig(rag_index_delay_s=0.05)) as handle:
        yield handle


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_malformed_case_fails_cleanly_before_any_request(
    case: str,
    tmp_path: Path,
    shared_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = write_tree(tmp_path / "repo", SAMPLE)
    folder = CORPUS / case
    write_tree(
        root,
        {p.relative_to(folder).as_posix(): p.read_text() for p in folder.rglob("*") if p.is_file()},
    )
    monkeypatch.setenv("ELEVENLABS_BASE_URL", shared_server.url)
    monkeypatch.setenv("ELEVENLABS_API_KEY", "malformed-key-0123")
    expected = EXPECTED[case]
    for command in COMMANDS:
        with pytest.raises(SystemExit) as exit_info:
            main(["-C", str(root), *command])
        out, err = capsys.readouterr()
        assert exit_info.value.code == 1, (command, out, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), err
        assert "Traceback" not in err and out == ""
        where = str(root / expected["file"]) + (f":{expected['line']}:" if expected["line"] else "")
        assert where in lines[0]
        if expected["field"]:
            assert f": {expected['field']}: " in lines[0]
    assert shared_server.emulator.request_log == []
