"""``convai-ops init``: the files a new repository starts with, how environments are given and
checked, never overwriting without --force; then ``import --all`` and ``plan`` against the
emulator over loopback (the issue's acceptance)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
import pytest
from ruamel.yaml import YAML

from convai_ops import __version__
from convai_ops.emulator import EmulatorServer
from convai_ops.init import ACTION_REPOSITORY
from tests.helpers import REPO, Runner
from tests.init.conftest import create_agent

BIN = Path(sys.executable).parent
FILES = [
    ".github/workflows/convai-ops-check.yml",
    ".github/workflows/convai-ops-drift.yml",
    ".github/workflows/convai-ops-promote.yml",
    ".gitignore",
    ".pre-commit-config.yaml",
    "agents/.gitkeep",
    "convai-ops.yaml",
    "tools/.gitkeep",
]


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def _load(path: Path) -> dict[str, object]:
    data: dict[str, object] = YAML(typ="safe").load(path.read_text("utf-8"))
    return data


def test_init_in_an_empty_folder_then_validate_exits_0(cli: Runner, folder: Path) -> None:
    code, out, err = cli("init")
    assert code == 0, err
    assert _files(folder) == FILES
    assert "no --env given and no terminal to ask: one environment 'default'" in out
    assert "convai-ops import --all" in out and "convai-ops plan" in out
    config = _load(folder / "convai-ops.yaml")
    assert config["default_environment"] == "default"
    assert config["environments"] == {"default": {"api_key_env": "ELEVENLABS_API_KEY"}}
    code, out, err = cli("validate")
    assert (code, out) == (0, "OK: 0 agent(s), 0 test(s) valid.\n"), err


def test_init_writes_named_environments_with_their_urls_and_keys(
    cli: Runner, tmp_path: Path
) -> None:
    target = tmp_path / "new" / "repo"
    code, out, err = cli(
        "init",
        str(target),
        "--env",
        "staging=https://api.elevenlabs.io",
        "--env",
        "production=https://api.eu.residency.elevenlabs.io/",
        "--env",
        "eu.backup",
    )
    assert code == 0, err
    assert _files(target) == FILES
    config = _load(target / "convai-ops.yaml")
    assert config["default_environment"] == "staging"
    assert config["environments"] == {
        "staging": {"base_url": "https://api.elevenlabs.io", "api_key_env": "ELEVENLABS_API_KEY"},
        "production": {
            "base_url": "https://api.eu.residency.elevenlabs.io/",
            "api_key_env": "ELEVENLABS_API_KEY_PRODUCTION",
        },
        "eu.backup": {"api_key_env": "ELEVENLABS_API_KEY_EU_BACKUP"},
    }
    assert "eu.backup: https://api.elevenlabs.io (key: ELEVENLABS_API_KEY_EU_BACKUP)" in out
    assert cli("-C", str(target), "validate")[0] == 0


def test_init_never_overwrites_a_file_without_force(cli: Runner, folder: Path) -> None:
    (folder / ".gitignore").write_text("node_modules/\n")
    (folder / "convai-ops.yaml").write_text("version: 1\n")
    code, out, _ = cli("init", "--env", "staging")
    assert code == 0
    assert "skipped .gitignore (exists; --force overwrites it)" in out
    assert "skipped convai-ops.yaml (exists; --force overwrites it)" in out
    assert "note: convai-ops.yaml was kept: the workflows written assume the environments" in out
    assert (folder / ".gitignore").read_text() == "node_modules/\n"
    assert (folder / "convai-ops.yaml").read_text() == "version: 1\n"
    assert (folder / ".pre-commit-config.yaml").is_file()
    code, out, _ = cli("init", "--env", "staging", "--force")
    assert code == 0 and "skipped" not in out
    assert ".convai-ops/cache/" in (folder / ".gitignore").read_text()
    assert "staging" in _load(folder / "convai-ops.yaml")["environments"]  # type: ignore[operator]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["staging=ftp://example.com"], "environments.staging.base_url: "),
        (["staging=https://user:pw@example.com"], "must not hold a user or password"),
        (["-bad=https://example.com"], "is not a valid name"),
        (["staging", "staging=https://example.com"], "environment 'staging' is given twice"),
        (["staging="], "expected NAME=URL"),
        (["a", "prod-1", "prod_1"], "give the same key variable twice"),
        (["a.b", "a-b"], "give the same job name twice"),
    ],
)
def test_init_refuses_bad_environments_and_writes_nothing(
    cli: Runner, folder: Path, flags: list[str], message: str
) -> None:
    args = [arg for flag in flags for arg in ("--env", flag)]
    code, out, err = cli("init", *args)
    assert code == 1, out
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert "pw" not in err or "user:pw" not in err.replace("user:pw@", "")
    assert _files(folder) == []


def test_generated_pre_commit_config_uses_this_repository_hook(cli: Runner, folder: Path) -> None:
    assert cli("init")[0] == 0
    [repo] = _load(folder / ".pre-commit-config.yaml")["repos"]  # type: ignore[misc]
    hooks = YAML(typ="safe").load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert repo["repo"] == f"https://github.com/{ACTION_REPOSITORY}"
    assert repo["rev"] == f"v{__version__}"
    assert [h["id"] for h in repo["hooks"]] == [h["id"] for h in hooks]
    ignored = (folder / ".gitignore").read_text().splitlines()
    assert {".convai-ops/cache/", ".env"} <= set(ignored)


def test_init_then_import_all_then_plan_has_no_changes(
    cli: Runner,
    api: httpx.Client,
    folder: Path,
    server: EmulatorServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ELEVENLABS_BASE_URL")  # the URL comes from convai-ops.yaml
    for name in ("Support", "Support", "Sales"):
        create_agent(api, name)
    code, out, err = cli("init", "--env", f"staging={server.url}", "--env", "production")
    assert code == 0, err
    assert cli("validate")[0] == 0
    code, out, err = cli("import", "--all")
    assert code == 0, out + err
    assert "Imported 3 agent(s) (environment 'staging'):" in out
    assert sorted(p.name for p in (folder / "agents").iterdir() if p.is_dir()) == [
        "sales",
        "support",
        "support-2",
    ]
    code, out, err = cli("plan", "--detailed-exitcode")
    assert code == 0, out + err


def _on_a_terminal(folder: Path, answers: str) -> subprocess.CompletedProcess[bytes]:
    """``convai-ops -C folder init`` with a terminal as stdin, typing ``answers``."""
    main, terminal = os.openpty()
    try:
        os.write(main, answers.encode())
        return subprocess.run(
            [str(BIN / "convai-ops"), "-C", str(folder), "init"],
            stdin=terminal,
            capture_output=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(main)
        os.close(terminal)


def test_init_on_a_terminal_asks_for_the_environments_again_after_a_bad_answer(
    folder: Path,
) -> None:
    answers = "dev,-bad\n\n\nstaging,production\n\nhttps://eu.example.com\n"
    done = _on_a_terminal(folder, answers)
    assert done.returncode == 0, done.stderr
    assert b"is not a valid name" in done.stderr
    assert b"Environments (comma-separated, the first is the default)" in done.stdout
    config = _load(folder / "convai-ops.yaml")
    assert config["environments"] == {
        "staging": {"api_key_env": "ELEVENLABS_API_KEY"},
        "production": {
            "base_url": "https://eu.example.com",
            "api_key_env": "ELEVENLABS_API_KEY_PRODUCTION",
        },
    }


def test_the_templates_are_package_data() -> None:
    globs = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["convai_ops"]
    package = REPO / "convai_ops"
    templates = [p.relative_to(package) for p in (package / "templates").rglob("*") if p.is_file()]
    assert len(templates) >= 8
    for path in templates:
        assert any(path.match(glob) and len(path.parts) == len(Path(glob).parts) for glob in globs)
