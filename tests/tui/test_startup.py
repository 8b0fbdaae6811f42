"""The app with the real factory: the first question and its reveal while the model loads."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.fakes import ScriptedModel
from tutor.engine import factory
from tutor.engine.lazy import LazyModel
from tutor.gateway.types import ChatModel
from tutor.settings import Settings
from tutor.tui.app import TutorApp

from .conftest import SIZE
from .helpers import markdown_source, settle, tutor_messages, type_and_send


async def test_first_question_and_reveal_on_screen_while_the_model_loads(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = threading.Event()
    loads: list[float] = []

    def slow_model(*_args: Any) -> ChatModel:
        loads.append(1.0)
        assert gate.wait(30), "the test never let the model load"
        return ScriptedModel("Loaded.")

    monkeypatch.setattr(factory, "load_gateway", slow_model)
    engines: list[Any] = []

    def build(settings: Settings, *, resume: bool, progress: Any) -> Any:
        # As the app's own factory builds it: the app starts the loading itself.
        engine = factory.build_engine(
            settings, resume=resume, progress=progress, use_corpus=False, autoload=False
        )
        engines.append(engine)
        return engine

    app = TutorApp(settings, build, resume=False)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            model = engines[0].model
            assert isinstance(model, LazyModel) and not model.ready
            step = engines[0].plan.steps[0]
            assert step.id in app.cards
            assert any(step.question in markdown_source(m) for m in tutor_messages(app))
            # Once the opening is painted, the app has started the model loading.
            for _ in range(100):
                if loads:
                    break
                await pilot.pause(0.02)
            assert loads == [1.0]

            right = step.correct_option
            assert right is not None
            await type_and_send(pilot, right.key)
            assert not model.ready
            assert any("**Right!**" in markdown_source(m) for m in tutor_messages(app))
    finally:
        gate.set()
