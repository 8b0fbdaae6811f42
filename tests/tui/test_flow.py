from __future__ import annotations

from collections.abc import Callable

from textual.widgets import Button, RadioButton, Static

from tutor.tui.app import TutorApp
from tutor.tui.widgets.chat import MessageView
from tutor.tui.widgets.prediction import PredictionCard

from .conftest import SIZE
from .fakes import FakeEngine
from .helpers import settle


async def test_first_step_commit_then_reveal(make_app: Callable[..., TutorApp]) -> None:
    built: list[FakeEngine] = []
    app = make_app(built=built)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        card = app.query_one(PredictionCard)
        reveal = card.query_one("#reveal", Button)
        assert reveal.disabled
        card.query(RadioButton)[0].value = True  # A: the time-slicing misconception
        await pilot.click(card.query_one("#commit", Button))
        await settle(pilot)
        assert card.locked_guess == "A"
        assert "Locked: A" in str(card.query_one(".pred-locked", Static).render())
        assert not reveal.disabled
        await pilot.click(reveal)
        await settle(pilot)
        assert built[0].calls == ["start", "commit:A", "reveal"]
        assert card.verdict is not None and not card.verdict.correct
        tutor = [m for m in app.query(MessageView) if m.role == "tutor"]
        assert "Not quite" in tutor[1].text
