"""``convai-ops check`` shows what the merge changes in every environment of convai-ops.yaml:
the live plan where the run holds that environment's key, else an offline plan between the base
and head commits with that environment's overrides applied. End to end: two emulators over
loopback, a real git repository."""

from __future__ import annotations

import html
import re
from pathlib import Path

import git
import pytest

from tests.ci.conftest import commit
from tests.envcheck.conftest import Envs, writes_to

OVERRIDE = (
    "overrides:\n"
    "  production:\n"
    "    conversation_config:\n"
    "      agent:\n"
    "        first_message: Welcome to Acme production support.\n"
)
SUPPORT = "name: Support\nprompt_file: prompt.md\n"


def _sections(markdown: str) -> dict[str, str]:
    """The markdown's plan sections by environment name (HTML entities decoded)."""
    text = html.unescape(markdown)
    parts = re.split(r"^### convai-ops plan: environment `([^`]+)`$", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _sha(root: Path, ref: str) -> str:
    return str(git.Repo(root).commit(ref).hexsha)[:12]


@pytest.fixture
def applied(envs: Envs) -> Envs:
    """Both environments applied from ``main``; the work continues on branch ``feature``."""
    for env in ("staging", "production"):
        code, out, err = envs.cli("apply", "--auto-approve", "--env", env)
        assert code == 0, out + err
    git.Repo(envs.root).git.checkout("-b", "feature")
    return envs


def test_production_only_override_shows_offline_in_production_section_only(
    applied: Envs, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("ELEVENLABS_API_KEY_PRODUCTION")
    head = commit(applied.root, {"agents/support/agent.yaml": SUPPORT + OVERRIDE}, "prod hello")
    before = len(applied.production.emulator.request_log)
    report = tmp_path / "check.md"
    code, out, err = applied.cli("check", "--changed-since", "main", "--markdown", str(report))
    assert code == 0, out + err
    sections = _sections(report.read_text())
    assert list(sections) == ["staging", "production"]
    label = f"offline: base {_sha(applied.root, 'main')} -> head {head[:12]}, no key for production"
    assert label in sections["production"]
    assert "first_message" in sections["production"]
    assert "Welcome to Acme production support." in sections["production"]
    assert "first_message" not in sections["staging"]
    assert "live plan; the check stages and tests here" in sections["staging"]
    assert len(applied.production.emulator.request_log) == before  # no key: nothing sent
    assert f"Environment production: {label}" in out


def test_environment_with_its_key_gets_a_live_plan_and_no_write(
    applied: Envs, tmp_path: Path
) -> None:
    commit(applied.root, {"agents/support/agent.yaml": SUPPORT + OVERRIDE}, "prod hello")
    writes = len(writes_to(applied.production))
    report = tmp_path / "check.md"
    code, out, err = applied.cli("check", "--changed-since", "main", "--markdown", str(report))
    assert code == 0, out + err
    production = _sections(report.read_text())["production"]
    assert "live plan (ELEVENLABS_API_KEY_PRODUCTION is set); not staged or tested" in production
    assert "~ support" in production and "first_message" in production
    assert "update" in production
    assert len(writes_to(applied.production)) == writes  # read only


def test_added_and_removed_agents_are_shown_as_such_offline(
    applied: Envs, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("ELEVENLABS_API_KEY_PRODUCTION")
    repo = git.Repo(applied.root)
    repo.git.rm("-r", "agents/sales")
    billing = "name: Billing\nprompt_file: prompt.md\nrequire_tests: false\n"  # not about the gate
    files = {"agents/billing/agent.yaml": billing}
    commit(applied.root, {**files, "agents/billing/prompt.md": "You are Bo.\n"}, "swap")
    summary = tmp_path / "summary.md"
    code, out, err = applied.cli("check", "--changed-since", "main", "--step-summary", str(summary))
    assert code == 0, out + err
    production = _sections(summary.read_text())["production"]
    assert "<code>+ billing</code> create" in production
    assert "`? sales`: folder deleted by this change" in production
    assert "support" not in production  # not changed, not selected
    assert "? sales: folder deleted by this change" in out


def test_default_base_is_the_merge_base_with_the_pull_requests_base_branch(
    applied: Envs, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("ELEVENLABS_API_KEY_PRODUCTION")
    monkeypatch.setenv("GITHUB_BASE_REF", "main")
    fork_point = _sha(applied.root, "main")
    commit(applied.root, {"agents/support/agent.yaml": SUPPORT + OVERRIDE}, "prod hello")
    repo = git.Repo(applied.root)
    repo.git.checkout("main")
    commit(applied.root, {"agents/sales/prompt.md": "You are Max.\n"}, "main moves on")
    repo.git.checkout("feature")
    report = tmp_path / "check.md"
    code, out, err = applied.cli("check", "--markdown", str(report))
    assert code == 0, out + err
    production = _sections(report.read_text())["production"]
    assert f"offline: base {fork_point} -> head" in production
    assert "first_message" in production
    assert "~ sales" not in production  # main's later change is not this pull request's


def test_unknown_base_ref_fails_in_one_line_before_anything_is_sent(applied: Envs) -> None:
    before = len(applied.staging.emulator.request_log)
    code, _, err = applied.cli("check", "--base", "no-such-branch")
    assert code == 1
    assert "unknown git ref 'no-such-branch'" in err
    assert len(err.strip().splitlines()) == 1
    assert len(applied.staging.emulator.request_log) == before


def test_without_key_or_base_the_section_says_why(
    applied: Envs, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("ELEVENLABS_API_KEY_PRODUCTION")
    repo = git.Repo(applied.root)
    repo.git.branch("-m", "main", "trunk")  # neither origin/main nor main exists
    commit(applied.root, {"agents/support/agent.yaml": SUPPORT + OVERRIDE}, "prod hello")
    report = tmp_path / "check.md"
    code, out, err = applied.cli("check", "--markdown", str(report))
    assert code == 0, out + err
    production = _sections(report.read_text())["production"]
    assert "no offline plan: no key for production and no base commit found" in production
    assert "--base REF" in production


def test_failed_live_plan_of_another_environment_is_an_error_in_its_section(
    applied: Envs, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    wrong = "wrong-production-key-0123456789"
    monkeypatch.setenv("ELEVENLABS_API_KEY_PRODUCTION", wrong)
    commit(applied.root, {"agents/support/agent.yaml": SUPPORT + OVERRIDE}, "prod hello")
    report = tmp_path / "check.md"
    code, out, err = applied.cli("check", "--changed-since", "main", "--markdown", str(report))
    assert code == 1, out + err
    production = _sections(report.read_text())["production"]
    assert "live plan failed (ELEVENLABS_API_KEY_PRODUCTION is set)" in production
    assert "## convai-ops check: ⚠️ error" in report.read_text()
    assert wrong not in report.read_text() + out + err
