"""The lesson plan as data: a YAML file validated by pydantic."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from tutor.datafile import load_model


class PlanError(ValueError):
    """A lesson plan file is malformed; the message names the file, the field and the fix."""


class PlanOption(BaseModel):
    key: str = Field(pattern=r"^[A-Z]$")
    text: str
    correct: bool = False
    misconception: str | None = Field(
        None, description="the wrong idea behind this option, and what to say about it"
    )
    aliases: list[str] = Field(default_factory=list, description="other words that pick it")


class CalculatorKey(BaseModel):
    """The answer is whatever the calculator returns: never typed by hand."""

    tool: str
    arguments: dict[str, Any]
    field: str = Field(description="the result field that holds the answer")
    unit: str = ""

    @field_validator("tool")
    @classmethod
    def _known_tool(cls, value: str) -> str:
        # an unknown tool would only fail when the learner reaches the step
        from tutor.mig.tools import TOOLS

        if value not in TOOLS:
            import difflib

            close = difflib.get_close_matches(value, list(TOOLS), n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise ValueError(f"unknown tool '{value}'; {hint}use one of: {', '.join(TOOLS)}")
        return value


class PassageRef(BaseModel):
    query: str = Field(description="retrieval query that finds the supporting passage")


# What a claim can be about. "answer" is the thing the question asks for, used when the
# learner's clause names no subject and the question leaves none to assume (a bare "hardware
# isolation" answering "what does your cluster trade away?").
Subject = Literal["mig", "time-slicing", "cluster", "answer"]
Polarity = Literal["affirm", "deny", "either"]

# A phrase is words separated by spaces; a word ending in "*" matches any word it starts
# (isolat* matches isolated, isolation). Letters, digits, spaces and a trailing "*" only, so
# a pattern can never be a regex that backtracks over the learner's text.
_PHRASE = re.compile(r"[a-z0-9]+\*?( [a-z0-9]+\*?){0,5}")


def _phrase(value: str) -> str:
    if not _PHRASE.fullmatch(value):
        raise ValueError(
            f"phrase {value!r}: use 1 to 6 lower-case words or numbers separated by single "
            "spaces, a '*' ending a word to match its start (isolat*)"
        )
    return value


Phrase = Annotated[str, AfterValidator(_phrase)]


class Claim(BaseModel):
    """Something said of a subject.

    "time-slicing: no isolation" is the claim (time-slicing, isolat*, deny).
    """

    model_config = ConfigDict(extra="forbid")

    about: list[Subject] = Field(min_length=1, description="the subjects it may be said of")
    says: list[Phrase] = Field(
        min_length=1, description="phrases that state it (any one), lower case, '*' = prefix"
    )
    polarity: Polarity = Field("affirm", description="affirm, deny, or either way")
    denied: Misconception | None = Field(
        None, description="what to name back when the learner says the opposite of this claim"
    )

    @field_validator("about", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class Misconception(BaseModel):
    """A contradicting claim worth naming back to the learner, with its correction."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    said: str = Field(min_length=3, description="what the learner claimed, in the tutor's words")
    correction: str | None = Field(
        None, description="what is true instead; leave out to reuse `option`'s misconception"
    )
    option: str | None = Field(
        None, pattern=r"^[A-Z]$", description="the step's option whose misconception this is"
    )
    source: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]*$", description="the corpus document (file stem) behind it"
    )
    claims: list[Claim] = Field(default_factory=list, description="how a learner states it")

    @model_validator(mode="after")
    def _has_correction(self) -> Misconception:
        if self.correction is None and self.option is None:
            raise ValueError("give a 'correction', or an 'option' whose misconception to reuse")
        return self


class RubricPoint(BaseModel):
    id: str
    description: str
    synonyms: list[str] = Field(
        default_factory=list,
        description="legacy keyword match: an answer names the point if any of these appears",
    )
    claims: list[Claim] = Field(
        default_factory=list, description="the claims that make the point (any one)"
    )
    required: bool = Field(True, description="a right answer must make this point")
    check: str | None = Field(
        None, description="the yes/no self-check question, e.g. 'Did yours say ...?'"
    )
    denied: Misconception | None = Field(
        None, description="what to name back when the learner denies this point"
    )


class Recall(BaseModel):
    question: str
    answer: str
    points: list[RubricPoint]
    pass_mark: int = Field(1, ge=1)
    about: Subject | None = Field(
        None, description="what a clause that names no subject speaks of, from the question"
    )
    contradictions: list[Misconception] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Recall:
        _check_rubric(self.points, self.contradictions, self.pass_mark)
        return self


def _check_rubric(
    points: list[RubricPoint], contradictions: list[Misconception], pass_mark: int
) -> None:
    ids = [p.id for p in points]
    named = list(contradictions) + [p.denied for p in points if p.denied is not None]
    named += [c.denied for p in points for c in p.claims if c.denied is not None]
    # One misconception may be named by several claims (a YAML alias); two different ones
    # under one id would make the record ambiguous.
    distinct = {(m.id, m.model_dump_json()) for m in named}
    ids += [i for i, _ in distinct]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"point and contradiction ids must be unique; repeated: {dupes}")
    if pass_mark > len(points):
        raise ValueError(f"pass_mark {pass_mark} is more than the {len(points)} points")
    graded = [p for p in points if p.claims]
    if graded and len(graded) != len(points):
        missing = [p.id for p in points if not p.claims]
        raise ValueError(f"every point needs claims once one has them; add claims to {missing}")
    if graded and not any(p.required for p in points):
        raise ValueError("mark at least one point required: true")


class Step(BaseModel):
    id: str
    kind: Literal["step", "recall", "teach_back"] = "step"
    title: str
    concept: str = Field(description="what the step teaches; safe to show before the reveal")
    question: str
    options: list[PlanOption] = Field(default_factory=list)
    numeric: CalculatorKey | None = None
    tolerance: float = Field(0.0, ge=0)
    key_phrases: list[str] = Field(
        default_factory=list, description="phrases that would give the answer away before a guess"
    )
    explanation: str = Field(description="the deterministic reveal, written from the sources")
    passages: list[PassageRef] = Field(default_factory=list)
    recall: Recall | None = None
    rubric: list[RubricPoint] = Field(default_factory=list)
    model_answer: str | None = None
    about: Subject | None = Field(
        None, description="teach_back: what a clause that names no subject speaks of"
    )
    contradictions: list[Misconception] = Field(
        default_factory=list, description="teach_back: the misconceptions its rubric names"
    )

    @model_validator(mode="after")
    def _one_key(self) -> Step:
        self._check_options_named()
        if self.kind == "teach_back":
            if not self.rubric:
                raise ValueError("a teach_back step needs a rubric")
            _check_rubric(self.rubric, self.contradictions, 1)
            return self
        if self.kind == "recall":
            if self.recall is None:
                raise ValueError("a recall step needs a 'recall' block")
            return self
        correct = [o for o in self.options if o.correct]
        if self.options and len(correct) != 1:
            raise ValueError("exactly one option must have correct: true")
        if not self.options and self.numeric is None:
            raise ValueError("a step needs options or a numeric calculator key")
        for option in self.options:
            if not option.correct and not option.misconception:
                raise ValueError(f"wrong option {option.key} needs a misconception")
        return self

    def _check_options_named(self) -> None:
        keys = {o.key: o for o in self.options}
        named = list(self.contradictions)
        if self.recall is not None:
            named += self.recall.contradictions
        points = list(self.rubric) + (self.recall.points if self.recall is not None else [])
        named += [p.denied for p in points if p.denied is not None]
        named += [c.denied for p in points for c in p.claims if c.denied is not None]
        for m in named:
            if m.option is None:
                continue
            option = keys.get(m.option)
            if option is None:
                raise ValueError(
                    f"misconception {m.id} names option {m.option}, which this step lacks"
                )
            if option.misconception is None:
                raise ValueError(
                    f"misconception {m.id} reuses option {m.option}, which has no misconception"
                )

    def misconception_correction(self, m: Misconception) -> str:
        """The correction to name: its own, or the misconception text of its option."""
        if m.correction is not None:
            return m.correction
        option = next(o for o in self.options if o.key == m.option)
        return option.misconception or ""

    @property
    def correct_option(self) -> PlanOption | None:
        return next((o for o in self.options if o.correct), None)


class LessonPlan(BaseModel):
    id: str
    title: str
    intro: str
    win: str
    steps: list[Step]
    closing: str

    @model_validator(mode="after")
    def _unique_ids(self) -> LessonPlan:
        if not self.steps:
            raise ValueError("a lesson plan needs at least one step; add one under 'steps:'")
        ids = [s.id for s in self.steps]
        dupes = {i for i in ids if ids.count(i) > 1}
        if dupes:
            raise ValueError(f"step ids must be unique; repeated: {sorted(dupes)}")
        return self

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    def index(self, step_id: str) -> int:
        return [s.id for s in self.steps].index(step_id)


def load_plan(path: Path) -> LessonPlan:
    return load_model(path, LessonPlan, error=PlanError, what="lesson plan")


def default_plan_path(corpus_dir: Path) -> Path:
    """The one plan in `corpus_dir/lessons/`: the code names no lesson, the data does."""
    folder = corpus_dir / "lessons"
    found = sorted(p for p in folder.glob("*.y*ml") if p.suffix in {".yaml", ".yml"})
    if len(found) == 1:
        return found[0]
    if not found:
        raise PlanError(
            f"{folder}: no lesson plan (*.yaml) found; set lesson_plan in config.toml "
            "or TUTOR_LESSON_PLAN to a plan file"
        )
    names = ", ".join(p.name for p in found)
    raise PlanError(
        f"{folder}: several lesson plans ({names}); choose one with lesson_plan in "
        "config.toml or TUTOR_LESSON_PLAN"
    )
