"""The lesson flow through the app, driven by the scripted engine."""

from __future__ import annotations

import threading
from collections.abc import Callable

from textual.widgets import Button, Input, Static

from tutor.tui.app import TutorApp
from tutor.tui.widgets.calculator import SlotDiagram
from tutor.tui.widgets.chat import MessageView
from tutor.tui.widgets.progress import LessonProgress

from .conftest import SIZE
from .fakes import FakeEngine
from .helpers import (
    Notes,
    card_for,
    choose,
    commit,
    markdown_source,
    reveal,
    settle,
    tutor_messages,
    type_and_send,
)

AppMaker = Callable[..., TutorApp]


def static_text(widget: Static) -> str:
    return str(widget.render())


async def test_reveal_is_only_possible_after_a_commit_and_the_guess_is_locked(
    make_app: AppMaker,
) -> None:
    built: list[FakeEngine] = []
    app = make_app(built=built)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        card = card_for(app, "step-1")
        reveal_button = card.query_one("#reveal", Button)
        assert reveal_button.disabled
        await pilot.click(reveal_button)
        await settle(pilot)
        assert built[0].calls == ["start"], "a disabled Reveal must not reach the engine"

        await choose(pilot, card, "A")
        await commit(pilot, card)
        assert card.locked_guess == "A"
        assert static_text(card.query_one(".pred-locked", Static)) == "Locked: A"
        assert card.query_one(".pred-options").disabled
        assert card.query_one("#commit", Button).disabled
        assert not reveal_button.disabled

        await reveal(pilot, card)
        assert built[0].calls == ["start", "commit:A", "reveal"]
        assert card.verdict is not None and not card.verdict.correct
        assert card.has_class("wrong")
        assert "A. Runs tenants in turns" in static_text(card.query_one(".verdict-guess", Static))
        assert "B. Splits it" in static_text(card.query_one(".verdict-answer", Static))
        assert "time-slicing" in static_text(card.query_one(".verdict-misconception", Static))
        assert reveal_button.disabled


async def test_commit_without_a_guess_or_with_a_bad_one_does_not_lock(make_app: AppMaker) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        notes = Notes(app)
        await settle(pilot)
        card = card_for(app, "step-1")
        await commit(pilot, card)
        assert card.locked_guess is None
        assert any("Pick an option" in m for _, m in notes.calls)
        # Step 2 takes a number; the engine refuses text that is not one.
        await type_and_send(pilot, "B")
        numeric = card_for(app, "step-2")
        numeric.query_one(".pred-text", Input).value = "lots"
        await commit(pilot, numeric)
        assert numeric.locked_guess is None
        assert numeric.query_one("#reveal", Button).disabled
        assert any("not a guess" in m for s, m in notes.calls if s == "warning")


async def test_typing_a_guess_commits_reveals_and_labels_phases(make_app: AppMaker) -> None:
    built: list[FakeEngine] = []
    app = make_app(built=built)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_and_send(pilot, "b")
        assert built[0].calls == ["start", "send:b"]
        card = card_for(app, "step-1")
        assert card.verdict is not None and card.verdict.correct
        assert card.locked_guess == "B"
        headers = [static_text(m.query_one(".msg-header", Static)) for m in app.query(MessageView)]
        assert headers == ["Tutor · asking", "You · asking", "Tutor · revealed", "Tutor · asking"]
        assert "step-2" in app.cards


async def test_sources_panel_shows_citations_and_toggles(make_app: AppMaker) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not app.sources.display
        await type_and_send(pilot, "B")
        assert app.sources.display
        texts = [static_text(c) for c in app.sources.query(".citation").results(Static)]
        assert len(texts) == 2
        assert "Lesson 23 · Multi-Instance GPU > Step 1 — what MIG does" in texts[0]
        assert "https://docs.nvidia.com/datacenter/tesla/mig-user-guide/" in texts[1]
        assert "seven 1g.10gb" in texts[1]
        await pilot.press("f2")
        assert not app.sources.display
        assert not app.query_one("#side").display
        await pilot.press("f2")
        assert app.sources.display and app.query_one("#side").display


async def test_calculator_card_shows_the_tool_result_and_marks_its_numbers(
    make_app: AppMaker,
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_and_send(pilot, "B")
        assert not app.calculator.display
        await type_and_send(pilot, "8")
        calc = app.calculator
        assert calc.display
        assert "gpu: A100-80GB" in static_text(calc.query_one(".calc-inputs", Static))
        result = static_text(calc.query_one(".calc-result", Static))
        assert "count: 7" in result and "memory_gb_each: 10" in result
        diagram = calc.query_one(SlotDiagram)
        assert diagram.total == 8 and len(diagram.segments) == 7
        assert "1g" in str(diagram.render())
        # Numbers from the calculator become links to it; the slot list "0-6" does not.
        reveal_text = markdown_source(tutor_messages(app)[-2])
        assert "[7](calc:0)" in reveal_text and "[10](calc:0)" in reveal_text
        assert "slots 0-6" in reveal_text
        note = static_text(tutor_messages(app)[-2].query_one(".msg-note", Static))
        assert "calculator" in note


async def test_trying_another_partition_runs_the_calculator_directly(
    make_app: AppMaker,
) -> None:
    built: list[FakeEngine] = []
    app = make_app(built=built)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_and_send(pilot, "B")
        await type_and_send(pilot, "7")
        calc = app.calculator
        calc.query_one(".calc-gpu", Input).value = "A100-80GB"
        calc.query_one(".calc-profiles", Input).value = "3g.40gb 2g.20gb 2x1g.10gb"
        await pilot.click(calc.query_one(".calc-check", Button))
        await pilot.pause()
        assert calc.view is not None and calc.view.valid is True
        assert sorted(s.size for s in calc.view.segments) == [1, 1, 2, 4]
        assert calc.has_class("fits")
        calc.query_one(".calc-profiles", Input).value = "3g.40gb 3g.40gb 2g.20gb"
        await pilot.click(calc.query_one(".calc-check", Button))
        await pilot.pause()
        assert calc.view.valid is False and calc.has_class("no-fit")
        assert "compute slices" in static_text(calc.query_one(".calc-basis", Static))
        assert built[0].calls == ["start", "send:B", "send:7"], "no model call for a check"


async def test_provider_failure_notifies_and_restores_the_input(make_app: AppMaker) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        notes = Notes(app)
        await settle(pilot)
        before = len(app.query(MessageView))
        await type_and_send(pilot, "this will fail")
        assert any("timed out" in m for m in notes.errors())
        assert app.chat_input.text == "this will fail"
        messages = list(app.query(MessageView))
        assert len(messages) == before + 1, "earlier messages stay, the learner's is kept"
        assert messages[-1].has_class("failed")
        assert "back in the input" in static_text(messages[-1].query_one(".msg-note", Static))
        # The session goes on: the next message is answered.
        app.chat_input.clear()
        await type_and_send(pilot, "B")
        assert card_for(app, "step-1").verdict is not None


async def test_text_sent_while_loading_is_queued_and_sent_when_ready(make_app: AppMaker) -> None:
    gate = threading.Event()
    built: list[FakeEngine] = []
    app = make_app(built=built, gate=gate)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.chat_input.has_focus, "the input takes text before the model is ready"
        assert "loading" in app.status.activity
        app.chat_input.focus()
        await pilot.press(*"hello")
        await pilot.press("enter")
        await pilot.pause()
        queued = list(app.query(MessageView))[-1]
        assert "queued" in static_text(queued.query_one(".msg-note", Static))
        gate.set()
        await settle(pilot)
        assert built[0].calls == ["start", "send:hello"]
        roles = [(m.role, m.text) for m in app.query(MessageView)]
        assert roles[0][0] == "tutor" and roles[1] == ("learner", "hello"), "after the opening"
        assert not any("queued" in static_text(s) for s in app.query(".msg-note").results(Static))
        assert app.status.activity == "ready"


async def test_resume_shows_history_and_progress(make_app: AppMaker) -> None:
    first = make_app()
    async with first.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_and_send(pilot, "A")
    second = make_app(resume=True)
    async with second.run_test(size=SIZE) as pilot:
        await settle(pilot)
        steps = second.query_one(LessonProgress).steps
        assert [s.status for s in steps[:2]] == ["wrong", "current"]
        notes = [static_text(s) for s in second.query(".system-note").results(Static)]
        assert any("Resumed your last session" in n for n in notes)
        texts = [m.text for m in second.query(MessageView)]
        assert "A" in texts and any("Not quite" in t for t in texts)
        assert "step-2" in second.cards
    fresh = make_app(resume=False)
    async with fresh.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert fresh.query_one(LessonProgress).steps[0].status == "current"


async def test_new_session_from_the_palette_action_starts_over(make_app: AppMaker) -> None:
    built: list[FakeEngine] = []
    app = make_app(built=built)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_and_send(pilot, "B")
        await app.action_new_session()
        await settle(pilot)
        assert len(built) == 2 and built[1].session_id != built[0].session_id
        assert list(app.cards) == ["step-1"]
        assert app.query_one(LessonProgress).steps[0].status == "current"
        await app.action_resume()
        await settle(pilot)
        assert built[2].session_id == built[1].session_id


async def test_a_repeated_question_keeps_one_live_card_and_its_lock(make_app: AppMaker) -> None:
    built: list[FakeEngine] = []
    app = make_app(built=built)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        card = card_for(app, "step-1")
        await choose(pilot, card, "C")
        await commit(pilot, card)
        # Re-open the lesson on the same engine: it asks step 1 again, guess still locked.
        await app._run_turn(built[0].start)
        await settle(pilot)
        cards = list(app.query(".prediction"))
        assert len(cards) == 1 and cards[0] is not card
        again = card_for(app, "step-1")
        assert again.locked_guess == "C"
        assert not again.query_one("#reveal", Button).disabled


async def test_clicking_an_earlier_reply_shows_its_sources(make_app: AppMaker) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_and_send(pilot, "what is a slice?")
        first = tutor_messages(app)[-1]
        assert len(first.citations) == 1
        await type_and_send(pilot, "B")
        assert len(app.sources.citations) == 2
        first.post_message(MessageView.Selected(first))
        await settle(pilot)
        assert [c.id for c in app.sources.citations] == ["lesson-23#step-1"]
