"""Palette actions, keys, status line and start-up behaviour."""

from __future__ import annotations

import threading
from collections.abc import Callable

from textual.widgets import Input, Static

from tutor.tui.app import TutorApp
from tutor.tui.widgets.chat import MessageView
from tutor.tui.widgets.status import StatusLine

from .conftest import SIZE
from .helpers import Notes, settle, type_and_send
from .scripted import Built

AppMaker = Callable[..., TutorApp]


async def test_export_writes_the_transcript_as_markdown(make_app: AppMaker, built: Built) -> None:
    from tutor.engine.export import transcript_markdown

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        notes = Notes(app)
        await settle(pilot)
        await type_and_send(pilot, "B")
        await pilot.press("ctrl+s")
        await settle(pilot)
        engine = built.engine
        files = list((app.settings.home / "exports").glob("*.md"))
        assert len(files) == 1 and files[0].name.startswith(engine.plan.id)
        text = files[0].read_text()
        assert text.startswith(f"# {engine.plan.title} — session {engine.session_id}")
        assert "### You\n" in text and "### Tutor · revealed" in text
        assert "NVIDIA MIG User Guide > Concepts" in text
        assert "| step-1 | guess | B | right |" in text
        assert any(str(files[0]) in m for _, m in notes.calls)
        # One exporter: the same text as `tutor sessions export`, titled by the plan.
        assert engine.record is not None
        saved = transcript_markdown(engine.record, engine.session_id, title=engine.plan.title)
        assert text == saved


async def test_switch_model_rebuilds_the_engine_with_the_new_name(
    make_app: AppMaker, built: Built
) -> None:
    app = make_app()
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
        old, new = built.engines
        assert new.model.name == "openai/gpt-4o-mini"
        assert new.session_id == old.session_id, "same session, new model"
        assert new.transcript() == old.transcript(), "nothing re-asked after a model switch"
        assert built.models[1].prompts == []
        await type_and_send(pilot, "What does an instance keep for itself?")
        assert len(new.transcript()) == len(old.transcript()) + 2
        assert new.transcript()[-2].text == "What does an instance keep for itself?"


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


async def test_copy_theme_and_panels_keys(make_app: AppMaker, built: Built) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_and_send(pilot, "B")
        await pilot.press("ctrl+r")
        assert app.clipboard == app.last_reply == built.engine.transcript()[-1].text
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
    # A hosted model's invitation keeps all ten of its sentences (see scripted.ASK_NOTE).
    app = make_app(model="openai/scripted")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # The opening streams a dozen deltas and the test clock ticks 0.05 s per delta:
        # about 20 deltas a second.
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
        odd = Citation(id="x", title="A course", section="Recall", url="Inference Engineering, 23")
        await app.sources.show([odd])
        app.sources.display = True
        await pilot.pause()  # a style string with spaces raised MissingStyle while painting
        await settle(pilot)
        assert "Inference Engineering, 23" in str(app.sources.query(".citation").first().render())
