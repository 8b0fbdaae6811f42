"""Palette actions, keys, status line and start-up behaviour."""

from __future__ import annotations

import threading
from collections.abc import Callable

from textual.widgets import Input, Static

from tutor.tui.app import TutorApp
from tutor.tui.widgets.chat import MessageView
from tutor.tui.widgets.status import StatusLine

from .conftest import SIZE
from .fakes import FakeEngine
from .helpers import Notes, settle, type_and_send

AppMaker = Callable[..., TutorApp]


async def test_export_writes_the_transcript_as_markdown(make_app: AppMaker) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        notes = Notes(app)
        await settle(pilot)
        await type_and_send(pilot, "B")
        await pilot.press("ctrl+s")
        await settle(pilot)
        files = list((app.settings.home / "exports").glob("*.md"))
        assert len(files) == 1
        text = files[0].read_text()
        assert text.startswith("# Lesson 23")
        assert "### You · asking" in text and "### Tutor · revealed" in text
        assert "NVIDIA MIG User Guide > Supported MIG profiles" in text
        assert any(str(files[0]) in m for _, m in notes.calls)


async def test_switch_model_rebuilds_the_engine_with_the_new_name(make_app: AppMaker) -> None:
    built: list[FakeEngine] = []
    app = make_app(built=built)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_and_send(pilot, "B")
        await pilot.press("ctrl+o")
        await pilot.pause()
        field = app.screen.query_one("#model-name", Input)
        assert field.value == "local/smollm2"
        field.value = "openai/gpt-4o-mini"
        await pilot.press("enter")
        await settle(pilot)
        assert app.settings.model.name == "openai/gpt-4o-mini"
        status = app.query_one(StatusLine)
        assert status.model == "openai/gpt-4o-mini" and not status.local
        assert len(built) == 2
        assert built[1].session_id == built[0].session_id, "same session, new model"
        assert built[1].calls == [], "nothing re-asked after a model switch"
        await type_and_send(pilot, "7")
        assert built[1].calls == ["send:7"]


async def test_a_failed_load_is_reported_and_sending_says_so(make_app: AppMaker) -> None:
    app = make_app(fail_load="no GGUF file for local/smollm2")
    async with app.run_test(size=SIZE) as pilot:
        notes = Notes(app)
        await settle(pilot)
        assert app.status.activity == "engine unavailable"
        await type_and_send(pilot, "hello?")
        last = list(app.query(MessageView))[-1]
        assert "unavailable" in str(last.query_one(".msg-note", Static).render())
        assert any("GGUF" in m for m in notes.errors())


async def test_factory_progress_shows_in_the_status_line(make_app: AppMaker) -> None:
    gate = threading.Event()
    app = make_app(gate=gate)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(50):
            await pilot.pause(0.02)
            if app.status.fraction == 0.0:
                break
        assert app.status.activity == "loading model…" and app.status.fraction == 0.0
        assert "0%" in str(app.status.render())
        gate.set()
        await settle(pilot)
        assert app.status.activity == "ready"


async def test_copy_theme_and_panels_keys(make_app: AppMaker) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_and_send(pilot, "B")
        await pilot.press("ctrl+r")
        assert app.clipboard == app.last_reply and "A100-80GB" in app.clipboard
        dark = app.current_theme.dark
        await pilot.press("ctrl+t")
        assert app.current_theme.dark is not dark
        await pilot.press("f4")
        assert not app.progress_panel.display
        await pilot.press("f3")
        assert app.calculator.display
        await pilot.press("f1")
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        assert type(app.screen).__name__ == "Screen"


async def test_tokens_per_second_come_from_the_deltas(make_app: AppMaker) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_and_send(pilot, "B")
        # The test clock ticks 0.05 s per delta: 20 deltas a second.
        assert app.status.rate is not None and abs(app.status.rate - 20.0) < 3.0
        assert "tok/s" in str(app.status.render())


async def test_palette_lists_the_lesson_commands(make_app: AppMaker) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for wanted in (
            "New session",
            "Resume last session",
            "Export transcript",
            "Switch model",
            "Toggle sources",
            "Help",
        ):
            assert wanted in titles


async def test_a_source_without_a_web_address_renders(make_app: AppMaker) -> None:
    from tutor.engine.events import Citation

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        odd = Citation(id="x", title="Lesson 23", section="Recall", url="Inference Engineering, 23")
        await app.sources.show([odd])
        app.sources.display = True
        await pilot.pause()  # a style string with spaces raised MissingStyle while painting
        await settle(pilot)
        assert "Inference Engineering, 23" in str(app.sources.query(".citation").first().render())
