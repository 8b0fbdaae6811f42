"""Fixtures for the app tests: settings in a temporary home and a scripted engine."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tutor.settings import Settings
from tutor.tui.app import TutorApp

from .fakes import SAVED, FakeEngine, make_factory

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def _forget_sessions() -> None:
    SAVED.clear()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home")


class Ticker:
    """A clock that advances a fixed step per call, so tokens/s is the same every run."""

    def __init__(self, step: float = 0.05) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


@pytest.fixture
def make_app(settings: Settings) -> Callable[..., TutorApp]:
    def build(
        *, resume: bool = True, built: list[FakeEngine] | None = None, **kw: object
    ) -> TutorApp:
        factory = make_factory(built=built, **kw)  # type: ignore[arg-type]
        return TutorApp(settings, factory, resume=resume, clock=Ticker())

    return build
