"""Typed events the engine yields; every face (TUI, CLI, evals, tests) consumes these."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter

Phase = Literal["ask", "reveal", "recall", "teach_back", "free", "done"]


class Citation(BaseModel):
    id: str
    title: str
    section: str
    url: str | None = None
    text: str = ""
    score: float = 0.0
    added: bool = False
    """From a document the learner added: untrusted, cited as such, withheld before a guess."""

    @property
    def label(self) -> str:
        base = f"{self.title} > {self.section}" if self.section else self.title
        return f"{base} (your added document)" if self.added else base


class Option(BaseModel):
    key: str
    text: str


class ToolRecord(BaseModel):
    name: str
    arguments: dict[str, Any]
    result: Any
    diagram: str | None = None


class PhaseChanged(BaseModel):
    type: Literal["phase"] = "phase"
    phase: Phase
    step_id: str | None = None
    step_title: str | None = None


class PredictionRequested(BaseModel):
    """The tutor wants a committed guess before anything is revealed."""

    type: Literal["prediction_requested"] = "prediction_requested"
    step_id: str
    question: str
    options: list[Option] = Field(default_factory=list)
    numeric: bool = False


class Retrieved(BaseModel):
    type: Literal["retrieved"] = "retrieved"
    citations: list[Citation]


class ToolCalled(BaseModel):
    type: Literal["tool_call"] = "tool_call"
    name: str
    arguments: dict[str, Any]


class ToolResult(BaseModel):
    type: Literal["tool_result"] = "tool_result"
    record: ToolRecord


class TextDelta(BaseModel):
    type: Literal["text_delta"] = "text_delta"
    text: str


class Verdict(BaseModel):
    """The code's judgement of a committed guess, decided before the model words it."""

    type: Literal["verdict"] = "verdict"
    step_id: str
    guess: str
    answer: str
    correct: bool
    misconception: str | None = None


class ReadingArgument(BaseModel):
    """One argument of a calculator reading and where it came from."""

    name: str
    value: Any
    source: Literal["stated", "assumed"]
    words: str = ""
    """For a stated argument, the learner's words it came from; for an assumed one, why."""


class ReadingShown(BaseModel):
    """How the tutor read a learner message, shown before it acts on it ("I read this as")."""

    type: Literal["reading"] = "reading"
    kind: Literal["guess", "calculator", "answer", "command", "free", "clarify", "other"]
    text: str
    """The sentence shown to the learner."""
    tool: str | None = None
    arguments: dict[str, Any] = Field(default_factory=dict)
    stated: list[ReadingArgument] = Field(default_factory=list)
    assumed: list[ReadingArgument] = Field(default_factory=list)
    unused: list[str] = Field(default_factory=list)
    """Numbers and catalogue terms in the message that the reading did not use."""
    guess: str | None = None
    command: str | None = None
    correction: bool = False


class PointGrade(BaseModel):
    point_id: str
    description: str
    status: Literal["said", "missing", "contradicted", "unsure"]
    evidence: str = ""
    """The learner's clause the status rests on."""


class Contradiction(BaseModel):
    claim_id: str
    said: str
    """What the learner claimed, in the tutor's words."""
    correction: str
    evidence: str = ""
    source: str = ""
    """The corpus document (file stem) the correction rests on."""


class Graded(BaseModel):
    """The code's judgement of a recall or teach-back answer, point by point."""

    type: Literal["graded"] = "graded"
    step_id: str
    verdict: Literal["right", "partly", "contradicts", "cant_tell"]
    points: list[PointGrade] = Field(default_factory=list)
    contradictions: list[Contradiction] = Field(default_factory=list)
    self_check: bool = False
    """True when the tutor handed the check to the learner instead of grading."""


class TurnDone(BaseModel):
    type: Literal["turn_done"] = "turn_done"
    phase: Phase
    text: str
    citations: list[Citation] = Field(default_factory=list)
    tool_calls: list[ToolRecord] = Field(default_factory=list)
    step_id: str | None = None
    model: str = ""
    prompt_hash: str = ""
    replaced: bool = False
    """True when a guard replaced the model's words with the deterministic template."""
    prompts_rendered: list[str] = Field(default_factory=list)
    """The prompt files (e.g. 'ask.md') the model was given in this turn."""


class TurnFailed(BaseModel):
    type: Literal["turn_failed"] = "turn_failed"
    message: str
    learner_text: str
    """Handed back so the face can restore it to the input; the session is unchanged."""


Event = Annotated[
    PhaseChanged
    | PredictionRequested
    | Retrieved
    | ToolCalled
    | ToolResult
    | TextDelta
    | Verdict
    | ReadingShown
    | Graded
    | TurnDone
    | TurnFailed,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
