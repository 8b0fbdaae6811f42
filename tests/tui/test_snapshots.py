"""Snapshots of settled screens (fixed size, fixed clock, no blinking cursor), drawn by the
real engine with a scripted model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from tutor.tui.app import TutorApp
from tutor.tui.widgets.chat import ChatInput

from .conftest import SIZE
from .helpers import card_for, choose, commit, reveal, settle, type_and_send
from .scripted import COUNTING

AppMaker = Callable[..., TutorApp]
SnapCompare = Callable[..., bool]


async def _steady(pilot: Pilot[Any]) -> None:
    for widget in pilot.app.query(ChatInput):
        widget.cursor_blink = False
    for field in pilot.app.query(Input):
        field.cursor_blink = False
    await settle(pilot)


def test_first_screen(snap_compare: SnapCompare, make_app: AppMaker) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_steady)


def test_after_reveal_with_sources(snap_compare: SnapCompare, make_app: AppMaker) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _steady(pilot)
        app = pilot.app
        assert isinstance(app, TutorApp)
        card = card_for(app, "step-1")
        await choose(pilot, card, "A")
        await commit(pilot, card)
        await reveal(pilot, card)
        app.chat.scroll_to_widget(card, animate=False, top=True)
        await _steady(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_calculator_card_light(snap_compare: SnapCompare, make_app: AppMaker) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _steady(pilot)
        await type_and_send(pilot, "B")
        await type_and_send(pilot, "You pick a profile from a fixed list.")
        await type_and_send(pilot, "7")
        await pilot.press("f2")  # sources away: the calculator gets the whole side
        await pilot.press("ctrl+t")
        await _steady(pilot)

    app = make_app(lesson=COUNTING)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
