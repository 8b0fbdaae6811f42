"""What a solved case looks like: every turn's reply, events and the engine state around it.

A transcript is plain data (it is what the response cache stores), so scorers are pure
functions of it and can be rerun on an old run without a model.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, Field

from tutor.engine.events import Citation, PredictionRequested, ToolRecord, Verdict
from tutor.engine.guards import AnswerKey
from tutor.evals.cases import Phase


class PendingKey(BaseModel):
    """An answer that must stay hidden while its question waits for a guess."""

    id: str = Field(description="step id, or 'free' for a learner's own checkable question")
    option_key: str | None = None
    option_text: str | None = None
    number: str | None = None
    phrases: list[str] = Field(default_factory=list)
    shown_text: str = ""

    def answer_key(self) -> AnswerKey:
        return AnswerKey(
            option_key=self.option_key,
            option_text=self.option_text,
            number=self.number,
            phrases=tuple(self.phrases),
            shown_text=self.shown_text,
        )


class EngineView(BaseModel):
    step_id: str | None
    phase: Phase
    awaiting: bool
    pending: list[PendingKey] = Field(default_factory=list)


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
    verdicts: list[Verdict] = Field(default_factory=list)
    predictions: list[PredictionRequested] = Field(default_factory=list)
    failed: str | None = None
    commit_rejected: str | None = None
    before: EngineView
    after: EngineView
    seconds: float = 0.0

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
    seconds: float = 0.0

    def learner_texts(self) -> list[str]:
        return [t.learner for t in self.turns if t.learner]


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
