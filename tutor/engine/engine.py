"""The Socratic engine: predict first, then reveal, with the truth decided in code.

The answer key, the verdict on a guess, the numbers and the citations come from the
lesson plan, the calculator and the corpus. The model only words a short note around
them, and every word it writes passes the reveal gate and the grounded-number check
before anyone sees it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, Protocol

from tutor.engine.events import (
    Citation,
    Event,
    Option,
    Phase,
    PhaseChanged,
    PredictionRequested,
    ReadingArgument,
    ReadingShown,
    Retrieved,
    TextDelta,
    ToolCalled,
    ToolRecord,
    ToolResult,
    TurnDone,
    TurnFailed,
    Verdict,
)
from tutor.engine.guards import (
    AnswerKey,
    is_meta,
    leaks,
    settles_pending,
    supported,
    ungrounded_numbers,
    withhold_passage,
)
from tutor.engine.numbers import first_number, normalise
from tutor.engine.plan import CalculatorKey, LessonPlan, Step
from tutor.engine.prompts import PromptSet
from tutor.engine.protocol import CommitResult, StepProgress, StepStatus, TranscriptEntry
from tutor.engine.record import Outcome, Record
from tutor.engine.state import EngineState, FreeQuestion, StepOutcome
from tutor.gateway.types import ChatModel, GatewayError, Message
from tutor.reading import Argument, Context, Reading, ToolCall, describe, guess_for_field, read


class _Note:
    """What survived of the model's words in one turn."""

    def __init__(self) -> None:
        self.sentences: list[str] = []
        self.cut = False

    @property
    def text(self) -> str:
        return " ".join(self.sentences)


class Hit(Protocol):
    def to_citation(self) -> Citation: ...


class Retriever(Protocol):
    def search(
        self,
        query: str,
        k: int = 5,
        *,
        topics: list[str] | None = None,
        kinds: list[str] | None = None,
    ) -> Sequence[Hit]: ...


class ToolOutcomeLike(Protocol):
    ok: bool
    result: dict[str, Any] | None
    error: str | None
    diagram: str | None


ToolRunner = Callable[[str, dict[str, Any]], ToolOutcomeLike]

_STOPWORDS = frozenset(
    [
        "the",
        "and",
        "for",
        "are",
        "was",
        "what",
        "how",
        "does",
        "why",
        "which",
        "when",
        "with",
        "that",
        "this",
        "from",
        "into",
        "can",
        "you",
        "your",
        "one",
        "two",
        "its",
        "not",
        "but",
        "has",
        "have",
        "will",
        "would",
        "should",
        "about",
        "there",
        "their",
        "them",
        "they",
    ]
)
_INVITATION_WORDS = (
    "guess predict commit pick choose option letter think moment first reveal wrong fine "
    "stick learn hunch try take ready"
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_NUMERIC_FIELDS = frozenset({"count", "max_sequences", "max_instances", "profiles", "layouts",
                             "gpus_needed"})  # fmt: skip
_PHASE_LABEL = {"ask": "asking", "reveal": "revealed", "recall": "recall",
                "teach_back": "teach-back", "free": "answer", "done": "done"}  # fmt: skip


def _default_tools() -> ToolRunner:
    from tutor.mig.tools import dispatch

    return dispatch


class Engine:
    """One learner's session through one lesson plan."""

    def __init__(
        self,
        *,
        plan: LessonPlan,
        prompts: PromptSet,
        model: ChatModel,
        retriever: Retriever | None = None,
        record: Record | None = None,
        tools: ToolRunner | None = None,
        session_id: str | None = None,
        offer_tools: bool | None = None,
        strict_wording: bool | None = None,
    ) -> None:
        self.plan = plan
        self.prompts = prompts
        self.model = model
        self.retriever = retriever
        self.record = record
        self._tools = tools
        # A 135M model garbles tool calls; strong hosted models get the calculator as tools.
        self.offer_tools = (not model.is_local) if offer_tools is None else offer_tools
        # The embedded 135M model drifts: its sentences must stay close to the sources'
        # words, and free answers quote the best passage before anything it says.
        embedded = model.name.startswith("local/")
        self.strict_wording = embedded if strict_wording is None else strict_wording
        self.state = EngineState()
        self._transcript: list[TranscriptEntry] = []
        # The prompt files rendered in the current turn, so a teacher can see which of
        # their edits a reply could have been shaped by.
        self._rendered: list[str] = []
        if record is not None:
            if session_id and record.has_session(session_id):
                self._session_id = session_id
                self._restore()
            else:
                self._session_id = record.new_session(plan.id, model.name)
        else:
            self._session_id = session_id or "unsaved"

    # ------------------------------------------------------------------ surface

    @property
    def session_id(self) -> str:
        return self._session_id

    @property
    def phase(self) -> Phase:
        return self.state.phase

    @property
    def step(self) -> Step | None:
        if self.state.step_index < len(self.plan.steps):
            return self.plan.steps[self.state.step_index]
        return None

    @property
    def step_id(self) -> str | None:
        step = self.step
        return step.id if step else None

    @property
    def committed_guess(self) -> str | None:
        if self.state.free is not None:
            return self.state.free.committed
        return self.state.committed

    def progress(self) -> list[StepProgress]:
        out: list[StepProgress] = []
        for i, step in enumerate(self.plan.steps):
            outcome = self.state.outcomes.get(step.id)
            status: StepStatus
            if i == self.state.step_index and self.state.phase != "done":
                status = "current"
            elif outcome is None or i > self.state.step_index:
                status = "pending"
            elif outcome.correct is None:
                status = "done"
            else:
                status = "right" if outcome.correct else "wrong"
            out.append(
                StepProgress(
                    step_id=step.id,
                    title=step.title,
                    kind=step.kind,
                    status=status,
                    guess=outcome.guess if outcome else None,
                    answer=outcome.answer if outcome else None,
                )
            )
        return out

    @property
    def free_question(self) -> FreeQuestion | None:
        """The learner's own checkable question while it waits for a guess (a copy)."""
        return self.state.free.model_copy() if self.state.free is not None else None

    @property
    def awaiting_guess(self) -> bool:
        """True while a prediction is pending and nothing is committed."""
        if self.state.free is not None:
            return self.state.free.committed is None
        step = self.step
        return step is not None and step.kind == "step" and self.state.phase == "ask"

    def goto(self, step_id: str, phase: Phase = "ask") -> None:
        """Place the session at a step (evals and tests start cases mid-lesson)."""
        self.state.step_index = self.plan.index(step_id)
        step = self.plan.steps[self.state.step_index]
        if step.kind == "recall":
            phase = "recall"
        elif step.kind == "teach_back":
            phase = "teach_back"
        self.state.phase = phase
        self.state.started = True
        self.state.committed = None
        self.state.free = None

    def leave_lesson(self) -> None:
        """Free-question mode (`tutor ask`): no lesson step is pending."""
        self.state.step_index = len(self.plan.steps)
        self.state.phase = "done"
        self.state.started = True

    def transcript(self) -> list[TranscriptEntry]:
        return list(self._transcript)

    async def start(self) -> AsyncIterator[Event]:
        snapshot = self.state.model_copy(deep=True)
        try:
            async for event in self._opening():
                if isinstance(event, TurnDone):
                    self._log_tutor(event)
                yield event
        except GatewayError as exc:
            self.state = snapshot
            yield TurnFailed(message=str(exc), learner_text="")

    async def _opening(self) -> AsyncIterator[Event]:
        step = self.step
        if self.state.started and step is not None:
            text = "Welcome back. We were here:\n\n" + self._pending_prompt()
        elif step is None:
            text = self.plan.closing
        else:
            self.state.started = True
            text = f"**{self.plan.title}.** {self.plan.win}\n\n{self.plan.intro}"
            async for event in self._ask_step(step, lead=text):
                yield event
            return
        yield TextDelta(text=text)
        for event in self._prediction_events():
            yield event
        yield self._finish(text, [], [], replaced=False)

    async def send(self, text: str) -> AsyncIterator[Event]:
        too_long = _too_long(text)
        if too_long:
            # Refused whole, before anything reads or stores it: the face keeps the text.
            yield TurnFailed(message=too_long, learner_text=text)
            return
        snapshot = self.state.model_copy(deep=True)
        try:
            async for event in self._route(text):
                if isinstance(event, TurnDone):
                    self._log("learner", text, event.phase, event.step_id)
                    self._log_tutor(event)
                yield event
        except GatewayError as exc:
            self.state = snapshot
            yield TurnFailed(message=str(exc), learner_text=text)

    def commit(self, guess: str) -> CommitResult:
        guess = guess.strip()
        if self.state.free is not None:
            parsed = guess_for_field(guess, self.state.free.key.field)
            if parsed is None:
                return CommitResult(
                    step_id="free", guess=guess, accepted=False,
                    message="That is not an answer to the question yet: "
                    + _guess_hint(self.state.free.key).removeprefix("Commit your guess: "),
                )  # fmt: skip
            self.state.free.committed = parsed
            self._save_state()
            return CommitResult(step_id="free", guess=parsed, accepted=True)
        step = self.step
        if step is None or self.state.phase != "ask" or step.kind != "step":
            return CommitResult(
                step_id=self.step_id or "", guess=guess, accepted=False,
                message="There is no prediction to commit right now.",
            )  # fmt: skip
        reading = read(guess, self._context())
        if reading.kind != "guess" or reading.guess is None:
            expected = "a letter" if step.options else "a number"
            return CommitResult(
                step_id=step.id, guess=guess, accepted=False, message=f"Commit {expected}."
            )
        self.state.committed = reading.guess
        self._save_state()
        return CommitResult(step_id=step.id, guess=reading.guess, accepted=True)

    async def reveal(self) -> AsyncIterator[Event]:
        snapshot = self.state.model_copy(deep=True)
        try:
            if self.state.free is not None and self.state.free.committed is not None:
                source = self._reveal_free(self.state.free.committed)
            elif self.state.committed is not None and self.step is not None:
                source = self._reveal_step(self.step, self.state.committed)
            else:
                yield TurnFailed(
                    message="Commit a guess first: the answer stays hidden until you do.",
                    learner_text="",
                )
                return
            async for event in source:
                if isinstance(event, TurnDone):
                    self._log_tutor(event)
                yield event
        except GatewayError as exc:
            self.state = snapshot
            yield TurnFailed(message=str(exc), learner_text="")

    # ------------------------------------------------------------------ routing

    def _context(self) -> Context:
        """Where the lesson is, as the reader needs it."""
        state = self.state
        step = self.step
        previous = ToolCall.model_validate(state.last_call) if state.last_call else None
        options: list[tuple[str, list[str]]] = []
        numeric = False
        phase: str = state.phase
        if step is not None and step.kind == "step" and state.phase == "ask":
            options = [(o.key, list(o.aliases)) for o in step.options]
            numeric = step.numeric is not None
        return Context(
            phase=phase,
            options=options,
            numeric=numeric,
            free_field=(state.free.key.field
                        if state.free is not None and state.free.committed is None else None),
            previous=previous,
            previous_arguments=[Argument.model_validate(a) for a in state.last_arguments],
        )  # fmt: skip

    async def _route(self, text: str) -> AsyncIterator[Event]:
        state = self.state
        step = self.step
        if state.self_check is not None and step is not None and step.id == state.self_check:
            async for event in self._self_check(step, text):
                yield event
            return
        reading = read(text, self._context())
        shown = _reading_event(reading)
        if shown is not None:
            yield shown
        if reading.kind == "guess" and reading.guess is not None:
            if state.free is not None:
                state.free.committed = reading.guess
                async for event in self._reveal_free(reading.guess):
                    yield event
                return
            if step is not None:
                state.committed = reading.guess
                async for event in self._reveal_step(step, reading.guess):
                    yield event
                return
        if reading.kind == "calculator" and reading.call is not None:
            async for event in self._calculator_question(reading):
                yield event
            return
        if reading.kind == "clarify":
            async for event in self._clarify(reading.question):
                yield event
            return
        if state.free is not None:
            # A free question waits for its guess: anything else gets the question again.
            async for event in self._insist(state.free.summary, free=True,
                                            nudge=reading.kind == "other"):  # fmt: skip
                yield event
            return
        if reading.kind == "command":
            async for event in self._command(reading):
                yield event
            return
        if reading.kind == "answer" and step is not None:
            async for event in self._grade(step, text):
                yield event
            return
        if reading.kind == "free":
            async for event in self._answer_free(text):
                yield event
            return
        async for event in self._insist(self._pending_question(), free=False, nudge=True):
            yield event

    async def _calculator_question(self, reading: Reading) -> AsyncIterator[Event]:
        """A learner's own calculator question: predict first, unless it corrects one
        they already predicted, which is recomputed at once."""
        call = reading.call
        assert call is not None
        state = self.state
        key = CalculatorKey(tool=call.tool, arguments=call.arguments, field=call.field,
                            unit=call.unit)  # fmt: skip
        already_guessed = (
            reading.correction and state.free is None and state.last_guess is not None
        )
        if not reading.correction:
            state.last_guess = None
        state.last_call = call.model_dump(mode="json")
        state.last_arguments = [a.model_dump(mode="json") for a in reading.arguments]
        state.free = FreeQuestion(text=reading.text, summary=reading.summary, key=key,
                                  reading=describe(reading))  # fmt: skip
        if already_guessed:
            assert state.last_guess is not None
            state.free.committed = state.last_guess
            async for event in self._reveal_free(state.last_guess, recomputed=True):
                yield event
            return
        async for event in self._ask_free():
            yield event

    async def _clarify(self, question: str) -> AsyncIterator[Event]:
        text = question
        yield TextDelta(text=text)
        for event in self._prediction_events():
            yield event
        yield self._finish(text, [], [], replaced=False,
                           phase="ask" if self.awaiting_guess else self.state.phase)  # fmt: skip

    async def _command(self, reading: Reading) -> AsyncIterator[Event]:
        step = self.step
        state = self.state
        if reading.command == "skip" and step is not None and state.phase in ("recall",
                                                                             "teach_back"):  # fmt: skip
            text = "Skipped. " + (
                f"A strong answer: {step.recall.answer}" if state.phase == "recall" and step.recall
                else f"A strong answer: {step.model_answer or step.explanation}"
            )  # fmt: skip
            yield TextDelta(text=text)
            self._record_outcome(step.id, "skip", "", False, 1)
            async for event in self._advance():
                yield event
            yield self._finish(text + self._tail_text, [], [], replaced=False,
                               phase=state.phase, step_id=step.id)  # fmt: skip
            return
        if reading.command == "hint" and step is not None and self.awaiting_guess:
            text = f"A hint, not the answer: {step.concept}\n\n**{step.question}**"
            hint = _options_hint(step)
            if hint:
                text += "\n\n" + hint
            yield TextDelta(text=text)
            for event in self._prediction_events():
                yield event
            yield self._finish(text, [], [], replaced=False)
            return
        if reading.command in ("repeat", "back", "hint"):
            text = self._pending_prompt()
            yield TextDelta(text=text)
            for event in self._prediction_events():
                yield event
            yield self._finish(text, [], [], replaced=False)
            return
        # skip or wants_answer while a guess is pending: the gate holds.
        async for event in self._insist(self._pending_question(), free=False):
            yield event

    # ------------------------------------------------------------------ ask

    async def _ask_step(self, step: Step, lead: str = "") -> AsyncIterator[Event]:
        phase: Phase = (
            "recall"
            if step.kind == "recall"
            else ("teach_back" if step.kind == "teach_back" else "ask")
        )
        self.state.phase = phase
        self.state.committed = None
        yield PhaseChanged(phase=phase, step_id=step.id, step_title=step.title)
        block = self._question_block(step)
        key = self._answer_key(step)
        note = _Note()
        if lead:
            yield TextDelta(text=lead)
        if step.kind == "step":
            async for delta in self._stream_note(
                note, "ask",
                dict(step_title=step.title, concept=step.concept, question=step.question,
                     options=_options_text(step)),
                key=key, max_tokens=48,
                allowed=[step.question, step.concept, _options_text(step), _INVITATION_WORDS],
            ):  # fmt: skip
                yield delta
        yield TextDelta(text=("\n\n" if lead or note.text else "") + block)
        for event in self._prediction_events():
            yield event
        parts = [p for p in (lead, note.text, block) if p]
        yield self._finish("\n\n".join(parts), [], [], replaced=note.cut)

    async def _ask_free(self) -> AsyncIterator[Event]:
        free = self.state.free
        assert free is not None
        yield PhaseChanged(phase="ask", step_id="free", step_title="Your question")
        reading = f"{free.reading}\n\n" if free.reading else ""
        text = (
            f"{reading}Good question, and it has one right answer. Before I work it out, commit "
            f"a guess:\n\n**{free.summary}**\n\n{_guess_hint(free.key)}"
        )
        yield TextDelta(text=text)
        yield PredictionRequested(
            step_id="free", question=free.summary, numeric=free.key.field in _NUMERIC_FIELDS
        )
        yield self._finish(text, [], [], replaced=False, phase="ask", step_id="free")

    async def _insist(
        self, question: str, *, free: bool, nudge: bool = False
    ) -> AsyncIterator[Event]:
        # Requests for the answer, claimed authority and injected instructions all land here:
        # the gate is code, so no wording opens it.
        self.state.nudges += 1
        if nudge:
            head = "I didn't catch a guess there."
        else:
            head = ("I'll reveal it right after you commit a guess: even a wrong guess makes the "
                    "answer stick.")  # fmt: skip
        step = self.step
        hint = (
            _guess_hint(self.state.free.key)
            if free and self.state.free
            else (_options_hint(step) if step and step.kind == "step" else "")
        )
        text = f"{head}\n\n**{question}**" + (f"\n\n{hint}" if hint else "")
        yield TextDelta(text=text)
        for event in self._prediction_events():
            yield event
        yield self._finish(
            text, [], [], replaced=False,
            phase="ask" if free or self.state.phase == "ask" else self.state.phase,
            step_id="free" if free else self.step_id,
        )  # fmt: skip

    # ------------------------------------------------------------------ reveal

    async def _reveal_step(self, step: Step, guess: str) -> AsyncIterator[Event]:
        self.state.phase = "reveal"
        yield PhaseChanged(phase="reveal", step_id=step.id, step_title=step.title)
        tool_records: list[ToolRecord] = []
        facts = ""
        if step.numeric is not None:
            record, events = self._run_tool(step.numeric.tool, step.numeric.arguments)
            for event in events:
                yield event
            tool_records.append(record)
            answer_value = _field_value(record, step.numeric.field)
            answer = _display(answer_value, step.numeric.unit)
            correct = _same_answer(guess, answer_value, step.tolerance)
            misconception = None if correct else _numeric_misconception(guess, answer_value)
            facts = _facts_text(record)
        else:
            right = step.correct_option
            assert right is not None
            answer = f"{right.key}) {right.text}"
            chosen = next((o for o in step.options if o.key == guess), None)
            correct = guess == right.key
            misconception = None if correct or chosen is None else chosen.misconception
        citations = await self._citations(step)
        if citations:
            yield Retrieved(citations=citations)
        yield Verdict(step_id=step.id, guess=guess, answer=answer, correct=correct,
                      misconception=misconception)  # fmt: skip
        outcome = self.state.outcomes.setdefault(step.id, StepOutcome())
        outcome.attempts += 1
        outcome.guess, outcome.answer, outcome.correct = guess, answer, correct
        if correct:
            head = f"**Right!** You guessed {guess}, and the answer is **{answer}**."
        else:
            head = f"**Not quite.** You guessed {guess}; the answer is **{answer}**."
        body = [head]
        if misconception:
            body.append(misconception)
        body.append(step.explanation)
        allowed = [
            step.explanation,
            step.question,
            facts,
            guess,
            answer,
            *(c.text for c in citations),
        ]
        # The verdict and the facts come first, so the learner reads while the model words.
        yield TextDelta(text="\n\n".join(body))
        note = _Note()
        async for delta in self._stream_note(
            note, "reveal",
            dict(step_title=step.title, question=step.question, guess=guess,
                 verdict="right" if correct else "not right", answer=answer,
                 explanation=step.explanation, facts=facts,
                 passages=self._prompt_passages(citations)),
            key=None, allowed=allowed, max_tokens=96,
        ):  # fmt: skip
            yield delta
        replaced = note.cut
        if note.text:
            body.append(note.text)
        body.append(_sources_line(citations))
        yield TextDelta(text="\n\n" + body[-1])
        self._record_outcome(step.id, "guess", guess, correct, outcome.attempts)
        text = "\n\n".join(body)
        # Recall follows the reveal in the same turn so the learner retrieves it at once.
        self.state.committed = None
        recall_text = ""
        if step.recall is not None:
            self.state.phase = "recall"
            recall_text = f"**Recall:** {step.recall.question}"
            yield PhaseChanged(phase="recall", step_id=step.id, step_title=step.title)
            yield TextDelta(text="\n\n" + recall_text)
        else:
            async for event in self._advance():
                yield event
        full = text + ("\n\n" + recall_text if recall_text else "")
        yield self._finish(full, citations, tool_records, replaced=replaced, phase="reveal",
                           step_id=step.id)  # fmt: skip

    async def _reveal_free(self, guess: str, recomputed: bool = False) -> AsyncIterator[Event]:
        free = self.state.free
        assert free is not None
        self.state.last_guess = guess
        yield PhaseChanged(phase="reveal", step_id="free", step_title="Your question")
        record, events = self._run_tool(free.key.tool, free.key.arguments)
        for event in events:
            yield event
        value = _field_value(record, free.key.field)
        citations = await self._search(free.text, k=3)
        if citations:
            yield Retrieved(citations=citations)
        outcome = _outcome_text(free.key, record)
        lead = f"{free.reading}\n\n" if free.reading else ""
        if recomputed:
            lead += f"Recomputed with your correction (your guess was {guess}).\n\n"
        if value is None and outcome.unknown:
            answer = "unknown"
            correct = False
            head = lead + outcome.text
        else:
            answer = _display(value, free.key.unit)
            correct = _same_answer(guess, value, 0.0)
            verdict = "**Right!**" if correct else "**Not quite.**"
            head = f"{lead}{verdict} You guessed {guess}; the calculator says **{answer}**."
            if outcome.text:
                head += " " + outcome.text
        misconception = None if correct or value is None else _numeric_misconception(guess, value)
        yield Verdict(step_id="free", guess=guess, answer=answer, correct=correct,
                      misconception=misconception)  # fmt: skip
        body = [head + (f" {misconception}" if misconception else "")]
        explanation = _explain_result(free.key, record)
        if explanation:
            body.append(explanation)
        if record.diagram:
            body.append(f"```\n{record.diagram}\n```")
        facts = _facts_text(record)
        allowed = [facts, free.text, guess, answer, explanation, *(c.text for c in citations)]
        yield TextDelta(text="\n\n".join(body))
        note = _Note()
        async for delta in self._stream_note(
            note, "reveal",
            dict(step_title="Your question", question=free.summary, guess=guess,
                 verdict="right" if correct else "not right", answer=answer,
                 explanation=explanation, facts=facts,
                 passages=self._prompt_passages(citations)),
            key=None, allowed=allowed, max_tokens=80,
        ):  # fmt: skip
            yield delta
        replaced = note.cut
        if note.text:
            body.append(note.text)
        tail = [_sources_line(citations, calculator=True)]
        self.state.free = None
        self.state.phase = self._resting_phase()
        back = self._back_to_lesson()
        if back:
            tail.append(back)
        body.extend(tail)
        yield TextDelta(text="\n\n" + "\n\n".join(tail))
        text = "\n\n".join(body)
        for event in self._back_events():
            yield event
        yield self._finish(text, citations, [record], replaced=replaced, phase="reveal",
                           step_id="free")  # fmt: skip

    # ------------------------------------------------------------------ recall, teach-back

    async def _grade(self, step: Step, answer: str) -> AsyncIterator[Event]:
        from tutor.grading import Rubric, feedback, grade

        rubric = Rubric.from_step(step)
        result = grade(answer, rubric)
        model_answer = (step.model_answer or step.explanation) if step.kind == "teach_back" else (
            step.recall.answer if step.recall else step.explanation
        )  # fmt: skip
        phase: Phase = "teach_back" if step.kind == "teach_back" else "recall"
        graded = result.to_event(step.id)
        unsure = result.verdict == "cant_tell"
        if unsure:
            graded = graded.model_copy(update={"self_check": True})
        yield graded
        passed = result.verdict == "right"
        hits = [p.description for p in graded.points if p.status == "said"]
        outcome = self.state.outcomes.setdefault(step.id, StepOutcome())
        outcome.recall_ok, outcome.hits = (None if unsure else passed), hits
        outcome.points = {p.point_id: p.status for p in graded.points}
        outcome.misconceptions = [c.claim_id for c in graded.contradictions]
        if step.kind != "step":
            outcome.guess, outcome.answer = answer[:200], model_answer
            outcome.correct = None if unsure else passed
        self._record_outcome(step.id, step.kind if step.kind != "step" else "recall",
                             answer[:500], passed, outcome.attempts + 1)  # fmt: skip
        if self.record is not None:
            self.record.add_grade(self._session_id, graded)
        citations = await self._citations(step) if step.kind != "step" else []
        if citations:
            yield Retrieved(citations=citations)
        body = [feedback(result, rubric)]
        yield TextDelta(text=body[0])
        if unsure:
            # The learner checks their own answer; the lesson moves on once they have.
            self.state.self_check = step.id
            text = "\n\n".join(body)
            yield self._finish(text, citations, [], replaced=False, phase=phase, step_id=step.id)
            return
        note = _Note()
        hit_text = ", ".join(hits) or "none"
        misses = ", ".join(p.description for p in graded.points if p.status != "said") or "none"
        async for delta in self._stream_note(
            note, "teach_back" if step.kind == "teach_back" else "recall",
            dict(question=rubric.question, learner_answer=answer, model_answer=model_answer,
                 hits=hit_text, misses=misses),
            key=None, allowed=[model_answer, answer, rubric.question], max_tokens=64,
        ):  # fmt: skip
            yield delta
        replaced = note.cut
        if note.text and result.verdict != "contradicts":
            body.append(note.text)
        if citations:
            body.append(_sources_line(citations))
            yield TextDelta(text="\n\n" + body[-1])
        text = "\n\n".join(body)
        async for event in self._advance():
            yield event
        yield self._finish(text + self._tail_text, citations, [], replaced=replaced, phase=phase,
                           step_id=step.id)  # fmt: skip

    async def _self_check(self, step: Step, text: str) -> AsyncIterator[Event]:
        from tutor.grading import Rubric, read_self_check, self_check_summary

        rubric = Rubric.from_step(step)
        answers = read_self_check(text, len(rubric.points))
        phase: Phase = "teach_back" if step.kind == "teach_back" else "recall"
        if answers is None:
            reply = (f"Reply with yes or no for each of the {len(rubric.points)} points, "
                     "for example \"yes, no, yes\".")  # fmt: skip
            yield TextDelta(text=reply)
            yield self._finish(reply, [], [], replaced=False, phase=phase, step_id=step.id)
            return
        self.state.self_check = None
        outcome = self.state.outcomes.setdefault(step.id, StepOutcome())
        outcome.self_check = {p.id: ok for p, ok in zip(rubric.points, answers, strict=True)}
        self._record_outcome(step.id, "self_check", " ".join("yes" if a else "no" for a in answers),
                             all(answers), outcome.attempts + 1)  # fmt: skip
        if self.record is not None:
            self.record.add_self_check(self._session_id, step.id, [p.id for p in rubric.points],
                                       answers)  # fmt: skip
        reply = self_check_summary(answers, rubric)
        yield TextDelta(text=reply)
        async for event in self._advance():
            yield event
        yield self._finish(reply + self._tail_text, [], [], replaced=False, phase=phase,
                           step_id=step.id)  # fmt: skip

    _tail_text = ""

    async def _advance(self) -> AsyncIterator[Event]:
        """Move to the next step and ask it; at the end, close the lesson."""
        self.state.step_index += 1
        self._tail_text = ""
        nxt = self.step
        if nxt is None:
            self.state.phase = "done"
            yield PhaseChanged(phase="done")
            self._tail_text = "\n\n" + self.plan.closing
            yield TextDelta(text=self._tail_text)
            return
        collected: list[str] = []
        first = True
        async for event in self._ask_step(nxt):
            if isinstance(event, TurnDone):
                collected.append(event.text)
                # The inner turn's _finish took the prompt files rendered so far; they
                # belong to the outer turn, which reports them.
                self._rendered = [*event.prompts_rendered, *self._rendered]
                continue
            if isinstance(event, TextDelta) and first:
                first = False
                event = TextDelta(text="\n\n---\n\n" + event.text.lstrip("\n"))
            yield event
        self._tail_text = "\n\n---\n\n" + "".join(collected)

    # ------------------------------------------------------------------ free answers

    async def _answer_free(self, question: str) -> AsyncIterator[Event]:
        previous = self.state.phase
        yield PhaseChanged(phase="free", step_id=self.step_id)
        # While a guess is pending, a passage that holds the answer is not shown, quoted or
        # given to the model: the gate covers the sources as well as the model's words.
        key = self._pending_key()
        if key is not None and settles_pending(question, key):
            # Answering now would settle the prediction: it is answered after the reveal.
            text = ("That's what you're predicting now: commit a guess first, and I'll answer "
                    "it fully after the reveal.\n\n" + self._pending_prompt())  # fmt: skip
            self.state.phase = previous
            yield TextDelta(text=text)
            for event in self._back_events():
                yield event
            yield self._finish(text, [], [], replaced=False, phase="free", step_id=self.step_id)
            return
        citations = [
            c
            for c in await self._search(question, k=4)
            if withhold_passage(f"{c.label}\n{c.text}", key,
                                added=bool(getattr(c, "added", False))) is None
        ][:3]  # fmt: skip
        if citations:
            yield Retrieved(citations=citations)
        tool_records: list[ToolRecord] = []
        facts = ""
        if self.offer_tools:
            tool_records = await self._model_tool_round(question, citations)
            for record in tool_records:
                yield ToolCalled(name=record.name, arguments=record.arguments)
                yield ToolResult(record=record)
            facts = "\n".join(_facts_text(r) for r in tool_records)
        allowed = [question, facts, *(c.text for c in citations)]
        note = _Note()
        async for delta in self._stream_note(
            note, "free", dict(question=question, passages=_passages_text(citations), facts=facts),
            key=key,
            allowed=allowed, max_tokens=128,
        ):  # fmt: skip
            yield delta
        replaced = note.cut or not note.text
        answer = note.text
        if not answer:
            # Nothing the model said survived the guards: quote the best passage instead.
            answer = _excerpt_answer(citations, question)
            yield TextDelta(text=answer)
        elif self.strict_wording and citations:
            quote = _excerpt_answer(citations, question)
            yield TextDelta(text="\n\n" + quote)
            answer = f"{answer}\n\n{quote}"
        tail = [_sources_line(citations)] if citations else []
        back = self._back_to_lesson()
        if back:
            tail.append(back)
        if tail:
            yield TextDelta(text="\n\n" + "\n\n".join(tail))
        text = "\n\n".join(b for b in [answer, *tail] if b)
        self.state.phase = previous
        for event in self._back_events():
            yield event
        yield self._finish(text, citations, tool_records, replaced=replaced, phase="free",
                           step_id=self.step_id)  # fmt: skip

    async def _model_tool_round(self, question: str, citations: list[Citation]) -> list[ToolRecord]:
        from tutor.mig.tools import openai_tools

        messages = self._messages("free", dict(
            question=question, passages=_passages_text(citations), facts=""))  # fmt: skip
        records: list[ToolRecord] = []
        async for chunk in self.model.stream(messages, tools=openai_tools(), max_tokens=200):
            for call in chunk.tool_calls:
                import json

                try:
                    args = json.loads(call.arguments or "{}")
                except json.JSONDecodeError:
                    args = {"_raw": call.arguments}
                record, _ = self._run_tool(call.name, args if isinstance(args, dict) else {})
                records.append(record)
        return records

    # ------------------------------------------------------------------ model wording

    def _messages(self, template: str, values: dict[str, str]) -> list[Message]:
        for name in ("system.md", f"{template}.md"):
            if name not in self._rendered:
                self._rendered.append(name)
        return [
            {
                "role": "system",
                "content": self.prompts.render("system", lesson_title=self.plan.title),
            },
            {"role": "user", "content": self.prompts.render(template, **values)},
        ]

    async def _stream_note(
        self,
        note: _Note,
        template: str,
        values: dict[str, str],
        *,
        key: AnswerKey | None,
        allowed: list[str],
        max_tokens: int,
    ) -> AsyncIterator[TextDelta]:
        """Stream the model's note sentence by sentence, passing on only sentences that pass.

        A sentence that fails a guard ends the note there: `note.cut` records it.
        With strict wording only the ask invitation is the model's: a 135M model's
        explanations were seen to contradict the facts they were given (calling MIG
        "flexible"), so reveals, recall and answers stay with the plan and the sources.
        """
        if self.strict_wording and template != "ask":
            return
        messages = self._messages(template, values)
        buffer = ""

        def accept(sentence: str) -> TextDelta | None:
            clean = _tidy(sentence)
            if not clean or clean in note.sentences:
                return None
            # A sentence that only restates the question shown below it adds nothing.
            if template == "ask" and supported(clean, [values.get("question", "")], 0.9):
                return None
            note.sentences.append(clean)
            return TextDelta(text=("\n\n" if len(note.sentences) == 1 else " ") + clean)

        async for chunk in self.model.stream(messages, max_tokens=max_tokens):
            buffer += chunk.text
            *done, buffer = _SENTENCE_END.split(buffer)
            for sentence in done:
                if not self._sentence_ok(_tidy(sentence), key, allowed):
                    note.cut = True
                    return
                delta = accept(sentence)
                if delta is not None:
                    yield delta
        if buffer.strip():
            if self._sentence_ok(_tidy(buffer), key, allowed) and re.search(r"[.!?]\s*$", buffer):
                delta = accept(buffer)
                if delta is not None:
                    yield delta
            else:
                note.cut = True

    def _sentence_ok(self, sentence: str, key: AnswerKey | None, allowed: list[str]) -> bool:
        if key is not None and leaks(sentence, key):
            return False
        if ungrounded_numbers(sentence, allowed):
            return False
        # Echoes of the prompt, injected orders and run-on rambling are dropped.
        if is_meta(sentence) or len(sentence.split()) > 45:
            return False
        return not self.strict_wording or supported(sentence, allowed)

    # ------------------------------------------------------------------ helpers

    def _answer_key(self, step: Step | None) -> AnswerKey | None:
        if step is None or step.kind != "step":
            return None
        right = step.correct_option
        number = None
        if step.numeric is not None:
            record, _ = self._run_tool(step.numeric.tool, step.numeric.arguments)
            value = _field_value(record, step.numeric.field)
            number = normalise(float(value)) if isinstance(value, int | float) else None
        return AnswerKey(
            option_key=right.key if right else None,
            option_text=right.text if right else None,
            number=number,
            phrases=tuple(step.key_phrases),
            shown_text=step.question + "\n" + _options_text(step),
        )

    def _prompt_passages(self, citations: list[Citation]) -> str:
        # A reveal already carries the plan's explanation; for the embedded model the
        # passages would only add prompt tokens (seconds on 2 cores) it cannot use well.
        return "" if self.strict_wording else _passages_text(citations)

    def _pending_key(self) -> AnswerKey | None:
        """The answer that must stay hidden right now, if a guess is pending."""
        free = self.state.free
        if free is not None and free.committed is None:
            record, _ = self._run_tool(free.key.tool, free.key.arguments)
            value = _field_value(record, free.key.field)
            number = (
                normalise(float(value))
                if isinstance(value, int | float) and not isinstance(value, bool)
                else None
            )
            phrases = (str(value),) if isinstance(value, str) else ()
            return AnswerKey(number=number, phrases=phrases, shown_text=free.summary + free.text)
        if self.awaiting_guess:
            return self._answer_key(self.step)
        return None

    def _run_tool(self, name: str, arguments: dict[str, Any]) -> tuple[ToolRecord, list[Event]]:
        runner = self._tools or _default_tools()
        outcome = runner(name, arguments)
        result: Any = outcome.result if outcome.ok else {"error": outcome.error}
        record = ToolRecord(name=name, arguments=arguments, result=result, diagram=outcome.diagram)
        return record, [ToolCalled(name=name, arguments=arguments), ToolResult(record=record)]

    async def _citations(self, step: Step) -> list[Citation]:
        found: list[Citation] = []
        for ref in step.passages:
            for citation in await self._search(ref.query, k=2):
                if all(c.id != citation.id for c in found):
                    found.append(citation)
        return found[:3] or [self._plan_citation(step)]

    def _search_plan(self, query: str, k: int) -> list[Citation]:
        """Without a corpus index the lesson plan is the library: rank its steps by shared words."""
        words = set(re.findall(r"[a-z0-9]{3,}", query.lower())) - _STOPWORDS
        scored = []
        # Only steps already revealed: later explanations are answers still to be guessed.
        revealed = self.state.step_index + (0 if self.awaiting_guess else 1)
        for step in self.plan.steps[:revealed]:
            text = f"{step.title} {step.concept} {step.explanation}".lower()
            overlap = sum(1 for w in words if w in text)
            if overlap:
                scored.append((overlap, step))
        scored.sort(key=lambda pair: -pair[0])
        return [self._plan_citation(step) for _, step in scored[:k]]

    def _plan_citation(self, step: Step) -> Citation:
        # The lesson itself is a source; when retrieval is unavailable it still backs the reveal.
        return Citation(
            id=f"plan:{step.id}",
            title=self.plan.title,
            section=step.title,
            url=None,
            text=step.explanation,
        )

    async def _search(self, query: str, k: int) -> list[Citation]:
        if self.retriever is None:
            return self._search_plan(query, k)
        retriever = self.retriever
        hits = await asyncio.to_thread(retriever.search, query, k)
        return [h.to_citation() for h in hits]

    def _question_block(self, step: Step) -> str:
        if step.kind == "step":
            options = f"{_options_text(step)}\n\n" if step.options else ""
            return f"**Predict:** {step.question}\n\n{options}{_options_hint(step)}"
        if step.kind == "recall":
            assert step.recall is not None
            return f"**Recall (don't peek):** {step.recall.question}"
        return f"**Final check: teach it back.** {step.question}"

    def _back_events(self) -> list[Event]:
        """After a detour, say where the lesson is again, then re-ask what is pending."""
        step = self.step
        if step is None or self.state.free is not None:
            return self._prediction_events()
        back: list[Event] = [
            PhaseChanged(phase=self.state.phase, step_id=step.id, step_title=step.title)
        ]
        return back + self._prediction_events()

    def _prediction_events(self) -> list[Event]:
        free = self.state.free
        if free is not None and free.committed is None:
            return [PredictionRequested(step_id="free", question=free.summary,
                                        numeric=free.key.field in _NUMERIC_FIELDS)]  # fmt: skip
        step = self.step
        if step is None or step.kind != "step" or self.state.phase != "ask":
            return []
        return [
            PredictionRequested(
                step_id=step.id,
                question=step.question,
                options=[Option(key=o.key, text=o.text) for o in step.options],
                numeric=step.numeric is not None,
            )
        ]

    def _pending_question(self) -> str:
        if self.state.free is not None:
            return self.state.free.summary
        step = self.step
        if step is None:
            return "Ask me anything about MIG or time-slicing."
        if self.state.phase == "recall" and step.recall is not None:
            return step.recall.question
        return step.question

    def _pending_prompt(self) -> str:
        step = self.step
        if self.state.free is not None:
            return f"**{self.state.free.summary}**\n\n{_guess_hint(self.state.free.key)}"
        if step is None:
            return self.plan.closing
        if self.state.phase == "recall" and step.recall is not None:
            return f"**Recall:** {step.recall.question}"
        return self._question_block(step)

    def _back_to_lesson(self) -> str:
        if self.step is None or self.state.phase == "done":
            return ""
        return "**Back to the lesson:** " + self._pending_prompt()

    def _resting_phase(self) -> Phase:
        step = self.step
        if step is None:
            return "done"
        if self.state.phase in ("recall", "teach_back", "ask"):
            return self.state.phase
        return "ask"

    def _finish(
        self,
        text: str,
        citations: list[Citation],
        tools: list[ToolRecord],
        *,
        replaced: bool,
        phase: Phase | None = None,
        step_id: str | None = None,
    ) -> TurnDone:
        self._save_state()
        rendered, self._rendered = self._rendered, []
        return TurnDone(
            phase=phase or self.state.phase,
            text=text,
            citations=citations,
            tool_calls=tools,
            step_id=step_id if step_id is not None else self.step_id,
            model=self.model.name,
            prompt_hash=self.prompts.digest,
            replaced=replaced,
            prompts_rendered=rendered,
        )

    def _log(self, role: str, text: str, phase: Phase, step_id: str | None) -> None:
        entry = TranscriptEntry(role="learner" if role == "learner" else "tutor", text=text,
                                phase=phase, step_id=step_id)  # fmt: skip
        self._transcript.append(entry)
        if self.record is not None:
            self.record.add_entry(self._session_id, entry.role, phase, step_id, text)

    def _log_tutor(self, done: TurnDone) -> None:
        entry = TranscriptEntry(
            role="tutor", text=done.text, phase=done.phase, step_id=done.step_id,
            citations=[c.model_dump() for c in done.citations],
            tool_calls=[t.model_dump() for t in done.tool_calls],
        )  # fmt: skip
        self._transcript.append(entry)
        if self.record is not None:
            self.record.add_entry(
                self._session_id, "tutor", done.phase, done.step_id, done.text,
                {"citations": entry.citations, "tool_calls": entry.tool_calls,
                 "prompt_hash": done.prompt_hash, "model": done.model, "replaced": done.replaced},
            )  # fmt: skip

    def _record_outcome(
        self, step_id: str, kind: str, value: str, correct: bool, attempts: int
    ) -> None:
        if self.record is not None:
            self.record.add_outcome(
                self._session_id,
                Outcome(
                    step_id=step_id, kind=kind, value=value, correct=correct, attempts=attempts
                ),
            )


    def _save_state(self) -> None:
        if self.record is not None:
            self.record.save_state(self._session_id, self.state.model_dump(mode="json"))

    def _restore(self) -> None:
        assert self.record is not None
        saved = self.record.latest_state(self._session_id)
        if saved is not None:
            self.state = EngineState.model_validate(saved)
        for entry in self.record.entries(self._session_id):
            self._transcript.append(
                TranscriptEntry(
                    role="learner" if entry.role == "learner" else "tutor",
                    text=entry.text, phase=entry.phase,  # type: ignore[arg-type]
                    step_id=entry.step_id,
                    citations=entry.payload.get("citations", []),
                    tool_calls=entry.payload.get("tool_calls", []),
                )
            )  # fmt: skip


# ---------------------------------------------------------------------- text helpers


_ECHO_OPENING = re.compile(
    r"^\s*(?:the (?:right |correct )?answer is (?:right|correct) because|"
    r"(?:a )?(?:good|strong) answer:|remember:|in short,)\s*",
    re.I,
)


def _tidy(sentence: str) -> str:
    """Turn a small model's echo of the prompt's labels into plain speech, or leave it."""
    clean = sentence.strip()
    match = _ECHO_OPENING.match(clean)
    if match is None:
        return clean
    label = match.group(0).strip().lower()
    rest = clean[match.end() :]
    if not rest:
        return clean
    if label.endswith("because"):
        return "That's because " + rest
    prefix = {"remember:": "Remember: ", "in short,": "In short, "}.get(label, "")
    return prefix + rest[0].upper() + rest[1:] if not prefix else prefix + rest


def phase_label(phase: Phase) -> str:
    return _PHASE_LABEL[phase]


MAX_MESSAGE_CHARS = 4000
MAX_MESSAGE_LINES = 100


def _too_long(text: str) -> str:
    if len(text) > MAX_MESSAGE_CHARS:
        return (f"That message is {len(text):,} characters; the tutor reads at most "
                f"{MAX_MESSAGE_CHARS:,}. Shorten it and send it again.")  # fmt: skip
    lines = text.count("\n") + 1
    if lines > MAX_MESSAGE_LINES:
        return (f"That message has {lines:,} lines; the tutor reads at most {MAX_MESSAGE_LINES}. "
                "Shorten it and send it again.")  # fmt: skip
    return ""


def _options_text(step: Step) -> str:
    return "\n".join(f"- **{o.key})** {o.text}" for o in step.options)


def _options_hint(step: Step | None) -> str:
    if step is None or step.kind != "step":
        return ""
    if step.options:
        keys = ", ".join(o.key for o in step.options)
        return f"Commit your guess: reply with a letter ({keys})."
    return "Commit your guess: reply with a number."


def _guess_hint(key: CalculatorKey) -> str:
    if key.field in ("valid", "fits"):
        return "Commit your guess: reply yes or no."
    if key.field == "profile":
        return "Commit your guess: reply with a profile name, like 2g.20gb (or none)."
    if key.field == "resource":
        return "Commit your guess: reply with a resource name, like nvidia.com/gpu."
    return "Commit your guess: reply with a number."


def _reading_event(reading: Reading) -> ReadingShown | None:
    """The reading as a typed event; for calculator questions it carries the shown line."""
    call = reading.call
    return ReadingShown(
        kind=reading.kind,
        text=describe(reading) if call is not None else reading.question,
        tool=call.tool if call else None,
        arguments=call.arguments if call else {},
        stated=[ReadingArgument.model_validate(a.model_dump()) for a in reading.stated],
        assumed=[ReadingArgument.model_validate(a.model_dump()) for a in reading.assumed],
        unused=reading.unused,
        guess=reading.guess,
        command=reading.command,
        correction=reading.correction,
    )


def _field_value(record: ToolRecord, field: str) -> Any:
    result = record.result
    if not isinstance(result, dict) or ("error" in result and len(result) == 1):
        return None
    if field == "max_instances" and result.get("max_instances") is None:
        counts = [p.get("max_instances") for p in result.get("profiles", [])]
        known = [c for c in counts if isinstance(c, int)]
        return max(known) if known else None
    if field in ("profiles", "layouts") and isinstance(result.get(field), list):
        return len(result[field])
    return result.get(field)


class _Outcome:
    def __init__(self, text: str = "", unknown: bool = False) -> None:
        self.text = text
        self.unknown = unknown


def _outcome_text(key: CalculatorKey, record: ToolRecord) -> _Outcome:
    """What actually happened, in words: nothing fits, not valid, or not verified."""
    result = record.result if isinstance(record.result, dict) else {}
    if not result or ("error" in result and len(result) == 1):
        error = result.get("error") if result else None
        return _Outcome(f"The calculator could not answer this: {error or 'no result'}.", True)
    reason = result.get("reason")
    reason_text = f" {reason[0].upper()}{reason[1:]}".rstrip(".") + "." if reason else ""
    if key.tool == "mig_fit":
        if key.field == "profile" and result.get("profile") is None:
            total = result.get("total_gib")
            sizes = [c.get("memory_gib") for c in result.get("candidates", [])
                     if isinstance(c.get("memory_gib"), int | float)]  # fmt: skip
            if sizes and isinstance(total, int | float):
                short = total - max(sizes)
                return _Outcome(f"Nothing fits: it needs {total:.2f} GiB and the largest profile "
                                f"has {max(sizes):.2f} GiB, {short:.2f} GiB short.")  # fmt: skip
            return _Outcome("Nothing fits on this GPU.")
        if key.field == "fits" and result.get("fits") is False:
            free = result.get("free_gib")
            short = f", {-free:.2f} GiB short" if isinstance(free, int | float) else ""
            return _Outcome(f"It does not fit: it needs {result.get('total_gib', 0):.2f} GiB"
                            f"{short}.")  # fmt: skip
        return _Outcome()
    value = _field_value(record, key.field)
    if value is None:
        return _Outcome("That is not verified for this GPU, so I won't guess it." + reason_text,
                        True)  # fmt: skip
    if key.tool == "mig_check" and value is False:
        return _Outcome("Not valid:" + (reason_text or " the profiles cannot all be placed."))
    if key.tool == "mig_capacity" and value == 0:
        limit = result.get("limit")
        return _Outcome(f"None fit: {limit}." if limit else "None fit." + reason_text)
    return _Outcome()


def _display(value: Any, unit: str) -> str:
    if isinstance(value, bool):
        return "yes, valid" if value else "no, not valid"
    if isinstance(value, float):
        value = normalise(value)
    if value is None:
        return "none fits"
    return f"{value} {unit}".strip()


def _same_answer(guess: str, value: Any, tolerance: float) -> bool:
    if isinstance(value, bool):
        return (guess == "yes") == value
    if isinstance(value, int | float):
        number = first_number(guess)
        return number is not None and abs(number - float(value)) <= tolerance
    if value is None:
        return guess == "none"
    text = str(value).lower()
    low = guess.lower()
    if text.startswith("nvidia.com/"):
        return low.removeprefix("nvidia.com/") == text.removeprefix("nvidia.com/")
    return text.split("+")[0] == low.split("+")[0] or (
        low.endswith("g") and text.startswith(low + ".")
    )


def _numeric_misconception(guess: str, value: Any) -> str | None:
    number = first_number(guess)
    if not isinstance(value, int | float) or isinstance(value, bool) or number is None:
        return None
    if number < float(value):
        return "Your guess is too low."
    return "Your guess is too high."


def _facts_text(record: ToolRecord) -> str:
    result = record.result
    if not isinstance(result, dict):
        return f"{record.name}: {result}"
    lines = [f"{record.name}({_args(record.arguments)}):"]
    for key, value in result.items():
        if isinstance(value, str | int | float | bool) or value is None:
            lines.append(f"  {key} = {value}")
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            lines.extend(f"  {v}" for v in value)
    return "\n".join(lines)


def _args(arguments: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in arguments.items())


def _explain_result(key: CalculatorKey, record: ToolRecord) -> str:
    """The calculator's own account of its answer: its reason, arithmetic or notes."""
    result = record.result if isinstance(record.result, dict) else {}
    reason = result.get("reason")
    if isinstance(reason, str) and reason:
        return reason[0].upper() + reason[1:] + ("" if reason.endswith(".") else ".")
    for field in ("lines", "notes"):
        value = result.get(field)
        if isinstance(value, list) and value:
            return "\n".join(f"- {line}" for line in value if isinstance(line, str))
    basis = result.get("basis")
    return f"Placement data: {basis}." if isinstance(basis, str) and basis else ""


def _passages_text(citations: list[Citation]) -> str:
    # Two short excerpts keep the prompt small: on 2 CPU cores every prompt token is
    # time before the first word. The learner still sees whole passages in the sources.
    return "\n".join(
        f"[{i}] {c.label}: <passage>{_clip(c.text, 320)}</passage>"
        for i, c in enumerate(citations[:2], 1)
    )


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " …"


def _sources_line(citations: list[Citation], calculator: bool = False) -> str:
    parts = [
        f"[{i}] {c.label}" + (f" ({c.url})" if c.url else "") for i, c in enumerate(citations, 1)
    ]
    if calculator:
        parts.insert(0, "numbers: the MIG calculator (NVIDIA MIG User Guide tables)")
    return "Sources: " + "; ".join(parts) if parts else ""


def _excerpt_answer(citations: list[Citation], question: str = "") -> str:
    """Quote the passage that shares most words with the question (ties keep rank order)."""
    if not citations:
        return "I don't have a source that covers that, so I won't guess."
    words = set(re.findall(r"[a-z0-9]{3,}", question.lower())) - _STOPWORDS

    def overlap(c: Citation) -> int:
        text = f"{c.label} {c.text}".lower()
        return sum(1 for w in words if w in text)

    best_index = max(range(len(citations)), key=lambda i: (overlap(citations[i]), -i))
    best = citations[best_index]
    sentences = _SENTENCE_END.split(best.text.strip())
    excerpt = " ".join(sentences[:2]).strip()
    return f"From {best.label} [{best_index + 1}]: {excerpt}"
