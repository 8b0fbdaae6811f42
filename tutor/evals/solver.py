"""The solver: play one case against a fresh engine and record a transcript."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any, Literal

from tutor.engine.engine import Engine
from tutor.engine.events import (
    Event,
    PredictionRequested,
    ToolRecord,
    TurnDone,
    TurnFailed,
    Verdict,
)
from tutor.engine.numbers import normalise
from tutor.engine.plan import CalculatorKey, LessonPlan, Step
from tutor.evals.cases import Case, fill_answer
from tutor.evals.personas import make_persona
from tutor.evals.transcript import (
    EngineView,
    PendingKey,
    Transcript,
    TurnRecord,
    calculate_field,
)


def _number(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return normalise(float(value))


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
        id="free", number=_number(value), phrases=phrases, shown_text=f"{summary}\n{question}"
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
    texts: list[str] = []
    async for event in events:
        if isinstance(event, Verdict):
            record.verdicts.append(event)
        elif isinstance(event, PredictionRequested):
            record.predictions.append(event)
        elif isinstance(event, TurnFailed):
            record.failed = event.message
        elif isinstance(event, TurnDone):
            texts.append(event.text)
            record.phase = event.phase
            record.step_id = event.step_id
            record.citations.extend(event.citations)
            record.tool_calls.extend(ToolRecord.model_validate(t) for t in event.tool_calls)
            record.replaced = record.replaced or event.replaced
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


async def solve(case: Case, engine: Engine, plan: LessonPlan) -> Transcript:
    """Run the case's turns (or its persona) and return everything that happened."""
    started = time.perf_counter()
    answer = case_answer(case, plan)
    transcript = Transcript(
        case_id=case.id,
        model=engine.model.name,
        prompt_hash=engine.prompts.digest,
        answer_value=answer,
    )
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
                action = persona.next(view(engine))
                if action is None:
                    break
                kind, text = action
                transcript.turns.append(await play_turn(engine, len(transcript.turns), kind, text))
        else:
            for turn in case.turns:
                text = fill_answer(turn.text, answer)
                act: Literal["say", "commit"] = "say" if turn.say is not None else "commit"
                transcript.turns.append(await play_turn(engine, len(transcript.turns), act, text))
    except Exception as exc:  # a crash is a result to score, not a reason to stop the suite
        transcript.error = f"{type(exc).__name__}: {exc}"
    transcript.final = view(engine)
    transcript.progress = {p.step_id: p.status for p in engine.progress()}
    transcript.seconds = time.perf_counter() - started
    return transcript


def expected_turn_index(case: Case, transcript: Transcript, case_turn: int) -> int | None:
    """Map a case's turn number to the transcript's (turn 0 may be the opening)."""
    offset = 0 if case.start == "free" else 1
    index = case_turn + offset
    return index if index < len(transcript.turns) else None
