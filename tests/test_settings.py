"""Settings resolution: flag > environment variable > .env > convai-ops.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from convai_ops.errors import UsageError, redact
from convai_ops.settings import Settings, check_base_url
from convai_ops.spec import EnvironmentConfig, ProjectConfig

CONFIG = ProjectConfig(
    environments={
        "staging": EnvironmentConfig(base_url="https://staging.example"),
        "production": EnvironmentConfig(api_key_env="PROD_KEY"),
    },
    default_environment="staging",
)


def test_flag_beats_environment_beats_config(tmp_path: Path) -> None:
    environ = {"ELEVENLABS_BASE_URL": "https://env.example", "ELEVENLABS_API_KEY": "k-1234"}
    assert Settings.resolve(tmp_path, CONFIG, environ={}).base_url == "https://staging.example"
    assert Settings.resolve(tmp_path, CONFIG, environ=environ).base_url == "https://env.example"
    flagged = Settings.resolve(tmp_path, CONFIG, base_url="https://flag.example/", environ=environ)
    assert flagged.base_url == "https://flag.example"


def test_each_environment_reads_its_own_key_variable(tmp_path: Path) -> None:
    environ = {"ELEVENLABS_API_KEY": "staging-key", "PROD_KEY": "production-key"}
    production = Settings.resolve(tmp_path, CONFIG, environment="production", environ=environ)
    assert production.api_key == "production-key"
    assert production.base_url == "https://api.elevenlabs.io"
    assert Settings.resolve(tmp_path, CONFIG, environ=environ).api_key == "staging-key"


def test_unknown_environment_names_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="staging, production"):
        Settings.resolve(tmp_path, CONFIG, environment="qa", environ={})


def test_missing_key_says_which_variable_to_set(tmp_path: Path) -> None:
    settings = Settings.resolve(tmp_path, CONFIG, environment="production", environ={})
    with pytest.raises(UsageError, match="set PROD_KEY"):
        settings.require_api_key()


def test_dotenv_fills_in_but_the_shell_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text(
        "ELEVENLABS_API_KEY=from-dotenv-1234\nCONVAI_OPS_CONCURRENCY=3\n"
    )
    settings = Settings.resolve(tmp_path, CONFIG)
    assert (settings.api_key, settings.concurrency) == ("from-dotenv-1234", 3)
    monkeypatch.setenv("ELEVENLABS_API_KEY", "from-shell-1234")
    assert Settings.resolve(tmp_path, CONFIG).api_key == "from-shell-1234"


def test_the_key_is_masked_in_repr_and_redacted(tmp_path: Path) -> None:
    settings = Settings.resolve(
        tmp_path, CONFIG, environ={"ELEVENLABS_API_KEY": "sk_secret_0123456789"}
    )
    assert "sk_secret_0123456789" not in repr(settings)
    assert redact("token sk_secret_0123456789 here") == "token *** here"


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://api.elevenlabs.io", True),
        ("http://127.0.0.1:8765", True),
        ("http://localhost:1", True),
        ("http://[::1]:8765", True),
        ("http://10.0.0.5:8765", False),
        ("http://api.example.com", False),
        ("ftp://api.example.com", False),
    ],
)
def test_plain_http_only_to_loopback(url: str, ok: bool) -> None:
    if ok:
        assert check_base_url(url) == url
    else:
        with pytest.raises(UsageError):
            check_base_url(url)
    assert check_base_url("http://10.0.0.5:1", allow_insecure_http=True) == "http://10.0.0.5:1"


@pytest.mark.parametrize("raw", ["zero", "0", "-2"])
def test_bad_concurrency_variable_is_a_usage_error(tmp_path: Path, raw: str) -> None:
    with pytest.raises(UsageError, match="CONVAI_OPS_CONCURRENCY"):
        Settings.resolve(tmp_path, CONFIG, environ={"CONVAI_OPS_CONCURRENCY": raw})
