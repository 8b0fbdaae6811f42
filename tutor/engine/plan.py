"""The lesson plan as data: a YAML file validated by pydantic."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

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


class PassageRef(BaseModel):
    query: str = Field(description="retrieval query that finds the supporting passage")
    doc: str | None = Field(None, description="restrict to this corpus document (file stem)")


class RubricPoint(BaseModel):
    id: str
    description: str
    synonyms: list[str] = Field(description="an answer names the point if any of these appears")


class Recall(BaseModel):
    question: str
    answer: str
    points: list[RubricPoint]
    pass_mark: int = Field(1, ge=1)


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

    @model_validator(mode="after")
    def _one_key(self) -> Step:
        if self.kind == "teach_back":
            if not self.rubric:
                raise ValueError("a teach_back step needs a rubric")
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
