"""A key too short to be masked safely is refused before anything is sent, and masking replaces
whole occurrences of real keys only: never fragments of ordinary words."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from convai_ops.api import ConvaiClient
from convai_ops.cli import main
from convai_ops.emulator import EmulatorConfig, run_in_thread
from convai_ops.errors import (
    MIN_API_KEY_LENGTH,
    NotFoundError,
    UsageError,
    redact,
    register_secret,
)
from tests.helpers import cli_runner, copy_example

REAL_LENGTH_KEY = "sk_short_keys_test_0123456789abcdef"


@pytest.fixture
def server() -> Iterator[Any]:
    with run_in_thread(EmulatorConfig(rag_index_delay_s=0.05, test_delay_s=0.05)) as handle:
        yield handle


@pytest.mark.parametrize("key", ["k", "test", "x" * (MIN_API_KEY_LENGTH - 1)])
@pytest.mark.parametrize("command", [["plan"], ["apply", "--auto-approve"], ["drift"]])
def test_a_short_key_is_refused_in_one_line_and_nothing_is_sent(
    key: str,
    command: list[str],
    server: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = cli_runner(copy_example(tmp_path), server.url, key, monkeypatch, capsys)

    code, out, err = run(*command)

    assert code == 1
    assert out == ""
    assert err.count("\n") == 1
    assert "ELEVENLABS_API_KEY is too short to be an API key" in err
    length = "1 character" if len(key) == 1 else f"{len(key)} characters"
    assert f"({length}, at least {MIN_API_KEY_LENGTH};" in err
    assert "***" not in err
    assert server.emulator.request_log == []


def test_the_client_refuses_a_short_key_before_sending() -> None:
    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(200, json={}))

    with pytest.raises(UsageError, match="too short to be an API key"):
        ConvaiClient("https://api.test", "k", transport=transport).get_agent("a1")

    assert sent == []


def test_short_values_never_mask_fragments_of_words() -> None:
    for value in ("k", "test", "agent"):
        register_secret(value)

    message = "3 tests passed; keep the agent's knowledge base"
    assert redact(message) == message
    assert redact(message, ["k", "e"]) == message


def test_a_real_key_is_masked_wherever_it_occurs_even_inside_a_longer_token() -> None:
    register_secret(REAL_LENGTH_KEY)

    text = f"header xi-api-key={REAL_LENGTH_KEY}; url ?k={REAL_LENGTH_KEY}x; {REAL_LENGTH_KEY}"
    assert redact(text) == "header xi-api-key=***; url ?k=***x; ***"
    assert redact("keep the kit in the tests") == "keep the kit in the tests"


def test_an_api_error_echoing_a_short_word_is_not_masked() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"detail": {"message": "agent not found: check the key"}})

    client = ConvaiClient(
        "https://api.test", REAL_LENGTH_KEY, transport=httpx.MockTransport(answer)
    )
    with pytest.raises(NotFoundError, match="agent not found: check the key"):
        client.get_agent("a1")


def test_the_emulator_answers_401_to_a_short_key(server: Any) -> None:
    url = f"{server.url}/v1/convai/agents"
    short = httpx.get(url, headers={"xi-api-key": "k" * (MIN_API_KEY_LENGTH - 1)})
    long_enough = httpx.get(url, headers={"xi-api-key": "k" * MIN_API_KEY_LENGTH})

    assert short.status_code == 401
    assert short.json()["detail"]["status"] == "invalid_api_key"
    assert long_enough.status_code == 200


def test_the_emulator_refuses_a_short_configured_key(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(ValueError, match="api_key must have at least 16 characters"):
        EmulatorConfig(api_key="k")
    with pytest.raises(SystemExit) as exit_info:
        main(["emulator", "--api-key", "k"])

    err = capsys.readouterr().err
    assert exit_info.value.code == 1
    assert err == "error: Invalid value for '--api-key': at least 16 characters, like a real key\n"
