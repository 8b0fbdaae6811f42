"""The solver: play one case against a fresh engine and record a transcript."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any, Literal

from tutor.engine.engine import Engine
from tutor.engine.events import (
    Event,
    Option,
    PhaseChanged,
    TextDelta,
    ToolRecord,
    TurnDone,
    TurnFailed,
)
from tutor.engine.plan import CalculatorKey, LessonPlan, Step
from tutor.evals.cases import Case, calc_refs, fill_answer
from tutor.evals.personas import make_persona
from tutor.evals.transcript import (
    EngineView,
    PendingKey,
    Segment,
    Transcript,
    TurnRecord,
    calculate_field,
    calculator_error,
)


class CaseProblem(Exception):
    """The case cannot be played as written (an unknown tool, an answer the calculator
    does not have): a case error, reported apart from a crash of the tutor."""


def _number(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    # One spelling per value, written here rather than borrowed from the engine.
    return f"{float(value):.2f}".rstrip("0").rstrip(".")


def step_key(step: Step) -> PendingKey:
    """The step's answer key, built from the plan and the calculator (not from the engine)."""
    right = step.correct_option
    number = None
    if step.numeric is not None:
        number = _number(
            calculate_field(step.numeric.tool, step.numeric.arguments, step.numeric.field)
        )
    return PendingKey(
        id=step.id,
        option_key=right.key if right else None,
        option_text=right.text if right else None,
        number=number,
        phrases=list(step.key_phrases),
        question=[step.question],
        options=[Option(key=o.key, text=o.text) for o in step.options],
        shown_text="\n".join([step.question, *(o.text for o in step.options)]),
    )


def free_key(key: CalculatorKey, summary: str, question: str) -> PendingKey:
    value = calculate_field(key.tool, key.arguments, key.field)
    phrases: list[str] = []
    if isinstance(value, bool):
        phrases = ["yes, valid"] if value else ["no, not valid"]
    elif isinstance(value, str):
        phrases = [value]
    return PendingKey(
        id="free",
        number=_number(value),
        phrases=phrases,
        question=[summary, question],
        shown_text=f"{summary}\n{question}",
    )


def view(engine: Engine) -> EngineView:
    pending: list[PendingKey] = []
    free = engine.free_question
    if free is not None and free.committed is None:
        pending.append(free_key(free.key, free.summary, free.text))
    step = engine.step
    if (
        step is not None
        and step.kind == "step"
        and engine.phase == "ask"
        and engine.committed_guess is None
    ):
        pending.append(step_key(step))
    return EngineView(
        step_id=engine.step_id, phase=engine.phase, awaiting=engine.awaiting_guess, pending=pending
    )


async def _collect(record: TurnRecord, events: AsyncIterator[Event]) -> TurnRecord:
    """Keep every typed event, and split the streamed text at each phase event, so a
    scorer can tell the reveal from the next question without reading the Markdown."""
    texts: list[str] = []
    segment = Segment(phase=record.before.phase, step_id=record.before.step_id)
    record.segments.append(segment)
    async for event in events:
        if isinstance(event, TextDelta):
            segment.text += event.text
            continue
        if isinstance(event, PhaseChanged):
            segment = Segment(phase=event.phase, step_id=event.step_id)
            record.segments.append(segment)
        if isinstance(event, TurnDone):
            texts.append(event.text)
            record.phase = event.phase
            record.step_id = event.step_id
            record.citations.extend(event.citations)
            record.tool_calls.extend(ToolRecord.model_validate(t) for t in event.tool_calls)
            record.replaced = record.replaced or event.replaced
            record.prompts_rendered.extend(
                p for p in event.prompts_rendered if p not in record.prompts_rendered
            )
            continue
        if isinstance(event, TurnFailed):
            record.failed = event.message
        record.events.append(event)
    record.segments = [s for s in record.segments if s.text]
    record.text = "\n\n".join(texts)
    return record


async def play_turn(
    engine: Engine, index: int, action: Literal["start", "say", "commit"], text: str = ""
) -> TurnRecord:
    started = time.perf_counter()
    before = view(engine)
    record = TurnRecord(index=index, action=action, learner=text, before=before, after=before)
    if action == "start":
        await _collect(record, engine.start())
    elif action == "say":
        await _collect(record, engine.send(text))
    else:
        result = engine.commit(text)
        if result.accepted:
            await _collect(record, engine.reveal())
        else:
            record.commit_rejected = result.message or "rejected"
    record.after = view(engine)
    record.seconds = time.perf_counter() - started
    return record


def case_answer(case: Case, plan: LessonPlan) -> Any:
    """The value {answer} stands for: the case's calculator call, else its step's key."""
    if case.calc is not None:
        return calculate_field(case.calc.tool, case.calc.arguments, case.calc.field)
    step_id = case.start_step
    if step_id is not None:
        numeric = plan.step(step_id).numeric
        if numeric is not None:
            return calculate_field(numeric.tool, numeric.arguments, numeric.field)
    return None


def check_case(case: Case, plan: LessonPlan) -> None:
    """Raise CaseProblem when a calculator reference of the case gives no answer."""
    for where, ref in calc_refs(case):
        why = calculator_error(ref.tool, ref.arguments, ref.field)
        if why is not None:
            raise CaseProblem(f"field '{where}': {why}")


async def solve(case: Case, engine: Engine, plan: LessonPlan) -> Transcript:
    """Run the case's turns (or its persona) and return everything that happened."""
    started = time.perf_counter()
    transcript = Transcript(
        case_id=case.id, model=engine.model.name, prompt_hash=engine.prompts.digest
    )
    try:
        check_case(case, plan)
        answer = case_answer(case, plan)
        texts = [fill_answer(turn.text, answer) for turn in case.turns]
    except (CaseProblem, ValueError) as exc:
        transcript.error = f"case error: {exc}"
        transcript.error_kind = "case"
        transcript.seconds = time.perf_counter() - started
        return transcript
    transcript.answer_value = answer
    try:
        if case.start == "free":
            engine.leave_lesson()
        elif case.start != "beginning":
            step_id = case.start_step
            assert step_id is not None
            engine.goto(step_id, phase=case.start_phase)
        if case.start != "free":
            # The opening (or "we were here") shows the pending question: the learner's
            # first message answers something the transcript has.
            transcript.turns.append(await play_turn(engine, 0, "start"))
        if case.persona is not None:
            persona = make_persona(case.persona, plan)
            while len(transcript.turns) <= case.max_turns:
                action = persona.next(
                    view(engine), transcript.turns[-1] if transcript.turns else None
                )
                if action is None:
                    break
                kind, text = action
                transcript.turns.append(await play_turn(engine, len(transcript.turns), kind, text))
        else:
            for turn, text in zip(case.turns, texts, strict=True):
                act: Literal["say", "commit"] = "say" if turn.say is not None else "commit"
                transcript.turns.append(await play_turn(engine, len(transcript.turns), act, text))
    except Exception as exc:  # a crash fails the case (and the gate), not the whole suite
        transcript.error = f"{type(exc).__name__}: {exc}"
        transcript.error_kind = "crash"
    transcript.final = view(engine)
    transcript.progress = {p.step_id: p.status for p in engine.progress()}
    transcript.seconds = time.perf_counter() - started
    return transcript


def expected_turn_index(case: Case, transcript: Transcript, case_turn: int) -> int | None:
    """Map a case's turn number to the transcript's (turn 0 may be the opening)."""
    offset = 0 if case.start == "free" else 1
    index = case_turn + offset
    return index if index < len(transcript.turns) else None
