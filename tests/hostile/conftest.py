"""The hostile probes: a fake provider on loopback, no real keys, instant backoff."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hostile.fake_openai import FakeServer
from tutor.gateway import offline


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeServer]:
    server = FakeServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _no_real_keys(_isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(key, raising=False)
    offline.apply()
    yield _isolated_home


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Backoff sleeps are recorded instead of slept."""
    from tutor.gateway import gateway

    recorded: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(gateway, "_sleep", fake_sleep)
    return recorded
