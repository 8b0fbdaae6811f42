"""Driving the app in tests: the engine runs on its own thread, so wait for it to settle."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import Button, Markdown, RadioButton

from tutor.tui.app import TutorApp
from tutor.tui.widgets.chat import MessageView
from tutor.tui.widgets.prediction import PredictionCard


async def settle(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, TutorApp)
    for _ in range(3):
        await pilot.pause()
        await app.wait_idle()
        await app.workers.wait_for_complete()
    await pilot.pause()


def card_for(app: TutorApp, step_id: str) -> PredictionCard:
    return app.cards[step_id]


async def choose(pilot: Pilot[Any], card: PredictionCard, key: str) -> None:
    for button in card.query(RadioButton):
        if button.name == key:
            button.value = True
    await pilot.pause()


async def commit(pilot: Pilot[Any], card: PredictionCard) -> None:
    await pilot.click(card.query_one("#commit", Button))
    await settle(pilot)


async def reveal(pilot: Pilot[Any], card: PredictionCard) -> None:
    await pilot.click(card.query_one("#reveal", Button))
    await settle(pilot)


async def type_and_send(pilot: Pilot[Any], text: str) -> None:
    app = pilot.app
    assert isinstance(app, TutorApp)
    app.chat_input.focus()
    await pilot.press(*text)
    await pilot.press("enter")
    await settle(pilot)


def tutor_messages(app: TutorApp) -> list[MessageView]:
    return [m for m in app.query(MessageView) if m.role == "tutor"]


def markdown_source(message: MessageView) -> str:
    return message.query_one(Markdown).source


class Notes:
    """Records app.notify calls (and still shows them)."""

    def __init__(self, app: TutorApp) -> None:
        self.calls: list[tuple[str, str]] = []
        original = app.notify

        def notify(message: str, *args: Any, **kwargs: Any) -> None:
            self.calls.append((kwargs.get("severity", "information"), str(message)))
            original(message, *args, **kwargs)

        app.notify = notify  # type: ignore[method-assign]

    def errors(self) -> list[str]:
        return [m for s, m in self.calls if s == "error"]
