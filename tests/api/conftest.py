"""Fixtures for the API client tests: clients wired to a :class:`FakeApi` with a fake sleep."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from convai_ops.api import ConvaiClient

from .fakes import API_KEY, BASE_URL, MakeClient


@pytest.fixture
def sleeps() -> list[float]:
    """The waits the client asked for, in seconds (the injected ``sleep`` records them)."""
    return []


@pytest.fixture
def make_client(sleeps: list[float]) -> Iterator[MakeClient]:
    """Build a client on a :class:`FakeApi` whose ``sleep`` only records the wait."""
    clients: list[ConvaiClient] = []

    def make(api: Callable[[httpx.Request], httpx.Response], **options: Any) -> ConvaiClient:
        options.setdefault("sleep", sleeps.append)
        client = ConvaiClient(BASE_URL, API_KEY, transport=httpx.MockTransport(api), **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
