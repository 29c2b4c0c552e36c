"""Reads started before the project is loaded: only for a project known valid, the same
requests as without them, and nothing sent for bad input."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from convai_ops import early_reads
from convai_ops.spec import load_project
from tests.helpers import Runner, cli_runner

KEY = "test-key-0123456789"
RECORD = Path(".convai-ops/cache/project.json")
HEADERS = {"xi-api-key": KEY}


@pytest.fixture
def cli(
    server: Any, project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Runner:
    run = cli_runner(project, server.url, KEY, monkeypatch, capsys)
    code, out, err = run("apply", "--auto-approve")  # the agents exist; the project is recorded
    assert code == 0, out + err
    return run


def requests_of(server: Any, run: Runner, *args: str) -> tuple[int, str, Counter[str]]:
    """Exit code, stderr and the requests (method, path, query) of ``convai-ops ARGS``."""
    log = server.emulator.request_log
    before = len(log)
    code, _, err = run(*args)
    return code, err, Counter(f"{e.method} {e.path}?{e.query}" for e in log[before:])


def test_a_known_valid_project_sends_the_same_requests(
    server: Any, project: Path, cli: Runner
) -> None:
    assert (project / RECORD).is_file()
    assert early_reads.known_valid(project)
    code, _, early = requests_of(server, cli, "plan")
    assert code == 0
    (project / RECORD).unlink()
    code, _, loaded_first = requests_of(server, cli, "plan")
    assert code == 0
    assert early == loaded_first  # no request twice, none missing
    reads = [
        r.split("?")[0].split("/")[4:] for r in early if r.startswith("GET /v1/convai/agents/")
    ]
    assert sorted(len(r) for r in reads) == [1, 1, 2, 2]  # each agent, and its branches (traffic)
    code, out, _ = cli("apply", "--auto-approve")
    assert (code, "No changes" in out) == (0, True)


@pytest.mark.parametrize(
    ("relative", "text"),
    [
        ("agents/support/agent.yaml", "\nnot_a_field: 1\n"),
        ("agents/support/tests/zz-broken.yaml", "type: llm\nchat_history: 3\n"),
        ("tools/lookup_order.yaml", "\n: [\n"),
        ("convai-ops.yaml", "\ndefault_environment: nowhere\n"),
    ],
)
def test_bad_input_after_a_valid_run_sends_nothing(
    server: Any, project: Path, cli: Runner, relative: str, text: str
) -> None:
    path = project / relative
    path.write_text((path.read_text() if path.exists() else "") + text, encoding="utf-8")
    for command in (["plan"], ["apply", "--auto-approve"]):
        code, err, sent = requests_of(server, cli, *command)
        assert code == 1
        assert relative.split("/")[-1] in err
        assert sent == Counter()


def test_an_unknown_target_sends_nothing(server: Any, cli: Runner) -> None:
    code, err, sent = requests_of(server, cli, "plan", "--target", "nobody")
    assert (code, sent) == (1, Counter())
    assert "unknown agent nobody" in err


def test_a_missing_key_sends_nothing(
    server: Any, cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ELEVENLABS_API_KEY")
    code, err, sent = requests_of(server, cli, "plan")
    assert (code, sent) == (1, Counter())
    assert "no API key" in err


def test_files_changed_while_loading_are_not_recorded(project: Path) -> None:
    early = early_reads.start(project, ())
    assert not early.known_valid  # never loaded: no record
    prompt = project / "agents" / "support" / "prompt.md"
    prompt.write_text(prompt.read_text() + "\nEdited while loading.\n", encoding="utf-8")
    early.remember(load_project(project))
    assert not (project / RECORD).exists()
    early_reads.start(project, ()).remember(load_project(project))
    assert early_reads.known_valid(project)


def test_a_record_from_other_code_is_ignored(project: Path) -> None:
    early_reads.start(project, ()).remember(load_project(project))
    record = json.loads((project / RECORD).read_text())
    (project / RECORD).write_text(json.dumps({**record, "stamp": "another version"}))
    assert not early_reads.known_valid(project)


def test_a_record_holds_no_secret(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELEVENLABS_API_KEY", KEY)
    early_reads.start(project, ()).remember(load_project(project))
    assert KEY not in (project / RECORD).read_text()


def test_a_pinned_agent_deleted_since_is_reported_at_its_line(
    server: Any, project: Path, cli: Runner
) -> None:
    agent_id = early_ids(server)["support"]
    path = project / "agents" / "support" / "agent.yaml"
    path.write_text(path.read_text() + f"environments:\n  staging: {agent_id}\n", encoding="utf-8")
    assert cli("plan")[0] == 0  # recorded with the id written down
    deleted = httpx.delete(f"{server.url}/v1/convai/agents/{agent_id}", headers=HEADERS)
    assert deleted.status_code == 200
    assert early_reads.known_valid(project)  # so the read of the deleted agent starts early
    code, err, sent = requests_of(server, cli, "plan")
    assert code == 1
    assert "agent.yaml:" in err and f"agent {agent_id!r} does not exist" in err
    assert sent[f"GET /v1/convai/agents/{agent_id}?"] == 1


def early_ids(server: Any) -> dict[str, str]:
    listed = httpx.get(f"{server.url}/v1/convai/agents", headers=HEADERS).json()["agents"]
    return {t.split(":", 1)[1]: a["agent_id"] for a in listed for t in a["tags"] if ":" in t}
