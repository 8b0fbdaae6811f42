"""The flow: which step and phase the lesson is in, and what it asks for next.

Pure: the plan and the state in, answers out. No model, no retrieval, no storage, so
every question about "where are we" is testable in microseconds.
"""

from __future__ import annotations

from tutor.engine.events import Event, Option, Phase, PhaseChanged, PredictionRequested
from tutor.engine.plan import LessonPlan, Step
from tutor.engine.protocol import StepProgress, StepStatus
from tutor.engine.replies import NUMERIC_FIELDS, guess_hint, options_hint, options_text
from tutor.engine.state import EngineState
from tutor.reading import Argument, Context, ToolCall


def step_phase(step: Step) -> Phase:
    if step.kind == "recall":
        return "recall"
    if step.kind == "teach_back":
        return "teach_back"
    return "ask"


class Flow:
    def __init__(self, plan: LessonPlan, state: EngineState | None = None) -> None:
        self.plan = plan
        self.state = state or EngineState()

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
    def awaiting_guess(self) -> bool:
        """True while a prediction is pending and nothing is committed."""
        if self.state.free is not None:
            return self.state.free.committed is None
        step = self.step
        return step is not None and step.kind == "step" and self.state.phase == "ask"

    @property
    def revealed(self) -> int:
        """How many of the plan's steps have had their answers shown."""
        return self.state.step_index + (0 if self.awaiting_guess else 1)

    def goto(self, step_id: str, phase: Phase = "ask") -> None:
        self.state.step_index = self.plan.index(step_id)
        step = self.plan.steps[self.state.step_index]
        self.state.phase = step_phase(step) if step.kind != "step" else phase
        self.state.started = True
        self.state.committed = None
        self.state.free = None

    def leave_lesson(self) -> None:
        self.state.step_index = len(self.plan.steps)
        self.state.phase = "done"
        self.state.started = True

    def advance(self) -> Step | None:
        """Move to the next step; None (and the done phase) at the end of the lesson."""
        self.state.step_index += 1
        nxt = self.step
        if nxt is None:
            self.state.phase = "done"
        return nxt

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
                    step_id=step.id, title=step.title, kind=step.kind, status=status,
                    guess=outcome.guess if outcome else None,
                    answer=outcome.answer if outcome else None,
                )
            )  # fmt: skip
        return out

    def context(self) -> Context:
        """Where the lesson is, as the reader needs it."""
        state = self.state
        step = self.step
        previous = ToolCall.model_validate(state.last_call) if state.last_call else None
        options: list[tuple[str, list[str]]] = []
        numeric = False
        if step is not None and step.kind == "step" and state.phase == "ask":
            options = [(o.key, list(o.aliases)) for o in step.options]
            numeric = step.numeric is not None
        return Context(
            phase=state.phase,
            options=options,
            numeric=numeric,
            free_field=(state.free.key.field
                        if state.free is not None and state.free.committed is None else None),
            previous=previous,
            previous_arguments=[Argument.model_validate(a) for a in state.last_arguments],
            clarifying=state.clarifying,
        )  # fmt: skip

    def resting_phase(self) -> Phase:
        if self.step is None:
            return "done"
        if self.state.phase in ("recall", "teach_back", "ask"):
            return self.state.phase
        return "ask"

    # ---------------------------------------------------------------- what to ask

    def question_block(self, step: Step) -> str:
        if step.kind == "step":
            options = f"{options_text(step)}\n\n" if step.options else ""
            return f"**Predict:** {step.question}\n\n{options}{options_hint(step)}"
        if step.kind == "recall":
            assert step.recall is not None
            return f"**Recall (don't peek):** {step.recall.question}"
        return f"**Final check: teach it back.** {step.question}"

    def pending_question(self) -> str:
        if self.state.free is not None:
            return self.state.free.summary
        step = self.step
        if step is None:
            return "Ask me anything about the lesson."
        if self.state.phase == "recall" and step.recall is not None:
            return step.recall.question
        return step.question

    def pending_prompt(self) -> str:
        step = self.step
        if self.state.free is not None:
            return f"**{self.state.free.summary}**\n\n{guess_hint(self.state.free.key)}"
        if step is None:
            return self.plan.closing
        if self.state.phase == "recall" and step.recall is not None:
            return f"**Recall:** {step.recall.question}"
        return self.question_block(step)

    def back_to_lesson(self) -> str:
        if self.step is None or self.state.phase == "done":
            return ""
        return "**Back to the lesson:** " + self.pending_prompt()

    def prediction_events(self) -> list[Event]:
        free = self.state.free
        if free is not None and free.committed is None:
            return [PredictionRequested(step_id="free", question=free.summary,
                                        numeric=free.key.field in NUMERIC_FIELDS)]  # fmt: skip
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

    def back_events(self) -> list[Event]:
        """After a detour, say where the lesson is again, then re-ask what is pending."""
        step = self.step
        if step is None or self.state.free is not None:
            return self.prediction_events()
        back: list[Event] = [
            PhaseChanged(phase=self.state.phase, step_id=step.id, step_title=step.title)
        ]
        return back + self.prediction_events()
