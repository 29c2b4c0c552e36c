"""convai_ops.git against real git repositories in tmp_path."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from convai_ops.errors import UsageError
from convai_ops.git import changed_agents, commit_info

FILES = {
    "convai-ops.yaml": "version: 1\n",
    "agents/support/agent.yaml": "name: Support\n",
    "agents/support/prompt.md": "You are Ava.\n",
    "agents/support/tests/refund.yaml": "type: llm\n",
    "agents/sales/agent.yaml": "name: Sales\n",
    "agents/sales/knowledge/prices.md": "Tents cost 100.\n",
    "agents/ops/agent.yaml": "name: Ops\n",
}


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.fixture
def repo(tmp_path: Path) -> git.Repo:
    repo = git.Repo.init(tmp_path)
    with repo.config_writer() as config:
        config.set_value("user", "name", "Test")
        config.set_value("user", "email", "test@example.com")
    _write(tmp_path, FILES)
    repo.index.add(list(FILES))
    repo.index.commit("initial agents")
    return repo


def _commit(repo: git.Repo, files: dict[str, str], message: str) -> None:
    root = Path(repo.working_tree_dir or ".")
    _write(root, files)
    repo.index.add(list(files))
    repo.index.commit(message)


@pytest.mark.parametrize(
    ("changed", "expected"),
    [
        ({"agents/support/prompt.md": "You are Ava, kind.\n"}, ["support"]),
        ({"agents/support/tests/refund.yaml": "type: tool\n"}, ["support"]),
        ({"agents/sales/knowledge/prices.md": "Tents cost 120.\n"}, ["sales"]),
        (
            {"agents/sales/agent.yaml": "name: S\n", "agents/ops/agent.yaml": "name: O\n"},
            ["ops", "sales"],
        ),
        ({"README.md": "docs only\n"}, []),
        ({"convai-ops.yaml": "version: 1\nconcurrency: 2\n"}, ["ops", "sales", "support"]),
    ],
)
def test_changed_since_previous_commit(
    repo: git.Repo, changed: dict[str, str], expected: list[str]
) -> None:
    _commit(repo, changed, "change")
    root = Path(repo.working_tree_dir or ".")
    assert changed_agents(root, "HEAD~1", until="HEAD") == expected


def test_uncommitted_edits_count_against_the_working_tree(repo: git.Repo) -> None:
    root = Path(repo.working_tree_dir or ".")
    _write(root, {"agents/ops/prompt.md": "new file\n"})
    assert changed_agents(root, "HEAD") == ["ops"]


def test_unknown_ref_is_a_usage_error(repo: git.Repo) -> None:
    with pytest.raises(UsageError, match="no-such-ref"):
        changed_agents(Path(repo.working_tree_dir or "."), "no-such-ref")


def test_commit_info_names_sha_subject_and_dirty_state(repo: git.Repo) -> None:
    root = Path(repo.working_tree_dir or ".")
    info = commit_info(root)
    assert info is not None
    assert info.sha == repo.head.commit.hexsha
    assert (info.subject, info.dirty) == ("initial agents", False)
    (root / "agents/support/prompt.md").write_text("edited\n")
    dirty = commit_info(root)
    assert dirty is not None and dirty.dirty
    assert dirty.describe().endswith("(uncommitted changes)")


def test_commit_info_outside_git_is_none(tmp_path: Path) -> None:
    assert commit_info(tmp_path) is None
