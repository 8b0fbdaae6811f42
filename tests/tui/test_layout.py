"""The app on small terminals: an 80x24 one is the default almost everywhere.

The chat must keep room to read, and a finished exchange must stay in view even when the
open prediction card is posted again below it.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable

import pytest

from tutor.tui.app import TutorApp, size_from_the_terminal
from tutor.tui.widgets.chat import MessageView

from .helpers import settle, type_and_send

AppMaker = Callable[..., TutorApp]
QUESTION = "What is a MIG slice?"
SECOND = "And what does time-slicing do?"


def in_view(app: TutorApp, widget: MessageView) -> bool:
    """The widget's first row is inside the chat's visible window."""
    top = widget.region.y
    window = app.chat.content_region
    return window.y <= top < window.y + window.height


async def test_a_wide_terminal_shows_the_progress_panel(make_app: AppMaker) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.progress_panel.display
        assert app.progress_panel.region.width > 0


@pytest.mark.parametrize("size", [(80, 24), (72, 20)])
async def test_a_small_terminal_gives_the_chat_its_width(
    make_app: AppMaker, size: tuple[int, int]
) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await type_and_send(pilot, QUESTION)
        # The reply brought sources, so the side panel is open beside the chat.
        assert app.sources.display
        assert not app.progress_panel.display
        assert app.chat.content_region.width >= 40
        # Hidden is not gone: F4 still brings the lesson's progress back.
        await pilot.press("f4")
        await pilot.pause()
        assert app.progress_panel.display
        assert app.progress_panel.region.width > 0


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_last_exchange_stays_in_view_above_the_card(
    make_app: AppMaker, size: tuple[int, int]
) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await type_and_send(pilot, QUESTION)
        await type_and_send(pilot, SECOND)
        await pilot.pause()
        learner = [m for m in app.query(MessageView) if m.role == "learner"]
        assert learner[-1].text == SECOND
        # The card for the open step was posted again below the reply...
        card = app.cards[next(iter(app.cards))]
        assert list(app.chat.children)[-1] is card
        # ...and the learner still sees what they asked, with the reply beneath it.
        assert in_view(app, learner[-1])


async def test_a_learner_who_scrolled_up_is_left_there(make_app: AppMaker) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await type_and_send(pilot, QUESTION)
        app.chat.scroll_home(animate=False)
        await pilot.pause()
        # A reply that lands while the learner reads back must not pull them down.
        first = next(m for m in app.query(MessageView) if m.role == "learner")
        app.chat.show_start_of(first)
        await pilot.pause()
        assert app.chat.scroll_y == 0


class _Terminal(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize("tty", [True, False])
def test_exported_sizes_yield_to_a_real_terminal(
    monkeypatch: pytest.MonkeyPatch, tty: bool
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("LINES", "30")
    monkeypatch.setattr("sys.__stdout__", _Terminal(tty))
    size_from_the_terminal()
    # On a terminal its own size wins; piped or headless, the exported size is all there is.
    assert ("COLUMNS" in os.environ) is not tty
    assert ("LINES" in os.environ) is not tty
