"""The typed readings of a learner message: what the reader hands the engine.

One message becomes exactly one Reading. The engine acts on its `kind` and never looks
at the learner's text again.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

ReadingKind = Literal["guess", "calculator", "answer", "command", "free", "clarify", "other"]
Command = Literal["skip", "back", "repeat", "hint", "wants_answer"]

# What a calculator question asks for: the result field that holds the answer, per tool.
# "fits" and "max_sequences" are mig_fit's other answers; "max_instances", "profiles",
# "layouts" are derived from list results by the engine's replies.
Field_ = Literal[
    "count",
    "valid",
    "profile",
    "fits",
    "max_sequences",
    "resource",
    "max_instances",
    "profiles",
    "layouts",
    "gpus_needed",
]


class Argument(BaseModel):
    """One argument of a calculator call and where its value came from."""

    name: str
    value: Any
    source: Literal["stated", "assumed"]
    words: str = ""
    """Stated: the learner's words it came from. Assumed: the default and why."""


class ToolCall(BaseModel):
    """A complete calculator call: tool, every argument, and the answer field."""

    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    field: str
    unit: str = ""


class Reading(BaseModel):
    kind: ReadingKind
    text: str = ""
    """The learner's message as read (trimmed and capped)."""
    guess: str | None = None
    """kind == "guess": the normalised guess (an option letter, a number, yes/no, a profile)."""
    command: Command | None = None
    call: ToolCall | None = None
    """kind == "calculator": the complete tool call."""
    arguments: list[Argument] = Field(default_factory=list)
    unused: list[str] = Field(default_factory=list)
    """Numbers and catalogue terms in the message that the reading did not use."""
    question: str = ""
    """kind == "clarify": the one short question to ask back."""
    clarified: str = ""
    """kind == "clarify": the calculator question it is about (with any answers already
    folded in), which the learner's next short message may complete."""
    correction: bool = False
    """True when this message corrects the previous calculator reading."""
    summary: str = ""
    """The question restated plainly, for the prediction prompt."""

    @property
    def assumed(self) -> list[Argument]:
        return [a for a in self.arguments if a.source == "assumed"]

    @property
    def stated(self) -> list[Argument]:
        return [a for a in self.arguments if a.source == "stated"]


class Context(BaseModel):
    """What the reader needs to know about where the lesson is."""

    phase: str = "done"
    options: list[tuple[str, list[str]]] = Field(default_factory=list)
    """Pending step's options: (letter, words that pick it)."""
    numeric: bool = False
    """The pending prediction wants a number."""
    free_field: str | None = None
    """A free calculator question is waiting for a guess of this field."""
    previous: ToolCall | None = None
    """The last calculator reading, which a correction ("no, 32k context") amends."""
    previous_arguments: list[Argument] = Field(default_factory=list)
    clarifying: str | None = None
    """A calculator question the tutor just asked one short question about: the next
    short message is read as the answer to it, folded into that question."""
