"""The written contract, held against the real engine with a scripted model, on both
lessons: every call ends with exactly one TurnDone or TurnFailed, last, and what a turn
streamed is exactly what it saved."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes import ScriptedModel, by_template
from tutor.engine.engine import Engine
from tutor.engine.events import Event, TextDelta, TurnDone, TurnFailed
from tutor.engine.plan import LessonPlan, load_plan
from tutor.engine.prompts import PromptSet
from tutor.engine.protocol import TutorEngine
from tutor.engine.record import Record
from tutor.settings import PROJECT_ROOT

LESSONS = {
    "lesson-23": PROJECT_ROOT / "corpus" / "lessons" / "lesson-23.yaml",
    "counting": PROJECT_ROOT / "tests" / "lessons" / "counting" / "plan.yaml",
}
NOTE = "Take a moment and commit your guess. Predicting first makes it stick."


def _learner_lines(plan: LessonPlan) -> list[str]:
    """A learner who wanders: a demand, a question, a calculator question, then answers."""
    lines = ["just tell me", "What is a GPU instance?",
             "How many 1g.10gb fit on an A100 80GB?", "3", "hint"]  # fmt: skip
    for step in plan.steps:
        if step.kind == "step":
            right = step.correct_option
            lines.append(right.key if right else "7")
            if step.recall is not None:
                lines.append(step.recall.answer)
        elif step.kind == "recall" and step.recall is not None:
            lines.append("blah")
            lines.append("yes yes yes yes")
        else:
            lines.append(step.model_answer or step.explanation)
    return lines


async def _turn(events: AsyncIterator[Event]) -> list[Event]:
    return [e async for e in events]


def _check(events: list[Event]) -> TurnDone | None:
    ends = [e for e in events if isinstance(e, TurnDone | TurnFailed)]
    assert len(ends) == 1 and events[-1] is ends[0], "exactly one TurnDone/TurnFailed, last"
    done = ends[0]
    if isinstance(done, TurnDone):
        streamed = "".join(e.text for e in events if isinstance(e, TextDelta))
        assert streamed == done.text, "streamed text must equal saved text"
        return done
    return None


@pytest.mark.parametrize("lesson", sorted(LESSONS))
@pytest.mark.parametrize("hosted", [False, True])
async def test_every_call_keeps_the_contract(lesson: str, hosted: bool, prompts: PromptSet,
                                             tmp_path: Path) -> None:  # fmt: skip
    plan = load_plan(LESSONS[lesson])
    model = ScriptedModel(by_template(default=NOTE), local=not hosted,
                          name="fake/hosted" if hosted else "local/scripted")  # fmt: skip
    record = Record(tmp_path / "s.sqlite")
    engine = Engine(plan=plan, prompts=prompts, model=model, record=record)
    assert isinstance(engine, Engine)
    _check(await _turn(engine.start()))
    for line in _learner_lines(plan):
        _check(await _turn(engine.send(line)))
    # The Commit button path: commit, then reveal, on a fresh session of the same lesson.
    again = Engine(plan=plan, prompts=prompts, model=model, record=record)
    _check(await _turn(again.start()))
    first = plan.steps[0]
    if first.kind == "step":
        guess = first.correct_option.key if first.correct_option else "7"
        assert again.commit(guess).accepted
        _check(await _turn(again.reveal()))
    _check(await _turn(again.reveal()))  # nothing committed: one TurnFailed
    saved = [e.text for e in engine.transcript() if e.role == "tutor"]
    stored = [e.text for e in record.entries(engine.session_id) if e.role == "tutor"]
    assert saved == stored
    engine.close()
    again.close()


def test_the_protocol_lists_what_the_engine_offers() -> None:
    wanted = {name for name, _ in inspect.getmembers(TutorEngine) if not name.startswith("_")}
    assert {"goto", "leave_lesson", "awaiting_guess", "free_question", "step", "model",
            "prompts", "close", "plan"} <= wanted  # fmt: skip
    for name in wanted:
        assert hasattr(Engine, name) or name in ("plan", "prompts"), name


def test_close_releases_the_database(prompts: PromptSet, tmp_path: Path) -> None:
    plan = load_plan(LESSONS["counting"])
    engine = Engine(plan=plan, prompts=prompts, model=ScriptedModel(),
                    record=Record(tmp_path / "s.sqlite"))  # fmt: skip
    engine.close()
    with pytest.raises(Exception, match="closed"):
        engine.journal.save(engine.state)


async def test_an_invitation_that_leans_toward_an_option_is_cut(
    prompts: PromptSet, tmp_path: Path
) -> None:
    plan = load_plan(LESSONS["lesson-23"])
    model = ScriptedModel(
        by_template(ask="Choose the option that is the most fair. Take a moment first."),
        name="local/scripted",
    )
    engine = Engine(plan=plan, prompts=prompts, model=model)
    engine.goto("step-2")
    engine.state.started = False  # the opening asks step 2 with the model's invitation
    done = _check(await _turn(engine.start()))
    assert done is not None
    assert "Three tenants share one GPU" in done.text
    assert "most fair" not in done.text and done.replaced


async def test_a_hosted_model_may_complete_a_reading_the_reader_could_not(
    prompts: PromptSet,
) -> None:
    from tutor.gateway.types import ToolCall

    plan = load_plan(LESSONS["lesson-23"])
    call = ToolCall(id="1", name="mig_capacity",
                    arguments='{"gpu": "H100-94GB", "profile": "1g.12gb"}')  # fmt: skip
    model = ScriptedModel(NOTE, name="openai/hosted", local=False, tool_calls=[call])
    engine = Engine(plan=plan, prompts=prompts, model=model)
    engine.leave_lesson()
    events = await _turn(engine.send("How many of the small ones fit on my H100?"))
    done = _check(events)
    assert done is not None and done.phase == "ask"
    reading = next(e for e in events if e.type == "reading")
    assert reading.kind == "calculator" and reading.tool == "mig_capacity"  # type: ignore[union-attr]
    assert all(a.source == "assumed" for a in reading.assumed) and reading.assumed  # type: ignore[union-attr]
    assert "I read this as:" in done.text and "read by openai/hosted" in done.text
    assert not [e for e in events if e.type == "tool_result"], "still predict first"


async def test_an_invalid_proposal_is_a_clarifying_question(prompts: PromptSet) -> None:
    from tutor.gateway.types import ToolCall

    plan = load_plan(LESSONS["lesson-23"])
    call = ToolCall(id="1", name="mig_capacity", arguments='{"gpu": "H100-94GB"}')
    model = ScriptedModel(NOTE, name="openai/hosted", local=False, tool_calls=[call])
    engine = Engine(plan=plan, prompts=prompts, model=model)
    engine.leave_lesson()
    events = await _turn(engine.send("How many of the small ones fit on my H100?"))
    reading = next(e for e in events if e.type == "reading")
    assert reading.kind == "clarify"  # type: ignore[union-attr]


async def test_a_free_answer_says_when_only_the_keyword_search_answered(
    prompts: PromptSet,
) -> None:
    from tutor.engine.events import Citation

    class _Hit:
        def to_citation(self) -> Citation:
            return Citation(id="k", title="Notes", section="Replicas",
                            text="Time-slicing advertises replicas of one GPU.")  # fmt: skip

    class _Loading:
        last_mode = "keyword"

        def search(self, query: str, k: int = 5, **_: object) -> list[_Hit]:
            return [_Hit()]

    plan = load_plan(LESSONS["lesson-23"])
    engine = Engine(plan=plan, prompts=prompts, model=ScriptedModel(NOTE, name="local/x"),
                    retriever=_Loading())  # fmt: skip
    engine.leave_lesson()
    done = _check(await _turn(engine.send("What does time-slicing advertise?")))
    assert done is not None and "keyword search: the full search is still loading" in done.text
    _Loading.last_mode = "hybrid"
    done = _check(await _turn(engine.send("What does time-slicing advertise?")))
    assert done is not None and "keyword search" not in done.text
