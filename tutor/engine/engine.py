"""The Socratic engine: a thin coordinator over the rooms that do the work.

Each call reads the learner once (tutor.reading), hands the reading to a turn handler
(steps.py for the lesson's own steps, asking.py for the learner's questions), and
finishes the turn through one writer, so what streamed is what is saved. The truth (the
answer key, verdicts, numbers, citations) is decided in code; the model only words notes
under the guards (wording.py).

Rooms: flow.py (where the lesson is), replies.py (bodies), wording.py (the model under
the guards), sources.py (retrieval and gating), journal.py (persistence), turn.py (the
turn writer). See ARCHITECTURE.md.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Protocol

from tutor.engine import asking, steps
from tutor.engine.events import (
    Citation,
    Event,
    Phase,
    ToolCalled,
    ToolRecord,
    ToolResult,
    TurnDone,
    TurnFailed,
    Verdict,
)
from tutor.engine.flow import Flow
from tutor.engine.guards import AnswerKey, step_key
from tutor.engine.journal import Journal
from tutor.engine.numbers import normalise
from tutor.engine.plan import LessonPlan, Step
from tutor.engine.prompts import PromptSet
from tutor.engine.protocol import CommitResult, StepProgress, TranscriptEntry
from tutor.engine.record import Record
from tutor.engine.replies import (
    field_value,
    guess_hint,
    passages_text,
    reading_event,
    too_long,
)
from tutor.engine.sources import Hit, Retriever, Sources
from tutor.engine.state import EngineState, FreeQuestion
from tutor.engine.turn import TurnWriter
from tutor.engine.wording import Wording
from tutor.gateway.types import ChatModel, GatewayError
from tutor.reading import from_proposal, guess_for_field, read

__all__ = ["Engine", "Hit", "Retriever"]


class ToolOutcomeLike(Protocol):
    ok: bool
    result: dict[str, Any] | None
    error: str | None
    diagram: str | None


ToolRunner = Callable[[str, dict[str, Any]], ToolOutcomeLike]


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
        corpus_dir: Path | None = None,
    ) -> None:
        self.plan = plan
        self.prompts = prompts
        self.record = record
        self.corpus_dir = corpus_dir
        self._tools = tools
        # A 135M model garbles tool calls; hosted models (a server on localhost included:
        # `is_local` means the embedded model in process) get the calculator as tools.
        self.offer_tools = (not model.is_local) if offer_tools is None else offer_tools
        embedded = model.name.startswith("local/")
        # The embedded 135M model drifts: its sentences must stay close to the sources'
        # words, and free answers quote the best passage before anything it says.
        strict = embedded if strict_wording is None else strict_wording
        self.wording = Wording(model, prompts, plan.title, strict=strict)
        self.sources = Sources(plan, retriever)
        self.journal = Journal(record, plan.id, model.name, session_id)
        self.flow = Flow(plan, self.journal.restored or EngineState())

    # ------------------------------------------------------------------ surface

    @property
    def state(self) -> EngineState:
        return self.flow.state

    @state.setter
    def state(self, value: EngineState) -> None:
        self.flow.state = value

    @property
    def model(self) -> ChatModel:
        return self.wording.model

    @model.setter
    def model(self, value: ChatModel) -> None:
        self.wording.model = value

    @property
    def retriever(self) -> Retriever | None:
        return self.sources.retriever

    @property
    def strict_wording(self) -> bool:
        return self.wording.strict

    @property
    def session_id(self) -> str:
        return self.journal.session_id

    @property
    def phase(self) -> Phase:
        return self.state.phase

    @property
    def step(self) -> Step | None:
        return self.flow.step

    @property
    def step_id(self) -> str | None:
        return self.flow.step_id

    @property
    def committed_guess(self) -> str | None:
        if self.state.free is not None:
            return self.state.free.committed
        return self.state.committed

    @property
    def free_question(self) -> FreeQuestion | None:
        """The learner's own checkable question while it waits for a guess (a copy)."""
        return self.state.free.model_copy() if self.state.free is not None else None

    @property
    def awaiting_guess(self) -> bool:
        return self.flow.awaiting_guess

    def progress(self) -> list[StepProgress]:
        return self.flow.progress()

    def goto(self, step_id: str, phase: Phase = "ask") -> None:
        """Place the session at a step (evals and tests start cases mid-lesson)."""
        self.flow.goto(step_id, phase)

    def leave_lesson(self) -> None:
        """Free-question mode (`tutor ask`): no lesson step is pending."""
        self.flow.leave_lesson()

    def transcript(self) -> list[TranscriptEntry]:
        return list(self.journal.transcript)

    def load_in_background(self) -> None:
        """Nothing loads lazily in an engine built with its parts ready."""

    def close(self) -> None:
        """Release the sessions database; the engine is not used after this."""
        self.journal.close()

    # ------------------------------------------------------------------ calls

    async def start(self) -> AsyncIterator[Event]:
        async for event in self._turn(steps.opening(self, turn := TurnWriter()), turn, None):
            yield event

    async def send(self, text: str) -> AsyncIterator[Event]:
        refused = too_long(text)
        if refused:
            # Refused whole, before anything reads or stores it: the face keeps the text.
            yield TurnFailed(message=refused, learner_text=text)
            return
        turn = TurnWriter()
        async for event in self._turn(self._route(turn, text), turn, text):
            yield event

    def commit(self, guess: str) -> CommitResult:
        guess = guess.strip()
        free = self.state.free
        if free is not None:
            parsed = guess_for_field(guess, free.key.field)
            if parsed is None:
                return CommitResult(
                    step_id="free", guess=guess, accepted=False,
                    message="That is not an answer to the question yet: "
                    + guess_hint(free.key).removeprefix("Commit your guess: "),
                )  # fmt: skip
            free.committed = parsed
            self.journal.save(self.state)
            return CommitResult(step_id="free", guess=parsed, accepted=True)
        step = self.step
        if step is None or self.state.phase != "ask" or step.kind != "step":
            return CommitResult(step_id=self.step_id or "", guess=guess, accepted=False,
                                message="There is no prediction to commit right now.")  # fmt: skip
        reading = read(guess, self.flow.context())
        if reading.kind != "guess" or reading.guess is None:
            expected = "a letter" if step.options else "a number"
            return CommitResult(step_id=step.id, guess=guess, accepted=False,
                                message=f"Commit {expected}.")  # fmt: skip
        self.state.committed = reading.guess
        self.journal.save(self.state)
        return CommitResult(step_id=step.id, guess=reading.guess, accepted=True)

    async def reveal(self) -> AsyncIterator[Event]:
        turn = TurnWriter()
        free = self.state.free
        if free is not None and free.committed is not None:
            source = asking.reveal_free(self, turn, free.committed)
        elif self.state.committed is not None and self.step is not None:
            source = steps.reveal_step(self, turn, self.step, self.state.committed)
        else:
            yield TurnFailed(message="Commit a guess first: the answer stays hidden until you do.",
                             learner_text="")  # fmt: skip
            return
        async for event in self._turn(source, turn, None):
            yield event

    async def _turn(
        self, source: AsyncIterator[Event], turn: TurnWriter, learner: str | None
    ) -> AsyncIterator[Event]:
        """Run one turn: exactly one TurnDone (or TurnFailed), last.

        A provider error before any verdict leaves the session as it was. Once a verdict
        is out the guess stays committed: the learner retries the wording, not the guess,
        and the failed turn is kept in the transcript.
        """
        snapshot = self.state.model_copy(deep=True)
        verdict_out = False
        try:
            async for event in source:
                verdict_out = verdict_out or isinstance(event, Verdict)
                yield event
        except GatewayError as exc:
            if not verdict_out:
                self.state = snapshot
                self.wording.take_rendered()
                yield TurnFailed(message=str(exc), learner_text=learner or "")
                return
            # Streamed as well as saved: what the learner saw is what the transcript keeps.
            for delta in turn.block(
                f"(The model failed here: {exc}. Your guess and its verdict are kept.)"
            ):
                yield delta
            done = self._finish(turn)
            self._log(learner, done)
            yield TurnFailed(message=str(exc), learner_text="")
            return
        done = self._finish(turn)
        self._log(learner, done)
        yield done

    def _finish(self, turn: TurnWriter) -> TurnDone:
        self.journal.save(self.state)
        turn.rendered = self.wording.take_rendered()
        return turn.done(phase=self.state.phase, step_id=self.step_id, model=self.model.name,
                         prompt_hash=self.prompts.digest)  # fmt: skip

    def _log(self, learner: str | None, done: TurnDone) -> None:
        if learner is not None:
            self.journal.learner(learner, done.phase, done.step_id)
        self.journal.tutor(done)

    async def _route(self, turn: TurnWriter, text: str) -> AsyncIterator[Event]:
        """Read the message once and hand the reading to the turn that answers it."""
        state = self.state
        step = self.step
        if state.self_check is not None and step is not None and step.id == state.self_check:
            async for event in steps.self_check(self, turn, step, text):
                yield event
            return
        reading = read(text, self.flow.context())
        # An answer to the one question asked back is read with the question it answers;
        # any other message leaves that question behind.
        state.clarifying = (reading.clarified or None) if reading.kind == "clarify" else None
        if reading.kind == "clarify" and self.offer_tools and not reading.correction:
            # The deterministic reading goes first; where it is incomplete a hosted model
            # may propose the call, validated and shown like any other reading.
            asked = reading.clarified or text
            proposal = await self.wording.propose_call(asked)
            if proposal is not None:
                reading = from_proposal(asked, proposal[0], proposal[1], self.model.name)
                state.clarifying = None
        shown = reading_event(reading)
        if shown is not None:
            yield shown
        source: AsyncIterator[Event]
        if (
            reading.kind == "guess"
            and reading.guess is not None
            and (state.free is not None or step is not None)
        ):
            if state.free is not None:
                state.free.committed = reading.guess
                source = asking.reveal_free(self, turn, reading.guess)
            else:
                assert step is not None
                state.committed = reading.guess
                source = steps.reveal_step(self, turn, step, reading.guess)
        elif reading.kind == "calculator" and reading.call is not None:
            source = asking.calculator_question(self, turn, reading)
        elif reading.kind == "clarify":
            source = asking.clarify(self, turn, reading.question)
        elif state.free is not None:
            # A free question waits for its guess: anything else gets the question again.
            source = steps.insist(self, turn, state.free.summary, free=True,
                                  nudge=reading.kind == "other")  # fmt: skip
        elif reading.kind == "command":
            source = steps.command(self, turn, reading)
        elif reading.kind == "answer" and step is not None:
            source = steps.grade(self, turn, step, text)
        elif reading.kind == "free":
            source = asking.answer_free(self, turn, text)
        else:
            source = steps.insist(self, turn, self.flow.pending_question(), free=False, nudge=True)
        async for event in source:
            yield event

    # ------------------------------------------------------------------ shared by the turns

    def run_tool(self, name: str, arguments: dict[str, Any]) -> ToolRecord:
        runner = self._tools or _default_tools()
        outcome = runner(name, arguments)
        result: Any = outcome.result if outcome.ok else {"error": outcome.error}
        return ToolRecord(name=name, arguments=arguments, result=result, diagram=outcome.diagram)

    @staticmethod
    def tool_events(record: ToolRecord) -> list[Event]:
        return [ToolCalled(name=record.name, arguments=record.arguments),
                ToolResult(record=record)]  # fmt: skip

    def answer_key(self, step: Step | None) -> AnswerKey | None:
        if step is None or step.kind != "step":
            return None
        number = None
        if step.numeric is not None:
            record = self.run_tool(step.numeric.tool, step.numeric.arguments)
            value = field_value(record, step.numeric.field)
            number = normalise(float(value)) if isinstance(value, int | float) else None
        return step_key(step, number)

    def pending_key(self) -> AnswerKey | None:
        """The answer that must stay hidden right now, if a guess is pending."""
        free = self.state.free
        if free is not None and free.committed is None:
            record = self.run_tool(free.key.tool, free.key.arguments)
            value = field_value(record, free.key.field)
            number = (
                normalise(float(value))
                if isinstance(value, int | float) and not isinstance(value, bool)
                else None
            )
            phrases = (str(value),) if isinstance(value, str) else ()
            return AnswerKey(number=number, phrases=phrases, shown_text=free.summary + free.text)
        if self.awaiting_guess:
            return self.answer_key(self.step)
        return None

    @functools.cached_property
    def source_titles(self) -> dict[str, str]:
        """Corpus file stems -> titles, so a named misconception cites a document by name."""
        from tutor.grading import source_titles

        corpus = self.corpus_dir
        return source_titles(corpus) if corpus is not None and corpus.is_dir() else {}

    def prompt_passages(self, citations: list[Citation]) -> str:
        # A reveal already carries the plan's explanation; for the embedded model the
        # passages would only add prompt tokens (seconds on 2 cores) it cannot use well.
        return "" if self.wording.strict else passages_text(citations)
