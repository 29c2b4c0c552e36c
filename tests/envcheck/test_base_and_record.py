"""The pieces under the every-environment check and drift: which commit a description records,
and how the check finds its base commit (real git repositories in tmp dirs)."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from convai_ops.applied_commit import recorded_commit
from convai_ops.env_plans import find_base
from convai_ops.errors import UsageError
from tests.ci.conftest import commit


@pytest.mark.parametrize(
    ("description", "sha"),
    [
        ("convai-ops apply from a1b2c3d4e5f6 Fix refund window", "a1b2c3d4e5f6"),
        ("convai-ops apply from a1b2c3d4e5f6 Fix (uncommitted changes)", "a1b2c3d4e5f6"),
        ("Merged branch convai-ops-1-ab into main", None),
        ("convai-ops check (pull request #3 (GITHUB_REF))", None),
        ("applied by hand from a1b2c3d4e5f6", None),  # not convai-ops's words
        ("convai-ops apply", None),
        (None, None),
    ],
)
def test_recorded_commit(description: str | None, sha: str | None) -> None:
    assert recorded_commit(description) == sha


@pytest.fixture
def repo(tmp_path: Path) -> git.Repo:
    """``main`` with one commit, then ``feature`` one commit ahead, checked out."""
    made = git.Repo.init(tmp_path, initial_branch="main")
    with made.config_writer() as config:
        config.set_value("user", "name", "Test")
        config.set_value("user", "email", "test@example.com")
    commit(tmp_path, {"convai-ops.yaml": "version: 1\n"}, "start")
    made.git.checkout("-b", "feature")
    commit(tmp_path, {"agents/a/agent.yaml": "name: A\n"}, "feature work")
    return made


def test_base_is_explicit_then_changed_since_then_merge_base(repo: git.Repo) -> None:
    root = Path(str(repo.working_tree_dir))
    main = repo.commit("main").hexsha
    first = find_base(root, "HEAD", "main", {})
    assert first is not None and (first.sha, first.source) == (
        repo.head.commit.hexsha,
        "--base HEAD",
    )
    since = find_base(root, None, "main", {})
    assert since is not None and since.sha == main and since.source == "--changed-since main"
    merged = find_base(root, None, None, {"GITHUB_BASE_REF": "main"})
    assert merged is not None and merged.sha == main and merged.source == "merge-base with main"


def test_no_base_found_is_none_and_a_bad_ref_is_refused(repo: git.Repo) -> None:
    root = Path(str(repo.working_tree_dir))
    assert find_base(root, None, None, {"GITHUB_BASE_REF": "release"}) is None
    with pytest.raises(UsageError, match="unknown git ref 'nope'"):
        find_base(root, "nope", None, {})
