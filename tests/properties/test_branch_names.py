"""Generated agent branch names always satisfy the API's documented rule (letters, numbers and
``( ) [ ] { } - / .``, at most 140 characters); given names outside it are refused offline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convai_ops.agent_branches import (
    is_branch_id,
    is_valid_branch_name,
    require_branch_name,
    require_branch_ref,
)
from convai_ops.apply import apply_branch_name
from convai_ops.check import check_branch, sanitise_branch_name
from convai_ops.errors import UsageError

# the rule written out independently of the implementation
DOCUMENTED = re.compile(r"[A-Za-z0-9()\[\]{}\-/.]{1,140}")


@given(st.text(max_size=400))
def test_sanitise_always_yields_a_documented_name_or_refuses(raw: str) -> None:
    try:
        name = sanitise_branch_name(raw)
    except UsageError as error:
        assert "--branch-name" in str(error)
        assert not re.search(r"[A-Za-z0-9]", raw)
        return
    assert DOCUMENTED.fullmatch(name), name
    assert name.startswith("convai-ops-")
    assert is_valid_branch_name(name)


@given(st.text(alphabet=st.characters(codec="ascii"), min_size=1, max_size=200))
def test_validity_matches_the_documented_rule(name: str) -> None:
    assert is_valid_branch_name(name) == bool(DOCUMENTED.fullmatch(name))


@given(st.integers(min_value=1, max_value=10**9))
def test_pull_request_branch_names_are_documented(number: int) -> None:
    name = check_branch(None, {"GITHUB_REF": f"refs/pull/{number}/merge"}, Path(".")).name
    assert DOCUMENTED.fullmatch(name) and name == f"convai-ops-pr-{number}"


def test_apply_branch_names_are_documented() -> None:
    assert all(DOCUMENTED.fullmatch(apply_branch_name()) for _ in range(50))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("feature/my_fix", "convai-ops-feature-my-fix"),
        ("fix/refund window", "convai-ops-fix-refund-window"),
        ("dependabot/pip/httpx-0.28.1", "convai-ops-dependabot-pip-httpx-0.28.1"),
        ("ä/b..c", "convai-ops-b..c"),
    ],
)
def test_git_branch_names_become_documented_names(raw: str, expected: str) -> None:
    assert sanitise_branch_name(raw) == expected


@pytest.mark.parametrize("bad", ["my_fix branch", "my fix", "fix_1", "caf\u00e9", "", "a" * 141])
def test_given_names_outside_the_rule_are_refused_in_one_line(bad: str) -> None:
    with pytest.raises(UsageError) as refused:
        require_branch_name(bad, "--branch-name")
    message = str(refused.value)
    assert message.startswith("--branch-name") and "\n" not in message


def test_a_branch_reference_may_be_an_id_or_a_valid_name() -> None:
    assert require_branch_ref("agtbrch_8901k4t9z5defmb8vh3e9361y7nj", "--branch")
    assert require_branch_ref("convai-ops-pr-7", "--branch") == "convai-ops-pr-7"
    assert is_branch_id("agtbranch_0901k4aafjxxfxt93gd841r7tv5t")
    assert not is_branch_id("my_fix branch")
    with pytest.raises(UsageError, match="--branch 'my_fix branch'"):
        require_branch_ref("my_fix branch", "--branch")
