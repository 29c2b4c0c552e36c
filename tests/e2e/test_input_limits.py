"""Input limits (issue 17, item 1) through `validate`, `plan` and `apply` against the emulator:
exit 1, one line naming the file (and line for in-file problems), no traceback, nothing sent
when the problem is detectable offline, each command under 10 s.

The classes checked in the malformed corpus (tests/spec/malformed, run through the same three
commands by tests/e2e/test_malformed_cli.py) are not repeated here: knowledge file types
(`knowledge_file_type`), `ignore:` pointers (`ignore_unknown_field*`), convai-ops.yaml values
(`base_url_*`, `key_variable_is_own_setting`) and a shallow nesting case (`nested_too_deeply*`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from convai_ops.cli import main
from convai_ops.emulator import EmulatorConfig, run_in_thread
from convai_ops.spec.limits import (
    MAX_KNOWLEDGE_BYTES,
    MAX_PROMPT_BYTES,
    MAX_PROMPT_MODE_BYTES,
    MAX_YAML_BYTES,
)
from tests.spec.spec_helpers import SAMPLE, write_tree

COMMANDS = (("validate",), ("plan",), ("apply", "--auto-approve"))
AGENT = "agents/support/agent.yaml"
KEY = "limits-key-0123456789"


@pytest.fixture(scope="module")
def shared_server() -> Iterator[Any]:
    with run_in_thread(EmulatorConfig(rag_index_delay_s=0.05, test_delay_s=0.05)) as handle:
        yield handle


@pytest.fixture
def root(tmp_path: Path, shared_server: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The valid sample project, pointed at the shared emulator."""
    monkeypatch.setenv("ELEVENLABS_BASE_URL", shared_server.url)
    monkeypatch.setenv("ELEVENLABS_API_KEY", KEY)
    return write_tree(tmp_path / "repo", SAMPLE)


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str, float]:
    start = time.monotonic()
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err, time.monotonic() - start


def _refused(
    capsys: pytest.CaptureFixture[str],
    server: Any,
    args: tuple[str, ...],
    where: str,
    fragment: str,
    commands: tuple[tuple[str, ...], ...] = COMMANDS,
) -> None:
    """Each command: exit 1, one line holding ``where`` and ``fragment``, no request sent."""
    sent = len(server.emulator.request_log)
    for command in commands:
        code, out, err, seconds = _run(capsys, *args, *command)
        lines = err.strip().splitlines()
        assert code == 1, (command, out, err)
        assert len(lines) == 1 and lines[0].startswith("error: "), err
        assert "Traceback" not in err and out == ""
        assert where in lines[0] and fragment in lines[0], lines[0]
        assert seconds < 10, (command, seconds)
    assert len(server.emulator.request_log) == sent


def _deep_flow(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    "relative",
    [AGENT, "convai-ops.yaml", "agents/support/tests/refund.yaml", "tools/lookup_order.yaml"],
)
def test_a_file_nested_half_a_million_deep_is_refused_at_its_line(
    root: Path, relative: str, shared_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    (root / relative).write_text(f"version: 1\ndeep: {_deep_flow(500_000)}\n", encoding="utf-8")
    where = f"{root / relative}:2:"
    _refused(capsys, shared_server, ("-C", str(root)), where, "nested too deeply")


def test_block_nesting_past_the_cap_is_refused_at_its_line(
    root: Path, shared_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "name: Acme Support\n" + "".join(" " * i + f"k{i}:\n" for i in range(1200)) + "  " * 600
    (root / AGENT).write_text(text + "x\n", encoding="utf-8")
    # level 1 is the top mapping; level n > 1 is the value of k(n-2), starting on line n + 1
    where = f"{root / AGENT}:66:65:"
    _refused(capsys, shared_server, ("-C", str(root)), where, "nested too deeply")


def test_a_yaml_file_over_its_cap_is_refused_before_it_is_read(
    root: Path, shared_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    padding = "# padding\n" * (MAX_YAML_BYTES // 10 + 1)
    (root / AGENT).write_text(SAMPLE[AGENT] + padding, encoding="utf-8")
    _refused(capsys, shared_server, ("-C", str(root)), f"{root / AGENT}: ", "too large")


def test_a_prompt_file_over_its_cap_is_refused_at_prompt_file(
    root: Path, shared_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    (root / "agents/support/prompt.md").write_text("x" * (MAX_PROMPT_BYTES + 1), encoding="utf-8")
    where = f"{root / AGENT}:5:1: prompt_file: "
    _refused(capsys, shared_server, ("-C", str(root)), where, "a prompt file may hold at most")


def test_a_knowledge_file_over_21_mb_is_refused(
    root: Path, shared_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    os.truncate(root / "agents/support/knowledge/shipping.md", MAX_KNOWLEDGE_BYTES + 1)  # sparse
    where = f"{root / AGENT}:15:"  # not listed in knowledge_base: the list's line
    fragment = "the knowledge base takes at most 21 MB per file"
    _refused(capsys, shared_server, ("-C", str(root)), where, fragment)


def test_a_prompt_mode_document_over_300_kb_is_refused_at_its_entry(
    root: Path, shared_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    (root / "agents/support/knowledge/refunds.md").write_bytes(b"r" * (MAX_PROMPT_MODE_BYTES + 1))
    where = f"{root / AGENT}:16:5: knowledge_base[0].file: "
    _refused(capsys, shared_server, ("-C", str(root)), where, "prompt mode takes at most 300 KB")


def test_a_prompt_mode_document_of_300_kb_is_accepted(
    root: Path, shared_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    (root / "agents/support/knowledge/refunds.md").write_bytes(b"r" * MAX_PROMPT_MODE_BYTES)
    code, _, err, _ = _run(capsys, "-C", str(root), "validate")
    assert code == 0, err


def test_an_agent_id_the_workspace_does_not_have_is_reported_at_its_line(
    root: Path, shared_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err, _ = _run(capsys, "-C", str(root), "validate")
    assert code == 0, err  # offline, the id cannot be known to be missing
    sent = len(shared_server.emulator.request_log)
    where = f"{root / AGENT}:4:"  # environments: {staging: agent_s1, ...}
    fragment = "agent 'agent_s1' does not exist in environment 'staging'"
    _refused_online(capsys, shared_server, root, where, fragment)
    methods = {entry.method for entry in shared_server.emulator.request_log[sent:]}
    assert methods == {"GET"}  # read, then refused: nothing written


def _refused_online(
    capsys: pytest.CaptureFixture[str], server: Any, root: Path, where: str, fragment: str
) -> None:
    for command in COMMANDS[1:]:
        code, _, err, seconds = _run(capsys, "-C", str(root), *command)
        lines = err.strip().splitlines()
        assert code == 1 and len(lines) == 1 and "Traceback" not in err, err
        assert where in lines[0] and fragment in lines[0], lines[0]
        assert seconds < 10


OUTSIDE = (
    *COMMANDS,
    ("drift",),
    ("test",),
    ("gc", "--yes"),
    ("pull",),
    ("doctor",),
    ("check",),
    ("conversations", "list"),
)


@pytest.mark.parametrize("command", OUTSIDE, ids=" ".join)
def test_every_command_outside_a_project_says_so_in_one_line(
    tmp_path: Path,
    command: tuple[str, ...],
    shared_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ELEVENLABS_BASE_URL", shared_server.url)
    monkeypatch.setenv("ELEVENLABS_API_KEY", KEY)
    empty = tmp_path / "not-a-project" / "sub"
    empty.mkdir(parents=True)
    monkeypatch.chdir(empty)
    fragment = "not a convai-ops project: no convai-ops.yaml or agents/"
    _refused(capsys, shared_server, (), str(empty), fragment, commands=(command,))


def test_commands_find_the_project_root_from_a_subfolder(
    root: Path,
    shared_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(root / "agents" / "support" / "tests")
    code, out, err, _ = _run(capsys, "validate")
    assert code == 0 and "2 agent(s)" in out, (out, err)
    (root / AGENT).write_text("name: Acme Support\npromt_file: prompt.md\n", encoding="utf-8")
    where = "error: ../../../agents/support/agent.yaml:2:1: promt_file: "  # from the cwd
    _refused(capsys, shared_server, (), where, "did you mean 'prompt_file'?")


def test_help_works_outside_a_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _, _ = _run(capsys, "plan", "--help")
    assert code == 0 and "Usage: convai-ops plan" in out
