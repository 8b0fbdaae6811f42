"""The engine's public surface, as the faces (TUI, CLI, evals) use it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal, Protocol

from pydantic import BaseModel

from tutor.engine.events import Event, Phase
from tutor.engine.plan import LessonPlan

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
    @property
    def session_id(self) -> str: ...

    @property
    def plan(self) -> LessonPlan:
        """The lesson being taught: its title, intro and closing are the faces' words too."""
        ...

    @property
    def phase(self) -> Phase: ...

    @property
    def step_id(self) -> str | None: ...

    @property
    def committed_guess(self) -> str | None: ...

    def progress(self) -> list[StepProgress]: ...

    def transcript(self) -> list[TranscriptEntry]: ...

    def start(self) -> AsyncIterator[Event]:
        """Open (or resume) the lesson: ends by asking the current step's prediction."""
        ...

    def send(self, text: str) -> AsyncIterator[Event]:
        """A learner message. In the ask phase a recognisable guess commits and reveals."""
        ...

    def commit(self, guess: str) -> CommitResult:
        """Lock a guess for the current step without revealing (the TUI's Commit button)."""
        ...

    def reveal(self) -> AsyncIterator[Event]:
        """Reveal the current step; yields TurnFailed if nothing was committed yet."""
        ...
