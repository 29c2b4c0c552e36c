"""What no version holds (name, tags, agent-wide platform settings, attached tests) never goes on
a branch, end to end over loopback, under both readings of "written on a branch"
(``agent_wide_on_branch``: "live" would leak it to main at once, "dropped" would lose it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from convai_ops.emulator import EmulatorConfig, run_in_thread
from tests.e2e.conftest import KEY, agent_ids, main_config

KNOBS = [
    EmulatorConfig(test_delay_s=0.05, agent_wide_on_branch="live"),
    EmulatorConfig(test_delay_s=0.05, agent_wide_on_branch="dropped"),
]


@pytest.fixture(params=KNOBS, ids=["live", "dropped"])
def server(request: pytest.FixtureRequest) -> Iterator[Any]:
    with run_in_thread(request.param) as handle:
        yield handle


def _edit(project: Path, file: str, old: str, new: str) -> None:
    path = project / "agents" / "support" / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def _limit(server: Any, agent_id: str) -> int:
    limits = main_config(server, agent_id)["platform_settings"]["call_limits"]
    return int(limits["agent_concurrency_limit"])


def _branch_names(server: Any, agent_id: str) -> list[str]:
    response = httpx.get(
        f"{server.url}/v1/convai/agents/{agent_id}/branches",
        headers={"xi-api-key": KEY},
        params={"include_archived": True},
    )
    return [b["name"] for b in response.json()["results"]]


def _calls(server: Any, agent_id: str, method: str, suffix: str = "") -> list[Any]:
    return [
        e
        for e in server.emulator.request_log
        if e.method == method and agent_id in e.path and e.path.endswith(suffix)
    ]


@pytest.fixture
def applied(cli: Any, server: Any) -> str:
    """The example agents applied; returns the id of ``support``."""
    code, out, err = cli("apply", "--auto-approve")
    assert code == 0, out + err
    return agent_ids(server)["support"]


def test_agent_wide_setting_is_not_written_when_tests_fail(
    cli: Any, server: Any, project: Path, applied: str
) -> None:
    _edit(project, "agent.yaml", "agent_concurrency_limit: -1", "agent_concurrency_limit: 3")
    _edit(project, "prompt.md", "within 30 days", "within 14 days")
    code, out, _ = cli("plan")
    assert "~ platform_settings.call_limits.agent_concurrency_limit: -1 -> 3 (not gated" in out
    code, out, _ = cli("apply", "--auto-approve")
    assert code == 3, out
    assert _limit(server, applied) == -1  # "live" would have leaked 3 from the branch
    created = _calls(server, applied, "POST", "/branches")[-1]  # this apply's branch
    assert "call_limits" not in (created.body.get("platform_settings") or {})


def test_agent_wide_setting_is_written_on_main_after_the_merge(
    cli: Any, server: Any, project: Path, applied: str
) -> None:
    _edit(project, "agent.yaml", "agent_concurrency_limit: -1", "agent_concurrency_limit: 3")
    _edit(project, "prompt.md", "warm, concise", "warm, brief")
    code, out, err = cli("apply", "--auto-approve")
    assert code == 0, out + err
    assert "+ support: merged into main" in out
    assert _limit(server, applied) == 3
    merge = _calls(server, applied, "POST", "/merge")[-1]
    [patch] = [e for e in _calls(server, applied, "PATCH") if e.timestamp >= merge.timestamp]
    assert patch.query == ""  # on main: no branch_id
    assert patch.body["platform_settings"]["call_limits"] == {"agent_concurrency_limit": 3}
    assert cli("plan", "--detailed-exitcode")[0] == 0


@pytest.mark.parametrize(
    ("file", "old", "new"),
    [
        ("agent.yaml", "tags: [support, acme]", "tags: [support, acme, outdoor]"),
        ("agent.yaml", "agent_concurrency_limit: -1", "agent_concurrency_limit: 4"),
    ],
    ids=["tags", "call_limits"],
)
def test_metadata_only_change_is_written_directly(
    cli: Any, server: Any, project: Path, applied: str, file: str, old: str, new: str
) -> None:
    branches = _branch_names(server, applied)
    runs = len(_calls(server, applied, "POST", "/run-tests"))
    _edit(project, file, old, new)
    code, out, _ = cli("plan", "--detailed-exitcode")
    assert code == 2
    assert f"~ support ({applied}) (metadata only: written directly, no tests)" in out
    assert "tests to run" not in out
    code, out, err = cli("apply", "--auto-approve")
    assert code == 0, out + err
    assert (
        f"+ support: metadata only: written directly on main (no branch, no tests) ({applied})"
        in out
    )
    assert _branch_names(server, applied) == branches  # no branch created
    assert len(_calls(server, applied, "POST", "/run-tests")) == runs  # no tests run
    assert not _calls(server, applied, "POST", "/merge")[1:]  # only the first apply merged
    assert cli("plan", "--detailed-exitcode")[0] == 0


def test_changed_test_runs_on_main_before_it_is_attached(
    cli: Any, server: Any, project: Path, applied: str
) -> None:
    attached = main_config(server, applied)["platform_settings"]["testing"]["attached_tests"]
    branches = _branch_names(server, applied)
    test = "tests/refund-window.yaml"
    _edit(project, test, 'window of "30 days"', 'window of "14 days"')
    _edit(project, test, "within 30 days of delivery", "within 14 days of delivery")
    code, out, _ = cli("plan")
    assert "(no versioned change: tests run on main, then written directly)" in out
    code, out, _ = cli("apply", "--auto-approve")
    assert code == 3, out
    assert "tests failed on main: nothing written" in out
    assert main_config(server, applied)["platform_settings"]["testing"]["attached_tests"] == (
        attached
    )
    assert _branch_names(server, applied) == branches


def test_changed_test_that_passes_on_main_is_attached_without_a_branch(
    cli: Any, server: Any, project: Path, applied: str
) -> None:
    branches = _branch_names(server, applied)
    condition = 'The agent mentions "unused or faulty items".'
    _edit(
        project,
        "tests/refund-window.yaml",
        'The agent confirms the refund window of "30 days".',
        condition,
    )
    code, out, err = cli("apply", "--auto-approve")
    assert code == 0, out + err
    assert "3 test(s) passed on main; written directly (no branch)" in out
    assert _branch_names(server, applied) == branches
    run = _calls(server, applied, "POST", "/run-tests")[-1]
    assert "branch_id" not in run.body  # on main
    assert cli("plan", "--detailed-exitcode")[0] == 0  # the new test is the one attached


def test_check_never_writes_agent_wide_settings(
    cli: Any, server: Any, project: Path, applied: str
) -> None:
    _edit(project, "agent.yaml", "agent_concurrency_limit: -1", "agent_concurrency_limit: 3")
    _edit(project, "prompt.md", "warm, concise", "warm, brief")
    code, out, err = cli("check", "--branch-name", "pr-7")
    assert code == 0, out + err
    assert "1 change(s) not gated by tests are written at apply" in out
    assert _limit(server, applied) == -1  # "live" would have leaked it from the branch
    assert "pr-7" in _branch_names(server, applied)


def test_check_of_a_metadata_only_change_stages_nothing(
    cli: Any, server: Any, project: Path, applied: str
) -> None:
    branches = _branch_names(server, applied)
    _edit(project, "agent.yaml", "tags: [support, acme]", "tags: [support]")
    code, out, err = cli("check", "--branch-name", "pr-8")
    assert code == 0, out + err
    assert "~ support: metadata only (not gated by tests): nothing to test" in out
    assert _branch_names(server, applied) == branches
    assert "acme" in main_config(server, applied)["tags"]
