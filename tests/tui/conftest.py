"""Fixtures for the app tests: settings in a temporary home and the real engine with a
scripted model (see scripted.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tutor.settings import Settings
from tutor.tui.app import TutorApp

from .scripted import Built, make_factory

SIZE = (120, 40)


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
def built() -> Built:
    return Built()


@pytest.fixture
def make_app(settings: Settings, built: Built) -> Callable[..., TutorApp]:
    """`make_app(lesson=PATH, model=NAME, resume=..., gate=..., fail_load=...)`: each app
    built here records its engines and models in the `built` fixture.

    A model name that is not `local/...` makes the engine ask the model for its reveals
    too (the embedded model only words the invitation to guess)."""

    def build(
        *, resume: bool = True, lesson: Path | None = None, model: str | None = None, **kw: object
    ) -> TutorApp:
        chosen = settings.model_copy(update={"lesson_plan": lesson}) if lesson else settings
        if model is not None:
            named = chosen.model.model_copy(update={"name": model})
            chosen = chosen.model_copy(update={"model": named})
        factory = make_factory(built=built, **kw)  # type: ignore[arg-type]
        return TutorApp(chosen, factory, resume=resume, clock=Ticker())

    return build
