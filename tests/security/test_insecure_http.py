"""Plain ``http://`` is refused for any host that is not loopback (the key would travel in clear
text) unless ``--allow-insecure-http``; the host checked is the host httpx connects to."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convai_ops.cli import main
from convai_ops.emulator import EmulatorConfig, run_in_thread
from convai_ops.errors import UsageError
from convai_ops.settings import check_base_url

REPO = Path(__file__).resolve().parents[2]
REFUSED = [
    "http://example.com",
    "http://10.0.0.5:8765",
    "http://0.0.0.0:8765",
    "http://127.0.0.1.example.com",
    "http://localhost.example.com",
    "http://127.0.0.1@example.com",
    "http://127.0.0.1:80@example.com",
    "http://example.com#@127.0.0.1",
    "http://example.com?@127.0.0.1",
    "http://example.com/@127.0.0.1",
    "http://[::ffff:8.8.8.8]",
    "ftp://127.0.0.1",
    "127.0.0.1:8765",
]
ACCEPTED = [
    "http://127.0.0.1:8765",
    "http://127.8.9.10",
    "http://localhost:1",
    "http://LOCALHOST",
    "http://[::1]:8765",
    "https://example.com",
    "https://api.elevenlabs.io/",
]


@pytest.mark.parametrize("url", REFUSED)
def test_non_loopback_http_is_refused(url: str) -> None:
    with pytest.raises(UsageError):
        check_base_url(url)


@pytest.mark.parametrize("url", ACCEPTED)
def test_loopback_http_and_https_are_accepted(url: str) -> None:
    assert check_base_url(url) == url.rstrip("/")


def test_the_flag_allows_non_loopback_http() -> None:
    assert check_base_url("http://example.com/", allow_insecure_http=True) == "http://example.com"


HOSTS = st.sampled_from(
    ["127.0.0.1", "localhost", "[::1]", "example.com", "10.0.0.1", "0.0.0.0", "evil.test"]
)
NOISE = st.sampled_from(["@", ":", "/", "\\", "#", "?", ";", "%2f", "%40", ".", "80", "[", "]"])


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.one_of(HOSTS, NOISE), min_size=1, max_size=6))
def test_an_accepted_http_url_connects_to_loopback(parts: list[str]) -> None:
    url = "http://" + "".join(parts)
    try:
        checked = check_base_url(url)
    except UsageError:
        return
    try:
        host = httpx.URL(checked).host
    except httpx.InvalidURL:
        return  # httpx will not connect anywhere
    assert host in ("127.0.0.1", "localhost", "::1") or host.startswith("127."), (url, host)


@pytest.mark.parametrize("url", ["http://[", "http://]:1", "http://[::1"])
def test_a_malformed_url_is_a_usage_error(url: str) -> None:
    with pytest.raises(UsageError):
        check_base_url(url)


# --- the command line -------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy2(REPO / "convai-ops.yaml", tmp_path / "convai-ops.yaml")
    shutil.copytree(REPO / "agents", tmp_path / "agents")
    shutil.copytree(REPO / "tools", tmp_path / "tools")
    return tmp_path


@pytest.fixture
def port() -> Iterator[str]:
    with run_in_thread(EmulatorConfig(rag_index_delay_s=0.05)) as server:
        yield server.url.rsplit(":", 1)[1]


def _run(project: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(["-C", str(project), *args])
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out + err


@pytest.mark.parametrize("where", ["flag", "environment", "convai-ops.yaml"])
def test_plan_refuses_plain_http_to_a_non_loopback_host(
    where: str,
    project: Path,
    port: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # 0.0.0.0 is not a loopback address, yet on Linux a connection to it reaches this host's
    # listeners: had the refusal failed, the plan would have succeeded against the emulator.
    url = f"http://0.0.0.0:{port}"
    monkeypatch.setenv("ELEVENLABS_API_KEY", "sk_test_0123456789abcdef")
    args = ["plan"]
    if where == "flag":
        args += ["--base-url", url]
    elif where == "environment":
        monkeypatch.setenv("ELEVENLABS_BASE_URL", url)
    else:
        config = project / "convai-ops.yaml"
        config.write_text(
            config.read_text().replace("  staging:\n", f"  staging:\n    base_url: {url}\n")
        )

    code, output = _run(project, capsys, *args)

    assert code == 1
    assert "refusing plain http to 0.0.0.0" in output
    assert "--allow-insecure-http" in output


def test_plan_with_the_flag_uses_plain_http(
    project: Path, port: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("ELEVENLABS_API_KEY", "sk_test_0123456789abcdef")

    code, output = _run(
        project, capsys, "plan", "--allow-insecure-http", "--base-url", f"http://0.0.0.0:{port}"
    )

    assert code == 0, output
    assert "2 to create" in output
