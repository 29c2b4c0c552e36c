"""Branches are found without trusting the branch list, which the API caps at 100 with no
cursor: an agent holding more than 100 branches, end to end over loopback; and branch names
the API would refuse are refused offline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from convai_ops.emulator import EmulatorServer
from tests.helpers import Runner

from .conftest import KEY, PROJECT_FILES, commit

PROMPT = PROJECT_FILES["agents/support/prompt.md"]
AGENTS = "/v1/convai/agents"


def _api(server: EmulatorServer) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"xi-api-key": KEY}, timeout=10)


def _agent_ids(server: EmulatorServer) -> dict[str, str]:
    with _api(server) as api:
        agents = api.get(AGENTS).json()["agents"]
    tags = {t: a["agent_id"] for a in agents for t in a["tags"]}
    return {t.split(":", 1)[1]: i for t, i in tags.items() if t.startswith("convai-ops:")}


def _fill(server: EmulatorServer, agent_id: str, names: list[str], *, archived: bool) -> None:
    """Create one branch per name from main's version (archived if asked)."""
    with _api(server) as api:
        version = api.get(f"{AGENTS}/{agent_id}").json()["version_id"]
        for name in names:
            body = {"parent_version_id": version, "name": name, "description": "filler"}
            created = api.post(f"{AGENTS}/{agent_id}/branches", json=body)
            assert created.status_code == 200, created.text
            if archived:
                branch = created.json()["created_branch_id"]
                api.patch(f"{AGENTS}/{agent_id}/branches/{branch}", json={"is_archived": True})


def _stored(server: EmulatorServer, agent_id: str, name: str) -> list[Any]:
    """The emulator's own records of the agent's branches called ``name`` (no list cap)."""
    branches = server.emulator.store.branches.values()
    return [b for b in branches if b.agent_id == agent_id and b.name == name]


def _push(cli: Runner, project: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> Any:
    monkeypatch.setenv("GITHUB_REF", "refs/pull/7/merge")
    commit(project, {"agents/support/prompt.md": PROMPT + text}, f"push: {text}")
    return cli("check", "--changed-since", "HEAD~1")


@pytest.fixture
def support(cli: Runner, server: EmulatorServer) -> str:
    code, out, err = cli("apply", "--auto-approve")
    assert code == 0, out + err
    return _agent_ids(server)["support"]


def test_check_with_more_than_100_branches_creates_then_names_the_hidden_branch(
    cli: Runner,
    server: EmulatorServer,
    project: Path,
    support: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _fill(server, support, [f"filler-{i}" for i in range(105)], archived=False)
    code, out, err = _push(cli, project, monkeypatch, "Be kind.\n")
    assert code == 0, out + err  # a full list did not stop the first push
    [branch] = _stored(server, support, "convai-ops-pr-7")
    # the next push cannot see it in any list: the taken name is reported in one line
    code, out, err = _push(cli, project, monkeypatch, "Be quick.\n")
    assert code == 1, out + err
    lines = [line for line in (out + err).splitlines() if "already has a branch" in line]
    assert lines and support in lines[0] and "convai-ops-pr-7" in lines[0]
    assert "archive old branches" in lines[0]
    assert len(_stored(server, support, "convai-ops-pr-7")) == 1
    # once old branches are archived, the unarchived list shows it and it is reused
    with _api(server) as api:
        for stored in server.emulator.store.branches.copy().values():
            if stored.agent_id == support and stored.name.startswith("filler-"):
                api.patch(f"{AGENTS}/{support}/branches/{stored.id}", json={"is_archived": True})
    start = len(server.emulator.request_log)
    code, out, err = _push(cli, project, monkeypatch, "Be kind and quick.\n")
    assert code == 0, out + err
    log = server.emulator.request_log[start:]
    assert not [e for e in log if e.method == "POST" and e.path.endswith("/branches")]
    assert [e.query for e in log if e.method == "PATCH" and e.path.endswith(support)] == [
        f"branch_id={branch.id}"
    ]


def test_test_on_a_branch_beyond_archived_ones_and_by_id(
    cli: Runner, server: EmulatorServer, support: str
) -> None:
    _fill(server, support, [f"old-{i}" for i in range(101)], archived=True)
    _fill(server, support, ["hotfix"], archived=False)
    code, out, err = cli("test", "support", "--branch", "hotfix")
    assert code == 0, out + err
    [hotfix] = _stored(server, support, "hotfix")
    runs = [e for e in server.emulator.request_log if e.path.endswith("/run-tests")]
    assert runs[-1].body["branch_id"] == hotfix.id
    # an archived branch beyond the capped lists: by name it cannot be told apart from
    # absence (and says so); by id it is found
    _fill(server, support, ["late"], archived=True)
    code, out, err = cli("test", "support", "--branch", "late")
    assert code == 1
    assert "has no branch 'late' among the 100 branches the API lists" in err
    assert "pass the branch id" in err
    [late] = _stored(server, support, "late")
    code, out, err = cli("test", "support", "--branch", late.id)
    assert code == 0, out + err
    runs = [e for e in server.emulator.request_log if e.path.endswith("/run-tests")]
    assert runs[-1].body["branch_id"] == late.id


def test_an_absent_branch_with_short_lists_is_reported_as_absent(
    cli: Runner, server: EmulatorServer, support: str
) -> None:
    code, _, err = cli("test", "support", "--branch", "no-such-branch")
    assert code == 1
    assert f"agent {support} has no branch 'no-such-branch'" in err
    assert "among the" not in err


def test_cleanup_archives_apply_branches_beyond_the_first_100(
    cli: Runner, server: EmulatorServer, support: str
) -> None:
    names = [f"convai-ops-17000000{i:05d}-{i:08x}" for i in range(130)]
    _fill(server, support, names, archived=False)
    _fill(server, support, ["convai-ops-pr-3"], archived=False)
    code, out, err = cli("apply", "--auto-approve", "--cleanup")
    assert code == 0, out + err
    stored = [b for b in server.emulator.store.branches.values() if b.agent_id == support]
    assert all(b.is_archived for b in stored if b.name in names)
    assert not next(b for b in stored if b.name == "convai-ops-pr-3").is_archived


def test_close_says_when_a_full_list_may_hide_the_branch(
    cli: Runner,
    server: EmulatorServer,
    project: Path,
    support: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _fill(server, support, [f"filler-{i}" for i in range(100)], archived=False)
    assert _push(cli, project, monkeypatch, "Be kind.\n")[0] == 0
    code, out, err = cli("check", "--close")
    assert code == 0, out + err
    line = next(line for line in out.splitlines() if "could not tell" in line)
    assert support in line and "convai-ops-pr-7" in line and "archive old branches" in line
    assert "0 branch(es) archived" in out
    assert not _stored(server, support, "convai-ops-pr-7")[0].is_archived


@pytest.mark.parametrize(
    "args",
    [
        ("check", "--branch-name", "my_fix branch"),
        ("check", "--branch-name", "x" * 141),
        ("test", "support", "--branch", "my fix"),
        ("simulate", "support", "--branch", "my_fix branch", "--scenario", "Refund?"),
    ],
)
def test_branch_names_the_api_would_refuse_are_refused_offline(
    cli: Runner, server: EmulatorServer, args: tuple[str, ...]
) -> None:
    code, out, err = cli(*args)
    assert code == 1
    assert len(err.strip().splitlines()) == 1, err
    assert "--branch" in err and ("may contain only" in err or "at most 140" in err)
    assert server.emulator.request_log == []
    assert "Simulating" not in out and "Agent branch" not in out
