"""Tools as code end to end: tools/lookup_order.yaml behind the branch gate, promotion to a
second workspace, and references checked before any write."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from convai_ops.emulator import EmulatorConfig, run_in_thread
from convai_ops.emulator.core import RequestLogEntry
from tests.e2e.conftest import KEY, agent_ids, main_config
from tests.example_fixtures import FAST, MODES
from tests.helpers import Runner, cli_runner

TOOLS = "/v1/convai/tools"
WRITES = ("POST", "PATCH", "PUT", "DELETE")


@pytest.fixture(params=sorted(MODES))
def mode_server(request: pytest.FixtureRequest) -> Iterator[Any]:
    with run_in_thread(EmulatorConfig(**FAST, **MODES[request.param])) as handle:
        yield handle


@pytest.fixture
def mode_cli(
    mode_server: Any, project: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> Runner:
    return cli_runner(project, mode_server.url, KEY, monkeypatch, capsys)


def _tool_ids(agent: dict[str, Any]) -> list[str]:
    return list(agent["conversation_config"]["agent"]["prompt"]["tool_ids"])


def _get(server: Any, path: str) -> httpx.Response:
    return httpx.get(f"{server.url}{path}", headers={"xi-api-key": KEY})


def _main_reads(log: Sequence[RequestLogEntry], agent_id: str) -> list[RequestLogEntry]:
    path = f"/v1/convai/agents/{agent_id}"
    return [e for e in log if e.method == "GET" and e.path == path and "branch_id" not in e.query]


def _edit_tool(project: Path) -> None:
    path = project / "tools" / "lookup_order.yaml"
    path.write_text(path.read_text().replace("Looks up the shipping", "Finds the shipping"))


def test_a_tool_change_shows_under_its_agent_and_is_gated(
    mode_cli: Runner, mode_server: Any, project: Path
) -> None:
    assert mode_cli("apply", "--auto-approve")[0] == 0
    support = agent_ids(mode_server)["support"]
    [old] = _tool_ids(main_config(mode_server, support))
    _edit_tool(project)
    code, out, _ = mode_cli("plan", "--detailed-exitcode")
    assert code == 2, out
    support_part = out[out.index("~ support") :]
    assert "tools.lookup_order.description" in support_part
    assert "Finds the shipping status" in support_part
    assert "tools." not in out[: out.index("~ support")]  # not under the assistant
    start = len(mode_server.emulator.request_log)
    code, out, err = mode_cli("apply", "--auto-approve")
    assert code == 0, out + err
    log = mode_server.emulator.request_log[start:]
    [created] = [e for e in log if e.method == "POST" and e.path == TOOLS]
    new = created.response_body["id"]
    assert new != old
    assert not [e for e in log if e.method in ("PATCH", "PUT", "DELETE") and TOOLS in e.path]
    merge = next(i for i, e in enumerate(log) if e.path.endswith("/merge"))
    [branch] = [e for e in log[:merge] if e.method == "POST" and e.path.endswith("/branches")]
    assert branch.body["conversation_config"]["agent"]["prompt"]["tool_ids"] == [new]
    before = _main_reads(log[:merge], support)
    assert before and all(_tool_ids(e.response_body) == [old] for e in before)
    [synced] = [e for e in log if e.path == "/v1/convai/agent-testing/create"]
    reference = synced.body["tool_call_parameters"]["referenced_tool"]
    assert reference == {"id": new, "type": "webhook"}
    assert _tool_ids(main_config(mode_server, support)) == [new]
    assert mode_cli("plan", "--detailed-exitcode")[0] == 0


def test_the_old_copy_is_left_for_gc(cli: Runner, server: Any, project: Path) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    [old] = _tool_ids(main_config(server, agent_ids(server)["support"]))
    _edit_tool(project)
    assert cli("apply", "--auto-approve")[0] == 0
    [new] = _tool_ids(main_config(server, agent_ids(server)["support"]))
    assert _get(server, f"{TOOLS}/{old}").status_code == 200  # untouched by apply
    code, out, _ = cli("gc", "--min-age-days", "0")
    assert code == 0
    assert f"tool {old}  lookup_order" in out and new not in out
    code, out, _ = cli("gc", "--min-age-days", "0", "--yes")
    assert code == 0 and "deleted: tool lookup_order" in out
    assert _get(server, f"{TOOLS}/{old}").status_code == 404
    assert _get(server, f"{TOOLS}/{new}").status_code == 200


def test_gc_keeps_a_tool_a_kept_branch_uses(cli: Runner, server: Any, project: Path) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    path = project / "tools" / "lookup_order.yaml"
    path.write_text(path.read_text().replace("{order_id}", "{order_id}/status"))
    prompt = project / "agents" / "support" / "prompt.md"
    prompt.write_text(prompt.read_text().replace("within 30 days", "within 14 days"))
    assert cli("apply", "--auto-approve")[0] == 3  # refund test fails: branch kept
    listed = _get(server, TOOLS).json()["tools"]
    assert len(listed) == 2
    code, out, _ = cli("gc", "--min-age-days", "0")
    assert code == 0 and "  tool " not in out  # the old one main uses, the new one a branch


@pytest.fixture
def second_server() -> Iterator[Any]:
    config = EmulatorConfig(test_delay_s=0.05, rag_index_delay_s=0.05, seed=99)  # other ids
    with run_in_thread(config) as handle:
        yield handle


def test_the_same_repository_applies_to_another_workspace(
    cli: Runner,
    server: Any,
    second_server: Any,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    [first] = _tool_ids(main_config(server, agent_ids(server)["support"]))
    decoy = {"tool_config": {"type": "client", "name": "lookup_order", "description": "Other."}}
    httpx.post(f"{second_server.url}{TOOLS}", json=decoy, headers={"xi-api-key": KEY})
    other = cli_runner(project, second_server.url, KEY, monkeypatch, capsys)
    code, out, err = other("plan", "--detailed-exitcode")
    assert code == 2, out + err
    code, out, err = other("apply", "--auto-approve")
    assert code == 0, out + err
    assert "pass order-status [tool] passed 1/1 (needs 1)" in out
    [second] = _tool_ids(main_config(second_server, agent_ids(second_server)["support"]))
    assert second != first
    decoy_ids = [t["id"] for t in _get(second_server, TOOLS).json()["tools"] if t["id"] != second]
    assert len(decoy_ids) == 1  # the decoy (same name, other content) was not used
    assert other("plan", "--detailed-exitcode")[0] == 0


def _writes(server: Any) -> list[str]:
    return [f"{e.method} {e.path}" for e in server.emulator.request_log if e.method in WRITES]


@pytest.mark.parametrize("command", [("plan",), ("apply", "--auto-approve")])
def test_a_missing_knowledge_id_fails_before_any_write(
    cli: Runner, server: Any, project: Path, command: tuple[str, ...]
) -> None:
    agent = project / "agents" / "support" / "agent.yaml"
    text = agent.read_text().replace(
        "platform_settings:", "knowledge_base:\n  - id: doc_not_here\nplatform_settings:", 1
    )
    agent.write_text(text)
    line = text.splitlines().index("  - id: doc_not_here") + 1
    code, _, err = cli(*command)
    assert code != 0
    assert f"agent.yaml:{line}:" in err and "knowledge_base[0].id" in err
    assert "'doc_not_here' does not exist in environment 'staging'" in err
    assert _writes(server) == []
    assert agent_ids(server) == {}


def test_a_missing_tool_id_in_a_test_fails_before_any_write(
    cli: Runner, server: Any, project: Path
) -> None:
    test = project / "agents" / "support" / "tests" / "order-status.yaml"
    test.write_text(
        test.read_text().replace("{name: lookup_order}", "{id: tool_from_elsewhere, type: webhook}")
    )
    code, _, err = cli("apply", "--auto-approve")
    assert code != 0
    assert "order-status.yaml:9:" in err and "referenced_tool.id" in err
    assert "'tool_from_elsewhere' does not exist in environment 'staging'" in err
    assert _writes(server) == []
