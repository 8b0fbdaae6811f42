"""The answer suite: labelled learner answers (evals/answers/*.yaml) and how the grader does."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tutor.datafile import DataFileError, load_model
from tutor.engine.plan import LessonPlan
from tutor.grading.grader import VerdictName, grade
from tutor.grading.rubric import Rubric, RubricError

Kind = Literal[
    "right", "partly", "negated", "swapped", "misconception", "wrong-sentence", "off-topic",
    "gibberish", "copy", "keywords", "too-short", "unsure",
]  # fmt: skip
VERDICTS: tuple[VerdictName, ...] = ("right", "partly", "contradicts", "cant_tell")


class LabelledAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    kind: Kind
    text: str
    verdict: VerdictName
    points: list[str] = Field(default_factory=list, description="the points it makes")
    contradictions: list[str] = Field(default_factory=list, description="misconceptions it states")


class AnswerFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    step: str
    answers: list[LabelledAnswer] = Field(min_length=1)


class SuiteError(ValueError):
    """An answer file is invalid or names a step, point or misconception the plan lacks."""


class Outcome(BaseModel):
    id: str
    step: str
    kind: str
    expected: VerdictName
    got: VerdictName
    points_ok: bool
    """The points graded 'said' are the labelled ones."""
    misconception_ok: bool
    """For a contradicts label: the grader named at least one labelled misconception."""
    reason: str


class Report(BaseModel):
    outcomes: list[Outcome]

    @property
    def total(self) -> int:
        return len(self.outcomes)

    @property
    def agreement(self) -> float:
        return sum(o.expected == o.got for o in self.outcomes) / max(1, self.total)

    def per_verdict(self) -> dict[str, tuple[int, int]]:
        """Labelled verdict -> (graded the same, labelled)."""
        labelled = Counter(o.expected for o in self.outcomes)
        same = Counter(o.expected for o in self.outcomes if o.expected == o.got)
        return {v: (same[v], labelled[v]) for v in VERDICTS}

    @property
    def praised_wrong(self) -> list[Outcome]:
        """Answers labelled anything but right that the grader called right."""
        return [o for o in self.outcomes if o.got == "right" and o.expected != "right"]

    @property
    def rejected_right(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.expected == "right" and o.got != "right"]

    @property
    def point_agreement(self) -> float:
        return sum(o.points_ok for o in self.outcomes) / max(1, self.total)

    @property
    def misconception_named(self) -> tuple[int, int]:
        contra = [o for o in self.outcomes if o.expected == "contradicts"]
        return sum(o.misconception_ok for o in contra), len(contra)

    def goals(self, min_agreement: float = 0.9) -> list[str]:
        """The goals missed, one line each; empty when all are met."""
        missed = []
        if self.praised_wrong:
            missed.append(f"{len(self.praised_wrong)} wrong answers praised (goal 0)")
        if self.rejected_right:
            missed.append(f"{len(self.rejected_right)} right answers not accepted (goal 0)")
        if self.agreement < min_agreement:
            missed.append(f"verdict agreement {self.agreement:.1%} < {min_agreement:.0%}")
        return missed


def load_suite(folder: Path, plan: LessonPlan) -> list[tuple[AnswerFile, Rubric, Path]]:
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise SuiteError(f"{folder}: no answer files (*.yaml)")
    out = []
    seen: dict[str, Path] = {}
    for path in files:
        try:
            suite = load_model(path, AnswerFile, error=SuiteError, what="answer file")
        except DataFileError as exc:
            raise SuiteError(str(exc)) from exc
        try:
            rubric = Rubric.from_step(plan.step(suite.step))
        except KeyError as exc:
            raise SuiteError(f"{path}: field step: no step {suite.step!r} in the plan") from exc
        except RubricError as exc:
            raise SuiteError(f"{path}: field step: {exc}") from exc
        points = {p.id for p in rubric.points}
        misconceptions = rubric.misconception_ids
        for a in suite.answers:
            if a.id in seen:
                raise SuiteError(f"{path}: field answers[{a.id}].id: also used in {seen[a.id]}")
            seen[a.id] = path
            bad = sorted(set(a.points) - points)
            if bad:
                raise SuiteError(f"{path}: field answers[{a.id}].points: unknown {bad}; "
                                 f"the step's points are {sorted(points)}")  # fmt: skip
            bad = sorted(set(a.contradictions) - misconceptions)
            if bad:
                raise SuiteError(f"{path}: field answers[{a.id}].contradictions: unknown {bad}; "
                                 f"the step names {sorted(misconceptions)}")  # fmt: skip
            if a.verdict == "contradicts" and not a.contradictions:
                raise SuiteError(f"{path}: field answers[{a.id}].contradictions: a contradicts "
                                 "label must name the misconception")  # fmt: skip
        out.append((suite, rubric, path))
    return out


def evaluate(suites: list[tuple[AnswerFile, Rubric, Path]]) -> Report:
    outcomes = []
    for suite, rubric, _path in suites:
        for a in suite.answers:
            g = grade(a.text, rubric)
            said = {p.id for p in g.said}
            named = {c.id for c in g.contradictions}
            outcomes.append(Outcome(
                id=a.id, step=suite.step, kind=a.kind, expected=a.verdict, got=g.verdict,
                points_ok=said == set(a.points) or a.verdict == "cant_tell",
                misconception_ok=bool(named & set(a.contradictions)),
                reason=g.reason,
            ))  # fmt: skip
    return Report(outcomes=outcomes)
