"""End to end over real loopback HTTP: the CLI against the emulator, on a copy of agents/."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from convai_ops.cli import main
from convai_ops.emulator import EmulatorConfig, run_in_thread

REPO = Path(__file__).resolve().parents[2]
KEY = "test-key-0123456789"


@pytest.fixture
def server() -> Iterator[Any]:
    with run_in_thread(EmulatorConfig(test_delay_s=0.05)) as handle:
        yield handle


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy2(REPO / "convai-ops.yaml", tmp_path / "convai-ops.yaml")
    shutil.copytree(REPO / "agents", tmp_path / "agents")
    return tmp_path


@pytest.fixture
def cli(
    server: Any, project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Any:
    monkeypatch.setenv("ELEVENLABS_BASE_URL", server.url)
    monkeypatch.setenv("ELEVENLABS_API_KEY", KEY)
    monkeypatch.setenv("CONVAI_OPS_POLL_INTERVAL", "0.05")

    def run(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as exit_info:
            main(["-C", str(project), *args])
        out, err = capsys.readouterr()
        return int(exit_info.value.code or 0), out, err

    return run


def _main_config(server: Any, agent_id: str) -> dict[str, Any]:
    response = httpx.get(f"{server.url}/v1/convai/agents/{agent_id}", headers={"xi-api-key": KEY})
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def _agent_ids(server: Any) -> dict[str, str]:
    response = httpx.get(f"{server.url}/v1/convai/agents", headers={"xi-api-key": KEY})
    agents = response.json()["agents"]
    return {
        tag.split(":", 1)[1]: a["agent_id"]
        for a in agents
        for tag in a["tags"]
        if tag.startswith("convai-ops:")
    }


def test_plan_shows_agents_to_create(cli: Any) -> None:
    code, out, _ = cli("plan", "--detailed-exitcode")
    assert code == 2
    assert "+ assistant will be created" in out
    assert "+ support will be created" in out
    assert "Plan: 2 to create, 0 to update, 0 to delete; 4 tests will run." in out


def test_apply_creates_then_plan_is_empty(cli: Any, server: Any) -> None:
    code, out, err = cli("apply", "--auto-approve")
    assert code == 0, out + err
    assert "Apply: 2 merged" in out
    ids = _agent_ids(server)
    assert set(ids) == {"support", "assistant"}
    prompt = _main_config(server, ids["support"])["conversation_config"]["agent"]["prompt"][
        "prompt"
    ]
    assert "within 30 days" in prompt
    code, out, _ = cli("plan", "--detailed-exitcode")
    assert code == 0, out
    assert "No changes." in out


def test_prompt_edit_shows_the_line_and_exits_2(cli: Any, project: Path) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    prompt = project / "agents" / "assistant" / "prompt.md"
    prompt.write_text(prompt.read_text().replace("8 am to 6 pm", "9 am to 5 pm"))
    code, out, _ = cli("plan", "--detailed-exitcode")
    assert code == 2
    assert "- Opening hours of the office are Monday to Friday, 8 am to 6 pm." in out
    assert "+ Opening hours of the office are Monday to Friday, 9 am to 5 pm." in out
    assert "Plan: 0 to create, 1 to update" in out


def test_failing_apply_leaves_main_identical(cli: Any, server: Any, project: Path) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    agent_id = _agent_ids(server)["support"]
    before = _main_config(server, agent_id)
    prompt = project / "agents" / "support" / "prompt.md"
    prompt.write_text(prompt.read_text().replace("within 30 days", "within 14 days"))
    code, out, _ = cli("apply", "--auto-approve")
    assert code == 3, out
    assert "refund-window" in out and "FAIL" in out
    assert "NOT merged" in out
    after = _main_config(server, agent_id)
    assert json.dumps(after, sort_keys=True) == json.dumps(before, sort_keys=True)
    merges = [
        e for e in server.emulator.request_log if e.path.endswith("/merge") and agent_id in e.path
    ]
    assert len(merges) == 1  # only the first, passing apply merged


def test_key_never_printed_even_with_debug(cli: Any) -> None:
    code, out, err = cli("--debug", "apply", "--auto-approve")
    assert code == 0
    assert KEY not in out + err
