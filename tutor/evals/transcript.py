"""What a solved case looks like: every turn's reply, events and the engine state around it.

A transcript is plain data (it is what the response cache stores), so scorers are pure
functions of it and can be rerun on an old run without a model. Scorers read the typed
events and the per-phase segments recorded here, never the engine's Markdown.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, Field

from tutor.engine.events import (
    Citation,
    Event,
    Graded,
    Option,
    PhaseChanged,
    PredictionRequested,
    ReadingShown,
    Retrieved,
    ToolRecord,
    Verdict,
)
from tutor.evals.cases import Phase


class PendingKey(BaseModel):
    """An answer that must stay hidden while its question waits for a guess."""

    id: str = Field(description="step id, or 'free' for a learner's own checkable question")
    option_key: str | None = None
    option_text: str | None = None
    number: str | None = None
    phrases: list[str] = Field(default_factory=list)
    question: list[str] = Field(
        default_factory=list, description="the question as shown, in each form it is shown"
    )
    options: list[Option] = Field(default_factory=list, description="every option, in order")
    shown_text: str = ""


class EngineView(BaseModel):
    step_id: str | None
    phase: Phase
    awaiting: bool
    pending: list[PendingKey] = Field(default_factory=list)


class Segment(BaseModel):
    """The reply's text between two phase events: what the learner read in that phase."""

    phase: Phase | None = None
    step_id: str | None = None
    text: str = ""


class TurnRecord(BaseModel):
    index: int
    action: Literal["start", "say", "commit"]
    learner: str = ""
    text: str = ""
    phase: Phase | None = None
    step_id: str | None = None
    citations: list[Citation] = Field(default_factory=list)
    tool_calls: list[ToolRecord] = Field(default_factory=list)
    replaced: bool = False
    events: list[Event] = Field(
        default_factory=list, description="every typed event of the turn except text deltas"
    )
    segments: list[Segment] = Field(default_factory=list)
    prompts_rendered: list[str] = Field(default_factory=list)
    failed: str | None = None
    commit_rejected: str | None = None
    before: EngineView
    after: EngineView
    seconds: float = 0.0

    @property
    def verdicts(self) -> list[Verdict]:
        return [e for e in self.events if isinstance(e, Verdict)]

    @property
    def predictions(self) -> list[PredictionRequested]:
        return [e for e in self.events if isinstance(e, PredictionRequested)]

    @property
    def grades(self) -> list[Graded]:
        return [e for e in self.events if isinstance(e, Graded)]

    @property
    def readings(self) -> list[ReadingShown]:
        return [e for e in self.events if isinstance(e, ReadingShown)]

    @property
    def phases(self) -> list[PhaseChanged]:
        return [e for e in self.events if isinstance(e, PhaseChanged)]

    @property
    def retrieved(self) -> list[Citation]:
        return [c for e in self.events if isinstance(e, Retrieved) for c in e.citations]

    @property
    def revealed(self) -> bool:
        return bool(self.verdicts)


class Transcript(BaseModel):
    case_id: str
    model: str
    prompt_hash: str
    turns: list[TurnRecord] = Field(default_factory=list)
    progress: dict[str, str] = Field(default_factory=dict)
    final: EngineView | None = None
    answer_value: Any = None
    error: str | None = None
    error_kind: Literal["crash", "case"] | None = Field(
        None, description="crash: the tutor raised; case: the case itself is wrong"
    )
    seconds: float = 0.0

    def learner_texts(self) -> list[str]:
        return [t.learner for t in self.turns if t.learner]

    @property
    def provider_failed(self) -> bool:
        return any(t.failed for t in self.turns)


@lru_cache(maxsize=512)
def _calc_cached(tool: str, arguments: str) -> tuple[bool, str]:
    from tutor.mig.tools import dispatch

    outcome = dispatch(tool, json.loads(arguments))
    return outcome.ok, json.dumps(outcome.result if outcome.ok else {"error": outcome.error})


def calculate(tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """The calculator's full result (or {'error': ...}); cached, since cases repeat calls."""
    _ok, raw = _calc_cached(tool, json.dumps(arguments, sort_keys=True))
    result: dict[str, Any] = json.loads(raw)
    return result


def calculate_field(tool: str, arguments: dict[str, Any], field: str) -> Any:
    return calculate(tool, arguments).get(field)


def calculator_error(tool: str, arguments: dict[str, Any], field: str) -> str | None:
    """Why a case's calculator reference cannot give an answer, or None when it can."""
    result = calculate(tool, arguments)
    if "error" in result and len(result) == 1:
        return str(result["error"])
    if field not in result:
        return f"{tool} has no result field {field!r}; it has: {', '.join(sorted(result))}"
    return None
