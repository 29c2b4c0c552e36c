"""Fixtures of the canary tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from convai_ops.api import ConvaiClient
from tests.api.fakes import API_KEY, BASE_URL

MakeClient = Callable[..., ConvaiClient]


@pytest.fixture
def make_client() -> Iterator[MakeClient]:
    """Build a client answering through ``httpx.MockTransport(api)`` (no real sleep)."""
    clients: list[ConvaiClient] = []

    def make(api: Callable[[httpx.Request], httpx.Response], **options: Any) -> ConvaiClient:
        options.setdefault("sleep", lambda seconds: None)
        client = ConvaiClient(BASE_URL, API_KEY, transport=httpx.MockTransport(api), **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
