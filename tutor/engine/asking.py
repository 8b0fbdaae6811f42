"""The learner's own questions: calculator questions (predict first), clarifications and
free questions answered from the sources."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from tutor.engine.events import Event, PhaseChanged, PredictionRequested, Retrieved, Verdict
from tutor.engine.guards import settles_pending
from tutor.engine.plan import CalculatorKey
from tutor.engine.replies import (
    NUMERIC_FIELDS,
    display,
    excerpt_answer,
    explain_result,
    facts_text,
    field_value,
    guess_hint,
    numeric_misconception,
    outcome_text,
    passages_text,
    same_answer,
    sources_line,
)
from tutor.engine.state import FreeQuestion
from tutor.engine.turn import TurnWriter
from tutor.engine.wording import Note
from tutor.gateway.types import GatewayError
from tutor.reading import Reading, describe

if TYPE_CHECKING:
    from tutor.engine.engine import Engine


async def calculator_question(
    eng: Engine, turn: TurnWriter, reading: Reading
) -> AsyncIterator[Event]:
    """Predict first, unless the message corrects a question the learner already
    predicted: that one is recomputed at once."""
    call = reading.call
    assert call is not None
    state = eng.flow.state
    key = CalculatorKey(tool=call.tool, arguments=call.arguments, field=call.field,
                        unit=call.unit)  # fmt: skip
    already_guessed = reading.correction and state.free is None and state.last_guess is not None
    if not reading.correction:
        state.last_guess = None
    state.last_call = call.model_dump(mode="json")
    state.last_arguments = [a.model_dump(mode="json") for a in reading.arguments]
    state.free = FreeQuestion(text=reading.text, summary=reading.summary, key=key,
                              reading=describe(reading))  # fmt: skip
    if already_guessed:
        assert state.last_guess is not None
        state.free.committed = state.last_guess
        async for event in reveal_free(eng, turn, state.last_guess, recomputed=True):
            yield event
        return
    async for event in ask_free(eng, turn):
        yield event


async def ask_free(eng: Engine, turn: TurnWriter) -> AsyncIterator[Event]:
    free = eng.flow.state.free
    assert free is not None
    turn.at("ask", "free")
    yield PhaseChanged(phase="ask", step_id="free", step_title="Your question")
    for delta in turn.block(free.reading):
        yield delta
    text = (
        "Good question, and it has one right answer. Before I work it out, commit a guess:"
        f"\n\n**{free.summary}**\n\n{guess_hint(free.key)}"
    )
    for delta in turn.block(text):
        yield delta
    yield PredictionRequested(
        step_id="free", question=free.summary, numeric=free.key.field in NUMERIC_FIELDS
    )


async def reveal_free(eng: Engine, turn: TurnWriter, guess: str,
                      recomputed: bool = False) -> AsyncIterator[Event]:  # fmt: skip
    flow = eng.flow
    state = flow.state
    free = state.free
    assert free is not None
    state.last_guess = guess
    turn.at("reveal", "free")
    yield PhaseChanged(phase="reveal", step_id="free", step_title="Your question")
    record = eng.run_tool(free.key.tool, free.key.arguments)
    turn.tools.append(record)
    for event in eng.tool_events(record):
        yield event
    value = field_value(record, free.key.field)
    citations = await eng.sources.search(free.text, k=3, revealed=flow.revealed)
    if citations:
        turn.cite(citations)
        yield Retrieved(citations=citations)
    outcome = outcome_text(free.key, record)
    if value is None and outcome.unknown:
        answer, correct = "unknown", False
        head = outcome.text
    else:
        answer = display(value, free.key.unit, free.key.field)
        correct = same_answer(guess, value, 0.0)
        verdict = "**Right!**" if correct else "**Not quite.**"
        head = f"{verdict} You guessed {guess}; the calculator says **{answer}**."
        if outcome.text:
            head += " " + outcome.text
    misconception = None if correct or value is None else numeric_misconception(guess, value)
    yield Verdict(step_id="free", guess=guess, answer=answer, correct=correct,
                  misconception=misconception)  # fmt: skip
    # The reading first, so the learner sees what was computed before the result.
    for delta in turn.block(free.reading):
        yield delta
    if recomputed:
        for delta in turn.block(f"Recomputed with your correction (your guess was {guess})."):
            yield delta
    for delta in turn.block(head + (f" {misconception}" if misconception else "")):
        yield delta
    explanation = explain_result(free.key, record)
    for delta in turn.block(explanation):
        yield delta
    if record.diagram:
        for delta in turn.block(f"```\n{record.diagram}\n```"):
            yield delta
    facts = facts_text(record)
    allowed = [facts, free.text, guess, answer, explanation, *(c.text for c in citations)]
    note = Note()
    failure: GatewayError | None = None
    try:
        async for text in eng.wording.note(
            note, "reveal",
            dict(step_title="Your question", question=free.summary, guess=guess,
                 verdict="right" if correct else "not right", answer=answer,
                 explanation=explanation, facts=facts, passages=eng.prompt_passages(citations)),
            key=None, allowed=allowed, max_tokens=80,
        ):  # fmt: skip
            yield turn.write(text)
    except GatewayError as exc:
        failure = exc  # the verdict is out; the rest is code and is still given
    turn.replaced = turn.replaced or note.cut
    state.free = None
    state.phase = flow.resting_phase()
    for delta in turn.block(sources_line(citations, calculator=True)):
        yield delta
    for delta in turn.block(flow.back_to_lesson()):
        yield delta
    for event in flow.back_events():
        yield event
    if failure is not None:
        raise failure


async def clarify(eng: Engine, turn: TurnWriter, question: str) -> AsyncIterator[Event]:
    turn.at("ask" if eng.flow.awaiting_guess else eng.flow.state.phase, eng.flow.step_id)
    for delta in turn.block(question):
        yield delta
    for event in eng.flow.prediction_events():
        yield event


async def answer_free(eng: Engine, turn: TurnWriter, question: str) -> AsyncIterator[Event]:
    flow = eng.flow
    previous = flow.state.phase
    turn.at("free", flow.step_id)
    yield PhaseChanged(phase="free", step_id=flow.step_id)
    key = eng.pending_key()
    if key is not None and settles_pending(question, key):
        # Answering now would settle the prediction: it is answered after the reveal.
        for delta in turn.block("That's what you're predicting now: commit a guess first, and "
                                "I'll answer it fully after the reveal."):  # fmt: skip
            yield delta
        for delta in turn.block(flow.pending_prompt()):
            yield delta
        for event in flow.back_events():
            yield event
        return
    citations = await eng.sources.for_question(question, key, revealed=flow.revealed)
    if citations:
        turn.cite(citations)
        yield Retrieved(citations=citations)
    facts = ""
    if eng.offer_tools:
        values = dict(question=question, passages=passages_text(citations), facts="")
        records = await eng.wording.tool_round(values, eng.run_tool)
        for record in records:
            turn.tools.append(record)
            for event in eng.tool_events(record):
                yield event
        facts = "\n".join(facts_text(r) for r in records)
    allowed = [question, facts, *(c.text for c in citations)]
    note = Note()
    first = True
    async for text in eng.wording.note(
        note, "free", dict(question=question, passages=passages_text(citations), facts=facts),
        key=key, allowed=allowed, max_tokens=128, first_lead="",
    ):  # fmt: skip
        if first:
            for delta in turn.block(text):
                yield delta
        else:
            yield turn.write(text)
        first = False
    turn.replaced = turn.replaced or note.cut or not note.text
    if not note.text or (eng.wording.strict and citations):
        # Nothing the model said survived the guards, or the embedded model is kept to its
        # sources: quote the best passage.
        for delta in turn.block(excerpt_answer(citations, question)):
            yield delta
    if citations:
        line = sources_line(citations)
        if eng.sources.last_mode == "keyword":
            # Said plainly: the dense search was still loading, so only words were matched.
            line += " (keyword search: the full search is still loading)"
        for delta in turn.block(line):
            yield delta
    for delta in turn.block(flow.back_to_lesson()):
        yield delta
    flow.state.phase = previous
    for event in flow.back_events():
        yield event
