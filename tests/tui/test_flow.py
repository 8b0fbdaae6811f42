"""The lesson flow through the app, driven by the real engine with a scripted model.

The app is checked against the engine behind it: what the card, the panels and the chat
show must be what the engine decided and saved, whatever its wording.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from textual.widgets import Button, Input, Static

from tutor.engine.labels import phase_label
from tutor.engine.plan import load_plan
from tutor.mig.catalogue import find_gpu
from tutor.mig.diagram import segments
from tutor.mig.placement import capacity
from tutor.tui.app import TutorApp
from tutor.tui.widgets.calculator import SlotDiagram
from tutor.tui.widgets.chat import MessageView
from tutor.tui.widgets.progress import LessonProgress

from .conftest import SIZE
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
from .scripted import COUNTING, PASSAGES, Built

AppMaker = Callable[..., TutorApp]
RECALL_ANSWER = "You pick a profile from a fixed list."


def static_text(widget: Static) -> str:
    return str(widget.render())


def shown_as_saved(app: TutorApp, built: Built) -> None:
    """Every message on screen is the engine's saved turn: streamed text equals saved text."""
    saved = built.engine.transcript()
    # A message the engine did not answer stays on screen, marked, and is not saved.
    on_screen = [m for m in app.query(MessageView) if not m.has_class("failed")]
    assert [(m.role, m.text.strip()) for m in on_screen] == [
        (e.role, e.text.strip()) for e in saved
    ]
    # The tutor's phase is the one its turn ended in (a learner's is the one they wrote in).
    headers = [static_text(m.query_one(".msg-header", Static)) for m in on_screen]
    assert [h for h in headers if h.startswith("Tutor")] == [
        f"Tutor · {phase_label(e.phase)}" for e in saved if e.role == "tutor"
    ]


async def to_the_count_step(pilot: object, app: TutorApp) -> None:
    """In the counting lesson: answer the first step and its recall."""
    await type_and_send(pilot, "B")  # type: ignore[arg-type]
    await type_and_send(pilot, RECALL_ANSWER)  # type: ignore[arg-type]
    assert "count" in app.cards


async def test_reveal_is_only_possible_after_a_commit_and_the_guess_is_locked(
    make_app: AppMaker, built: Built
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        engine = built.engine
        step = engine.plan.steps[0]
        card = card_for(app, step.id)
        reveal_button = card.query_one("#reveal", Button)
        assert reveal_button.disabled
        saved = len(engine.transcript())
        await pilot.click(reveal_button)
        await settle(pilot)
        assert len(engine.transcript()) == saved and engine.phase == "ask", (
            "a disabled Reveal must not reach the engine"
        )

        await choose(pilot, card, "A")
        await commit(pilot, card)
        assert engine.committed_guess == "A" == card.locked_guess
        assert static_text(card.query_one(".pred-locked", Static)) == "Locked: A"
        assert card.query_one(".pred-options").disabled
        assert card.query_one("#commit", Button).disabled
        assert not reveal_button.disabled

        await reveal(pilot, card)
        assert engine.phase != "ask" and len(engine.transcript()) == saved + 1
        assert card.verdict is not None and not card.verdict.correct
        assert card.has_class("wrong")
        wrong = step.options[0]
        right = step.correct_option
        assert right is not None and wrong.misconception
        assert wrong.text in static_text(card.query_one(".verdict-guess", Static))
        assert right.text in static_text(card.query_one(".verdict-answer", Static))
        misconception = static_text(card.query_one(".verdict-misconception", Static))
        assert " ".join(wrong.misconception.split())[:40] in " ".join(misconception.split())
        assert reveal_button.disabled
        shown_as_saved(app, built)


async def test_commit_without_a_guess_or_with_a_bad_one_does_not_lock(
    make_app: AppMaker, built: Built
) -> None:
    app = make_app(lesson=COUNTING)
    async with app.run_test(size=SIZE) as pilot:
        notes = Notes(app)
        await settle(pilot)
        card = card_for(app, "sizes")
        await commit(pilot, card)
        assert card.locked_guess is None
        assert any("Pick an option" in m for _, m in notes.calls)
        # The count step takes a number; the engine refuses text that is not one.
        await to_the_count_step(pilot, app)
        numeric = card_for(app, "count")
        numeric.query_one(".pred-text", Input).value = "lots"
        await commit(pilot, numeric)
        assert numeric.locked_guess is None and built.engine.committed_guess is None
        assert numeric.query_one("#reveal", Button).disabled
        refused = built.engine.commit("lots")
        assert not refused.accepted
        assert refused.message in [m for s, m in notes.calls if s == "warning"]


async def test_typing_a_guess_commits_reveals_and_labels_phases(
    make_app: AppMaker, built: Built
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_and_send(pilot, "b")
        card = card_for(app, "step-1")
        assert card.verdict is not None and card.verdict.correct
        assert card.locked_guess == "B"
        progress = app.query_one(LessonProgress).steps
        assert progress == built.engine.progress()
        assert progress[0].guess == "B"
        shown_as_saved(app, built)


async def test_sources_panel_shows_citations_and_toggles(make_app: AppMaker, built: Built) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not app.sources.display
        await type_and_send(pilot, "B")
        assert app.sources.display
        cited = built.engine.transcript()[-1].citations
        assert cited, "the reveal cites its sources"
        assert [c.id for c in app.sources.citations] == [c["id"] for c in cited]
        texts = [static_text(c) for c in app.sources.query(".citation").results(Static)]
        assert len(texts) == len(cited)
        for text, citation in zip(texts, app.sources.citations, strict=True):
            assert citation.label in text
            if citation.url:
                assert citation.url in text
        assert any(p.url in " ".join(texts) for p in PASSAGES if p.url)
        await pilot.press("f2")
        assert not app.sources.display
        assert not app.query_one("#side").display
        await pilot.press("f2")
        assert app.sources.display and app.query_one("#side").display


async def test_calculator_card_draws_the_calculators_own_segments(
    make_app: AppMaker, built: Built
) -> None:
    app = make_app(lesson=COUNTING)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await to_the_count_step(pilot, app)
        assert not app.calculator.display
        await type_and_send(pilot, "8")
        expected = capacity("A100-80GB", "1g.10gb")
        calc = app.calculator
        assert calc.display
        assert "gpu: A100-80GB" in static_text(calc.query_one(".calc-inputs", Static))
        result = static_text(calc.query_one(".calc-result", Static))
        assert f"count: {expected.count}" in result
        diagram = calc.query_one(SlotDiagram)
        assert diagram.segments == segments("A100-80GB", expected.placements)
        assert diagram.total == find_gpu("A100-80GB").memory_slices
        assert "1g" in str(diagram.render())
        # Numbers from the calculator become links to it.
        reveal_msg = next(m for m in tutor_messages(app) if "calc:" in markdown_source(m))
        assert f"[{expected.count}](calc:0)" in markdown_source(reveal_msg)
        note = static_text(reveal_msg.query_one(".msg-note", Static))
        assert "calculator" in note
        saved = built.engine.transcript()
        assert any(t["name"] == "mig_capacity" for e in saved for t in e.tool_calls)


async def test_trying_another_partition_runs_the_calculator_directly(
    make_app: AppMaker, built: Built
) -> None:
    app = make_app(lesson=COUNTING)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await to_the_count_step(pilot, app)
        await type_and_send(pilot, "7")
        prompts, saved = len(built.model.prompts), len(built.engine.transcript())
        calc = app.calculator
        calc.query_one(".calc-gpu", Input).value = "A100-80GB"
        calc.query_one(".calc-profiles", Input).value = "3g.40gb 2g.20gb 2x1g.10gb"
        await pilot.click(calc.query_one(".calc-check", Button))
        await pilot.pause()
        assert calc.view is not None and calc.view.valid is True
        assert sorted(s.size for s in calc.view.instances) == [1, 1, 2, 4]
        assert calc.has_class("fits")
        calc.query_one(".calc-profiles", Input).value = "3g.40gb 3g.40gb 2g.20gb"
        # The first result reflows the panel; click where the button is now, not where it was.
        await settle(pilot)
        clicked = await pilot.click(calc.query_one(".calc-check", Button))
        await pilot.pause()
        assert clicked, "the Check button was not under the click"
        assert calc.view.valid is False and calc.has_class("no-fit"), calc.view
        assert "compute slices" in static_text(calc.query_one(".calc-basis", Static))
        assert len(built.model.prompts) == prompts, "no model call for a check"
        assert len(built.engine.transcript()) == saved


async def test_provider_failure_before_a_verdict_restores_the_input(
    make_app: AppMaker, built: Built
) -> None:
    # A hosted model words the recall feedback and the next question: the provider can
    # fail there before anything is decided, and the session must stay as it was.
    app = make_app(lesson=COUNTING, model="openai/scripted")
    async with app.run_test(size=SIZE) as pilot:
        notes = Notes(app)
        await settle(pilot)
        await type_and_send(pilot, "B")
        before = len(app.query(MessageView))
        saved, phase = len(built.engine.transcript()), built.engine.phase
        built.model.fail_after = 0
        await type_and_send(pilot, RECALL_ANSWER)
        assert any("broke halfway" in m for m in notes.errors())
        assert app.chat_input.text == RECALL_ANSWER
        messages = list(app.query(MessageView))
        assert len(messages) == before + 1, "earlier messages stay, the learner's is kept"
        assert messages[-1].has_class("failed")
        assert "back in the input" in static_text(messages[-1].query_one(".msg-note", Static))
        assert len(built.engine.transcript()) == saved and built.engine.phase == phase
        # The session goes on: the same text, sent again, is answered.
        built.model.fail_after = None
        app.chat_input.clear()
        await type_and_send(pilot, RECALL_ANSWER)
        assert "count" in app.cards
        shown_as_saved(app, built)


async def test_provider_failure_after_a_verdict_keeps_the_verdict(
    make_app: AppMaker, built: Built
) -> None:
    app = make_app(model="openai/scripted")  # a hosted model words the reveal
    async with app.run_test(size=SIZE) as pilot:
        notes = Notes(app)
        await settle(pilot)
        built.model.fail_after = 0
        await type_and_send(pilot, "B")
        assert any("broke halfway" in m for m in notes.errors())
        card = card_for(app, "step-1")
        assert card.verdict is not None and card.verdict.correct
        assert built.engine.phase != "ask", "the engine keeps the verdict"
        assert app.chat_input.text == "", "nothing to send again"
        reply = tutor_messages(app)[-1]
        assert "verdict stand" in static_text(reply.query_one(".msg-note", Static))
        assert not list(app.query(MessageView))[-2].has_class("failed")


async def test_an_engine_bug_is_logged_with_its_traceback_not_called_a_silent_model(
    make_app: AppMaker, built: Built, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(model="openai/scripted")
    async with app.run_test(size=SIZE) as pilot:
        notes = Notes(app)
        await settle(pilot)
        built.model.bug = KeyError("no-such-field")
        with caplog.at_level(logging.ERROR, logger="tutor.tui"):
            await type_and_send(pilot, "B")
        logged = [r for r in caplog.records if r.name == "tutor.tui.app"]
        assert logged and logged[0].exc_info is not None
        assert logged[0].exc_info[0] is KeyError
        errors = notes.errors()
        assert any("bug" in m and "KeyError" in m and "no-such-field" in m for m in errors)
        assert not any("did not answer" in m for m in errors)
        assert app.chat_input.text == "B"


async def test_text_sent_while_loading_is_queued_and_sent_when_ready(
    make_app: AppMaker, built: Built
) -> None:
    gate = threading.Event()
    app = make_app(gate=gate)
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
        saved = built.engine.transcript()
        assert saved[0].role == "tutor" and (saved[1].role, saved[1].text) == ("learner", "hello")
        roles = [(m.role, m.text) for m in app.query(MessageView)]
        assert roles[0][0] == "tutor" and roles[1] == ("learner", "hello"), "after the opening"
        assert not any("queued" in static_text(s) for s in app.query(".msg-note").results(Static))
        assert app.status.activity == "ready"


async def test_resume_shows_history_and_progress(make_app: AppMaker, built: Built) -> None:
    first = make_app()
    async with first.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_and_send(pilot, "A")
    history = built.engine.transcript()
    second = make_app(resume=True)
    async with second.run_test(size=SIZE) as pilot:
        await settle(pilot)
        engine = built.engine
        assert engine.session_id == built.engines[0].session_id
        steps = second.query_one(LessonProgress).steps
        assert steps == engine.progress() and steps[0].guess == "A"
        notes = [static_text(s) for s in second.query(".system-note").results(Static)]
        assert any("Resumed your last session" in n for n in notes)
        texts = [m.text for m in second.query(MessageView)]
        assert texts[: len(history)] == [e.text for e in history]
    fresh = make_app(resume=False)
    async with fresh.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert built.engine.session_id != built.engines[0].session_id
        assert fresh.query_one(LessonProgress).steps[0].status == "current"


async def test_new_session_from_the_palette_action_starts_over(
    make_app: AppMaker, built: Built
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_and_send(pilot, "B")
        await app.action_new_session()
        await settle(pilot)
        engines = built.engines
        assert len(engines) == 2 and engines[1].session_id != engines[0].session_id
        assert list(app.cards) == ["step-1"]
        assert app.query_one(LessonProgress).steps[0].status == "current"
        await app.action_resume()
        await settle(pilot)
        assert built.engines[2].session_id == engines[1].session_id


async def test_a_repeated_question_keeps_one_live_card_and_its_lock(
    make_app: AppMaker, built: Built
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        card = card_for(app, "step-1")
        await choose(pilot, card, "C")
        await commit(pilot, card)
        # Re-open the lesson on the same engine: it asks step 1 again, guess still locked.
        await app._run_turn(built.engine.start)
        await settle(pilot)
        cards = list(app.query(".prediction"))
        assert len(cards) == 1 and cards[0] is not card
        again = card_for(app, "step-1")
        assert again.locked_guess == "C" == built.engine.committed_guess
        assert not again.query_one("#reveal", Button).disabled


async def test_clicking_an_earlier_reply_shows_its_sources(make_app: AppMaker) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_and_send(pilot, "B")
        cited = next(m for m in tutor_messages(app) if m.citations)
        await app.sources.show([])
        cited.post_message(MessageView.Selected(cited))
        await settle(pilot)
        assert app.sources.citations == cited.citations


async def test_a_second_lesson_runs_through_the_app_with_no_code_change(
    make_app: AppMaker, built: Built
) -> None:
    plan = load_plan(COUNTING)
    app = make_app(lesson=COUNTING)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.sub_title == plan.title
        assert app.progress_panel.border_title == plan.title
        assert [s.step_id for s in app.progress_panel.steps] == [s.id for s in plan.steps]
        await to_the_count_step(pilot, app)
        await type_and_send(pilot, str(capacity("A100-80GB", "1g.10gb").count))
        assert card_for(app, "count").verdict is not None
        await type_and_send(pilot, "The compute slices: seven of them.")
        assert built.engine.phase == "done"
        assert [s.status for s in app.progress_panel.steps] == [
            s.status for s in built.engine.progress()
        ]
        assert " ".join(plan.closing.split()) in " ".join(tutor_messages(app)[-1].text.split())


LESSON_23_WALK = ("B", "Its own SMs, memory slice and L2 cache.", "B")
COUNTING_WALK = ("B", RECALL_ANSWER, "7", "The compute slices: seven of them.")


@pytest.mark.parametrize(
    ("lesson", "walk"),
    [
        pytest.param(None, LESSON_23_WALK, id="shipped-lesson"),
        pytest.param(COUNTING, COUNTING_WALK, id="counting-lesson"),
    ],
)
async def test_every_turn_on_screen_is_the_saved_turn(
    make_app: AppMaker, built: Built, lesson: Path | None, walk: tuple[str, ...]
) -> None:
    app = make_app(lesson=lesson)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        shown_as_saved(app, built)
        for text in walk:
            await type_and_send(pilot, text)
            shown_as_saved(app, built)


async def test_a_reading_is_shown_once(make_app: AppMaker, built: Built) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        question = "How many 1g.10gb instances fit on an A100-80GB?"
        await type_and_send(pilot, question)
        reply = built.engine.transcript()[-1].text
        assert reply.startswith("I read this as"), "the engine states its reading"
        learner = next(m for m in app.query(MessageView) if m.text == question)
        # The reply already says it, so the note under the learner's message stays empty.
        assert static_text(learner.query_one(".msg-note", Static)) == ""
        assert sum(reply.split("\n")[0] in m.text for m in app.query(MessageView)) == 1


async def test_a_reading_the_reply_does_not_state_gets_its_own_line(make_app: AppMaker) -> None:
    from tutor.engine.events import Event, ReadingShown, TextDelta, TurnDone

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)

        async def turn() -> AsyncIterator[Event]:
            yield ReadingShown(kind="guess", text="I read this as: your guess is B.")
            yield TextDelta(text="Noted.")
            yield TurnDone(phase="ask", text="Noted.")

        await app._run_turn(turn)
        await settle(pilot)
        lines = [static_text(s) for s in app.query(".reading").results(Static)]
        assert lines == ["I read this as: your guess is B."]
