"""Fixtures for the emulator tests: a server on a loopback port whose every answer is checked
against the OpenAPI document when the test ends, and an httpx client for it.

Tests that keep the default config share one server (reset before each test); a test or class
that overrides ``emulator_config`` gets its own."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from convai_ops.emulator import EmulatorConfig, EmulatorServer, run_in_thread
from convai_ops.emulator.contract import log_violations

API_KEY = "test-key-0123456789"
DEFAULT_CONFIG = EmulatorConfig(test_delay_s=0.05, rag_index_delay_s=0.05)


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    """The config of the ``server`` fixture; override it in a module or class to change knobs."""
    return DEFAULT_CONFIG


@pytest.fixture(scope="session")
def shared_server() -> Iterator[EmulatorServer]:
    with run_in_thread(DEFAULT_CONFIG) as running:
        yield running


@pytest.fixture
def server(
    emulator_config: EmulatorConfig, request: pytest.FixtureRequest
) -> Iterator[EmulatorServer]:
    """A running emulator; on teardown every response it sent must match the document
    (strictly: no field the document does not list)."""
    if emulator_config == DEFAULT_CONFIG:
        running: EmulatorServer = request.getfixturevalue("shared_server")
        running.emulator.reset()
        yield running
    else:
        with run_in_thread(emulator_config) as running:
            yield running
    violations = log_violations(running.emulator.request_log, strict=True)
    assert not violations, "contract violations:\n" + "\n".join(violations)


@pytest.fixture
def client(server: EmulatorServer) -> Iterator[httpx.Client]:
    """An httpx client for ``server`` sending ``xi-api-key``."""
    with httpx.Client(base_url=server.url, headers={"xi-api-key": API_KEY}, timeout=10) as http:
        yield http
