"""The engine's public surface, as the faces (TUI, CLI, evals) use it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Literal, Protocol

from pydantic import BaseModel

from tutor.engine.events import Event, Phase
from tutor.engine.plan import LessonPlan, Step

if TYPE_CHECKING:
    from tutor.engine.prompts import PromptSet
    from tutor.engine.state import FreeQuestion
    from tutor.gateway.types import ChatModel

StepKind = Literal["step", "recall", "teach_back"]
StepStatus = Literal["pending", "current", "right", "wrong", "done"]


class StepProgress(BaseModel):
    step_id: str
    title: str
    kind: StepKind
    status: StepStatus
    guess: str | None = None
    answer: str | None = None


class TranscriptEntry(BaseModel):
    role: Literal["learner", "tutor"]
    text: str
    phase: Phase
    step_id: str | None = None
    citations: list[dict[str, object]] = []
    tool_calls: list[dict[str, object]] = []


class CommitResult(BaseModel):
    """A guess the engine has locked; the reveal may follow only after this."""

    step_id: str
    guess: str
    accepted: bool
    message: str = ""


class TutorEngine(Protocol):
    """What every face (the app, the plain CLI, `tutor ask`, the eval runner, the tests)
    may use, and all it may use.

    Every async call (`start`, `send`, `reveal`) yields typed events and ends with exactly
    one `TurnDone` or one `TurnFailed`, last. A `TurnDone`'s text is exactly the
    concatenation of the turn's `TextDelta`s: what streamed is what is saved.
    """

    @property
    def session_id(self) -> str: ...

    @property
    def plan(self) -> LessonPlan:
        """The lesson being taught: its title, intro and closing are the faces' words too."""
        ...

    @property
    def prompts(self) -> PromptSet:
        """The teacher's prompt files in use (their digest is in every TurnDone)."""
        ...

    @property
    def model(self) -> ChatModel:
        """The model that words the notes; its name is shown and recorded."""
        ...

    @property
    def phase(self) -> Phase: ...

    @property
    def step(self) -> Step | None:
        """The current plan step, or None after the last."""
        ...

    @property
    def step_id(self) -> str | None: ...

    @property
    def committed_guess(self) -> str | None: ...

    @property
    def awaiting_guess(self) -> bool:
        """True while a prediction is pending and nothing is committed."""
        ...

    @property
    def free_question(self) -> FreeQuestion | None:
        """The learner's own calculator question while it waits for a guess (a copy)."""
        ...

    def progress(self) -> list[StepProgress]: ...

    def transcript(self) -> list[TranscriptEntry]: ...

    def goto(self, step_id: str, phase: Phase = "ask") -> None:
        """Place the session at a step (evals and tests start cases mid-lesson)."""
        ...

    def leave_lesson(self) -> None:
        """Free-question mode (`tutor ask`): no lesson step is pending."""
        ...

    def start(self) -> AsyncIterator[Event]:
        """Open (or resume) the lesson: ends by asking the current step's prediction."""
        ...

    def send(self, text: str) -> AsyncIterator[Event]:
        """A learner message, read once: a guess commits and reveals, a question is
        answered (a calculator question asks for a prediction first)."""
        ...

    def commit(self, guess: str) -> CommitResult:
        """Lock a guess for the current step without revealing (the TUI's Commit button)."""
        ...

    def reveal(self) -> AsyncIterator[Event]:
        """Reveal the current step; yields TurnFailed if nothing was committed yet."""
        ...

    def load_in_background(self) -> None:
        """Start loading what loads lazily (the model, the corpus search, the reader) on
        background threads, and return at once; a second call does nothing. A face that
        paints the opening itself calls it once the opening is on screen, so the loaders
        do not compete with that painting; whatever is not loaded by then loads on the
        first call that needs it."""
        ...

    def close(self) -> None:
        """Release the sessions database; call it before dropping the engine."""
        ...
