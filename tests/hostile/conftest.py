"""The hostile probes: a fake provider on loopback, no real keys, instant backoff."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hostile.fake_openai import FakeServer


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeServer]:
    server = FakeServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _keys(no_provider_keys: Path) -> Path:
    return no_provider_keys


