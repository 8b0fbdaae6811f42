"""The engine's state: small, serialisable, saved after every turn."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from tutor.engine.events import Phase
from tutor.engine.plan import CalculatorKey


class StepOutcome(BaseModel):
    guess: str | None = None
    answer: str | None = None
    correct: bool | None = None
    attempts: int = 0
    recall_ok: bool | None = None
    hits: list[str] = Field(default_factory=list)
    points: dict[str, str] = Field(default_factory=dict)
    """Per rubric point: said, missing, contradicted or unsure."""
    misconceptions: list[str] = Field(default_factory=list)
    self_check: dict[str, bool] = Field(default_factory=dict)
    """The learner's own check, per point, when the grader could not tell."""


class FreeQuestion(BaseModel):
    """A learner's own question with a checkable answer, waiting for their guess."""

    text: str
    summary: str
    key: CalculatorKey
    committed: str | None = None
    reading: str = ""
    """The "I read this as ..." line shown with the question."""


class EngineState(BaseModel):
    step_index: int = 0
    phase: Phase = "ask"
    started: bool = False
    committed: str | None = None
    outcomes: dict[str, StepOutcome] = Field(default_factory=dict)
    free: FreeQuestion | None = None
    last_call: dict[str, Any] | None = None
    """The last calculator call read from the learner, which a correction amends."""
    last_arguments: list[dict[str, Any]] = Field(default_factory=list)
    clarifying: str | None = None
    """A calculator question the tutor asked one short question about; the learner's
    next message may answer it."""
    self_check: str | None = None
    """The step whose answer the learner is checking against the strong answer."""
    last_guess: str | None = None
    """The guess committed on the last calculator question, reused when it is corrected."""
