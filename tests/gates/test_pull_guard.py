"""``pull`` never overwrites uncommitted work: in a git repository it checks every file it
would write before writing any, names those with uncommitted changes and exits 1 with the
repository unchanged, unless ``--force``. End to end: a "dashboard" edit on the emulator over
loopback, then ``pull`` over local edits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import git
import httpx
import pytest

from tests.helpers import Runner

from .conftest import KEY

SUPPORT = Path("agents/support")
LIVE_PROMPT = "You are Ava of Acme. Refunds are accepted within 14 days."


def _commit_all(root: Path) -> git.Repo:
    repo = git.Repo.init(root)
    with repo.config_writer() as config:
        config.set_value("user", "name", "Test").set_value("user", "email", "t@example.com")
    repo.git.add(A=True)
    repo.index.commit("example project")
    return repo


def _snapshot(root: Path) -> dict[Path, bytes]:
    """Every file of the project (not git's, nor the validation cache under .convai-ops/)."""
    skip = {".git", ".convai-ops"}
    files = (p for p in sorted(root.rglob("*")) if p.is_file() and not skip & set(p.parts))
    return {p: p.read_bytes() for p in files}


@pytest.fixture
def drifted(cli: Runner, server: Any, project: Path) -> Path:
    """The example project applied, then the support agent's prompt and name edited live."""
    assert cli("apply", "--auto-approve", "--target", "support")[0] == 0
    agents = httpx.get(f"{server.url}/v1/convai/agents", headers={"xi-api-key": KEY}).json()
    [agent_id] = [a["agent_id"] for a in agents["agents"] if "convai-ops:support" in a["tags"]]
    body = {"name": "Acme Support (live)"}
    body["conversation_config"] = {"agent": {"prompt": {"prompt": LIVE_PROMPT}}}  # type: ignore[assignment]
    response = httpx.patch(
        f"{server.url}/v1/convai/agents/{agent_id}", json=body, headers={"xi-api-key": KEY}
    )
    response.raise_for_status()
    return project


def test_pull_over_an_uncommitted_edit_exits_1_and_changes_no_file(
    cli: Runner, drifted: Path
) -> None:
    _commit_all(drifted)
    prompt = drifted / SUPPORT / "prompt.md"
    prompt.write_text(prompt.read_text() + "Always offer a callback.\n")
    before = _snapshot(drifted)

    code, out, err = cli("pull", "support")

    assert code == 1, out + err
    assert err.strip() == (
        "error: pull would overwrite uncommitted changes in agents/support/prompt.md: nothing "
        "written; commit or stash them, or pass --force"
    )
    assert _snapshot(drifted) == before  # agent.yaml (the live name) was not written either


def test_pull_refuses_staged_and_untracked_files_it_would_write(cli: Runner, drifted: Path) -> None:
    repo = _commit_all(drifted)
    repo.index.remove([str(SUPPORT / "prompt.md")], cached=True)  # now untracked
    repo.index.commit("stop tracking the prompt")
    agent_yaml = drifted / SUPPORT / "agent.yaml"
    agent_yaml.write_text(agent_yaml.read_text().replace("turn_timeout: 7", "turn_timeout: 8"))
    repo.index.add([str(SUPPORT / "agent.yaml")])  # staged, working tree = index
    before = _snapshot(drifted)

    code, _, err = cli("pull")

    assert code == 1
    assert "agents/support/agent.yaml, agents/support/prompt.md" in err
    assert _snapshot(drifted) == before


def test_uncommitted_edits_pull_does_not_touch_do_not_block_it(cli: Runner, drifted: Path) -> None:
    _commit_all(drifted)
    test_file = drifted / SUPPORT / "tests/refund-window.yaml"
    test_file.write_text(test_file.read_text() + "# reviewed\n")
    (drifted / "notes.txt").write_text("untracked, not pulled\n")

    code, out, err = cli("pull", "support")

    assert code == 0, out + err
    assert "wrote agents/support/prompt.md" in out
    assert (drifted / SUPPORT / "prompt.md").read_text().rstrip("\n") == LIVE_PROMPT
    assert "Acme Support (live)" in (drifted / SUPPORT / "agent.yaml").read_text()
    assert test_file.read_text().endswith("# reviewed\n")


def test_force_overwrites_the_uncommitted_edit(cli: Runner, drifted: Path) -> None:
    _commit_all(drifted)
    prompt = drifted / SUPPORT / "prompt.md"
    prompt.write_text("a local draft\n")

    code, out, _ = cli("pull", "support", "--force")

    assert code == 0
    assert "wrote agents/support/prompt.md" in out
    assert prompt.read_text().rstrip("\n") == LIVE_PROMPT


def test_outside_git_there_is_no_guard(cli: Runner, drifted: Path) -> None:
    prompt = drifted / SUPPORT / "prompt.md"
    prompt.write_text("a local draft\n")

    code, out, _ = cli("pull", "support")

    assert code == 0, out
    assert prompt.read_text().rstrip("\n") == LIVE_PROMPT
