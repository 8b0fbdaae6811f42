"""The lesson's own turns: ask a step, reveal it, judge recall, move on.

Each turn handler writes its text through the turn writer and yields the typed events
the faces need; the coordinator (engine.py) finishes and saves the turn.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from tutor.engine.events import (
    Event,
    Phase,
    PhaseChanged,
    Retrieved,
    TextDelta,
    ToolRecord,
    Verdict,
)
from tutor.engine.flow import step_phase
from tutor.engine.plan import Step
from tutor.engine.replies import (
    INVITATION_WORDS,
    display,
    facts_text,
    field_value,
    guess_hint,
    numeric_misconception,
    options_hint,
    options_text,
    same_answer,
    sources_line,
)
from tutor.engine.state import StepOutcome
from tutor.engine.turn import TurnWriter
from tutor.engine.wording import Note
from tutor.gateway.types import GatewayError
from tutor.reading import Reading

if TYPE_CHECKING:
    from tutor.engine.engine import Engine


async def opening(eng: Engine, turn: TurnWriter) -> AsyncIterator[Event]:
    flow = eng.flow
    step = flow.step
    if flow.state.started and step is not None:
        for delta in turn.block("Welcome back. We were here:\n\n" + flow.pending_prompt()):
            yield delta
    elif step is None:
        for delta in turn.block(eng.plan.closing):
            yield delta
    else:
        flow.state.started = True
        lead = f"**{eng.plan.title}.** {eng.plan.win}\n\n{eng.plan.intro}"
        async for event in ask_step(eng, turn, step, lead=lead):
            yield event
        return
    for event in flow.prediction_events():
        yield event


async def ask_step(
    eng: Engine, turn: TurnWriter, step: Step, lead: str = ""
) -> AsyncIterator[Event]:
    state = eng.flow.state
    phase = step_phase(step)
    state.phase = phase
    state.committed = None
    turn.mark(phase, step.id)
    yield PhaseChanged(phase=phase, step_id=step.id, step_title=step.title)
    if lead:
        for delta in turn.block(lead):
            yield delta
    if step.kind == "step":
        note = Note()
        first = True
        async for text in eng.wording.note(
            note, "ask",
            dict(step_title=step.title, concept=step.concept, question=step.question,
                 options=options_text(step)),
            key=eng.answer_key(step), max_tokens=48,
            allowed=[step.question, step.concept, options_text(step), INVITATION_WORDS],
            first_lead="",
        ):  # fmt: skip
            if first:
                for delta in turn.block(text):
                    yield delta
            else:
                yield turn.write(text)
            first = False
        turn.replaced = turn.replaced or note.cut
    for delta in turn.block(eng.flow.question_block(step)):
        yield delta
    for event in eng.flow.prediction_events():
        yield event


async def insist(eng: Engine, turn: TurnWriter, question: str, *, free: bool,
                 nudge: bool = False) -> AsyncIterator[Event]:  # fmt: skip
    # Requests for the answer, claimed authority and injected instructions all land here:
    # the gate is code, so no wording opens it.
    state = eng.flow.state
    if nudge:
        head = "I didn't catch a guess there."
    else:
        head = ("I'll reveal it right after you commit a guess: even a wrong guess makes the "
                "answer stick.")  # fmt: skip
    step = eng.flow.step
    hint = (
        guess_hint(state.free.key)
        if free and state.free
        else (options_hint(step) if step and step.kind == "step" else "")
    )
    turn.at("ask" if free or state.phase == "ask" else state.phase,
            "free" if free else eng.flow.step_id)  # fmt: skip
    for delta in turn.block(f"{head}\n\n**{question}**" + (f"\n\n{hint}" if hint else "")):
        yield delta
    for event in eng.flow.prediction_events():
        yield event


async def reveal_step(
    eng: Engine, turn: TurnWriter, step: Step, guess: str
) -> AsyncIterator[Event]:
    state = eng.flow.state
    state.phase = "reveal"
    turn.at("reveal", step.id)
    yield PhaseChanged(phase="reveal", step_id=step.id, step_title=step.title)
    facts = ""
    if step.numeric is not None:
        record = eng.run_tool(step.numeric.tool, step.numeric.arguments)
        for event in eng.tool_events(record):
            yield event
        turn.tools.append(record)
        answer_value = field_value(record, step.numeric.field)
        answer = display(answer_value, step.numeric.unit, step.numeric.field)
        correct = same_answer(guess, answer_value, step.tolerance)
        misconception = None if correct else numeric_misconception(guess, answer_value)
        facts = facts_text(record)
    else:
        right = step.correct_option
        assert right is not None
        answer = f"{right.key}) {right.text}"
        chosen = next((o for o in step.options if o.key == guess), None)
        correct = guess == right.key
        misconception = None if correct or chosen is None else chosen.misconception
    # Once the reveal has started the guess is committed and its verdict recorded, so a
    # provider error later in the turn cannot hand the learner a second first guess.
    outcome = state.outcomes.setdefault(step.id, StepOutcome())
    outcome.attempts += 1
    outcome.guess, outcome.answer, outcome.correct = guess, answer, correct
    eng.journal.outcome(step.id, "guess", guess, correct, outcome.attempts)
    state.committed = None
    citations = await eng.sources.for_step(step, revealed=eng.flow.state.step_index + 1)
    if citations:
        turn.cite(citations)
        yield Retrieved(citations=citations)
    yield Verdict(step_id=step.id, guess=guess, answer=answer, correct=correct,
                  misconception=misconception)  # fmt: skip
    if correct:
        head = f"**Right!** You guessed {guess}, and the answer is **{answer}**."
    else:
        head = f"**Not quite.** You guessed {guess}; the answer is **{answer}**."
    # The verdict and the facts come first, so the learner reads while the model words.
    for part in (head, misconception or "", step.explanation):
        for delta in turn.block(part):
            yield delta
    allowed = [step.explanation, step.question, facts, guess, answer, *(c.text for c in citations)]
    note = Note()
    failure: GatewayError | None = None
    try:
        async for text in eng.wording.note(
            note, "reveal",
            dict(step_title=step.title, question=step.question, guess=guess,
                 verdict="right" if correct else "not right", answer=answer,
                 explanation=step.explanation, facts=facts,
                 passages=eng.prompt_passages(citations)),
            key=None, allowed=allowed, max_tokens=96,
        ):  # fmt: skip
            yield turn.write(text)
    except GatewayError as exc:
        # The verdict is out: the rest of the reveal is code, so it is still given, and
        # the error is raised once the turn is whole.
        failure = exc
    turn.replaced = turn.replaced or note.cut
    for delta in turn.block(sources_line(citations)):
        yield delta
    # Recall follows the reveal in the same turn so the learner retrieves it at once.
    if step.recall is not None:
        state.phase = "recall"
        yield PhaseChanged(phase="recall", step_id=step.id, step_title=step.title)
        for delta in turn.block(f"**Recall:** {step.recall.question}"):
            yield delta
    else:
        async for event in advance(eng, turn):
            yield event
    if failure is not None:
        raise failure


async def advance(eng: Engine, turn: TurnWriter) -> AsyncIterator[Event]:
    """Move to the next step and ask it; at the end, close the lesson."""
    nxt = eng.flow.advance()
    if nxt is None:
        yield PhaseChanged(phase="done")
        for delta in turn.block(eng.plan.closing):
            yield delta
        return
    ruled = _Ruled(turn)
    async for event in ask_step(eng, ruled, nxt):  # type: ignore[arg-type]
        yield event


class _Ruled:
    """A view of the turn whose first paragraph starts after a horizontal rule."""

    def __init__(self, turn: TurnWriter) -> None:
        self._turn = turn
        self._first = True

    def block(self, text: str) -> list[TextDelta]:
        if not text:
            return []
        if self._first:
            self._first = False
            return [self._turn.rule(text)]
        return self._turn.block(text)

    def write(self, text: str) -> TextDelta:
        if self._first:
            self._first = False
            return self._turn.rule(text)
        return self._turn.write(text)

    def __getattr__(self, name: str) -> object:
        return getattr(self._turn, name)


async def grade(eng: Engine, turn: TurnWriter, step: Step, answer: str) -> AsyncIterator[Event]:
    from tutor.grading import Rubric, feedback
    from tutor.grading import grade as judge

    state = eng.flow.state
    rubric = Rubric.from_step(step)
    result = judge(answer, rubric)
    if step.kind == "teach_back":
        model_answer = step.model_answer or step.explanation
    else:
        model_answer = step.recall.answer if step.recall else step.explanation
    phase: Phase = "teach_back" if step.kind == "teach_back" else "recall"
    turn.at(phase, step.id)
    graded = result.to_event(step.id)
    unsure = result.verdict == "cant_tell"
    if unsure:
        graded = graded.model_copy(update={"self_check": True})
    yield graded
    passed = result.verdict == "right"
    hits = [p.description for p in graded.points if p.status == "said"]
    outcome = state.outcomes.setdefault(step.id, StepOutcome())
    outcome.recall_ok, outcome.hits = (None if unsure else passed), hits
    outcome.points = {p.point_id: p.status for p in graded.points}
    outcome.misconceptions = [c.claim_id for c in graded.contradictions]
    if step.kind != "step":
        outcome.guess, outcome.answer = answer[:200], model_answer
        outcome.correct = None if unsure else passed
    eng.journal.outcome(step.id, step.kind if step.kind != "step" else "recall", answer[:500],
                        passed, outcome.attempts + 1)  # fmt: skip
    eng.journal.grade(graded)
    citations = (
        await eng.sources.for_step(step, revealed=state.step_index + 1)
        if step.kind != "step" else []
    )  # fmt: skip
    if citations:
        turn.cite(citations)
        yield Retrieved(citations=citations)
    for delta in turn.block(feedback(result, rubric, eng.source_titles)):
        yield delta
    if unsure:
        # The learner checks their own answer; the lesson moves on once they have.
        state.self_check = step.id
        return
    note = Note()
    misses = ", ".join(p.description for p in graded.points if p.status != "said") or "none"
    async for text in eng.wording.note(
        note, "teach_back" if step.kind == "teach_back" else "recall",
        dict(question=rubric.question, learner_answer=answer, model_answer=model_answer,
             hits=", ".join(hits) or "none", misses=misses),
        key=None, allowed=[model_answer, answer, rubric.question], max_tokens=64,
    ):  # fmt: skip
        # A model's encouragement never follows a named misconception.
        if result.verdict != "contradicts":
            yield turn.write(text)
    turn.replaced = turn.replaced or note.cut
    if citations:
        for delta in turn.block(sources_line(citations)):
            yield delta
    async for event in advance(eng, turn):
        yield event


async def self_check(eng: Engine, turn: TurnWriter, step: Step, text: str) -> AsyncIterator[Event]:
    from tutor.grading import Rubric, read_self_check, self_check_summary

    state = eng.flow.state
    rubric = Rubric.from_step(step)
    answers = read_self_check(text, len(rubric.points))
    turn.at("teach_back" if step.kind == "teach_back" else "recall", step.id)
    if answers is None:
        reply = (f"Reply with yes or no for each of the {len(rubric.points)} points, "
                 "for example \"yes, no, yes\".")  # fmt: skip
        for delta in turn.block(reply):
            yield delta
        return
    state.self_check = None
    outcome = state.outcomes.setdefault(step.id, StepOutcome())
    outcome.self_check = {p.id: ok for p, ok in zip(rubric.points, answers, strict=True)}
    eng.journal.outcome(step.id, "self_check", " ".join("yes" if a else "no" for a in answers),
                        all(answers), outcome.attempts + 1)  # fmt: skip
    eng.journal.self_check(step.id, [p.id for p in rubric.points], answers)
    for delta in turn.block(self_check_summary(answers, rubric)):
        yield delta
    async for event in advance(eng, turn):
        yield event


async def command(eng: Engine, turn: TurnWriter, reading: Reading) -> AsyncIterator[Event]:
    flow = eng.flow
    step = flow.step
    state = flow.state
    if reading.command == "skip" and step is not None and state.phase in ("recall", "teach_back"):
        strong = (step.recall.answer if state.phase == "recall" and step.recall
                  else step.model_answer or step.explanation)  # fmt: skip
        turn.at(state.phase, step.id)
        for delta in turn.block(f"Skipped. A strong answer: {strong}"):
            yield delta
        eng.journal.outcome(step.id, "skip", "", False, 1)
        async for event in advance(eng, turn):
            yield event
        return
    if reading.command == "hint" and step is not None and flow.awaiting_guess:
        text = f"A hint, not the answer: {step.concept}\n\n**{step.question}**"
        hint = options_hint(step)
        for delta in turn.block(text + (f"\n\n{hint}" if hint else "")):
            yield delta
        for event in flow.prediction_events():
            yield event
        return
    if reading.command in ("repeat", "back", "hint"):
        for delta in turn.block(flow.pending_prompt()):
            yield delta
        for event in flow.prediction_events():
            yield event
        return
    # skip or wants_answer while a guess is pending: the gate holds.
    async for event in insist(eng, turn, flow.pending_question(), free=False):
        yield event


__all__ = ["ToolRecord", "advance", "ask_step", "command", "grade", "insist", "opening",
           "reveal_step", "self_check"]  # fmt: skip
