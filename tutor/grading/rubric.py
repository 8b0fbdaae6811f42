"""A step's rubric in the grader's terms: points and misconceptions as compiled claims."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, get_args

from tutor.engine.plan import Claim, Misconception, Polarity, RubricPoint, Step, Subject
from tutor.grading.text import Phrase

ALL_SUBJECTS: frozenset[Subject] = frozenset(get_args(Subject))


class RubricError(ValueError):
    """A step cannot be graded (no recall block or rubric); the message names the step."""


@dataclass(frozen=True)
class MisconceptionSpec:
    id: str
    said: str
    """What the learner claimed, in the tutor's words."""
    correction: str
    source: str
    """The corpus document (file stem) the correction rests on."""
    claims: tuple[ClaimSpec, ...]


@dataclass(frozen=True)
class ClaimSpec:
    about: frozenset[Subject]
    phrases: tuple[Phrase, ...]
    polarity: Polarity
    denied: MisconceptionSpec | None = None
    """Named when the learner says the opposite of this claim; else the point's."""


@dataclass(frozen=True)
class PointSpec:
    id: str
    description: str
    required: bool
    check: str
    """The yes/no self-check question for this point."""
    claims: tuple[ClaimSpec, ...]
    denied: MisconceptionSpec | None


@dataclass(frozen=True)
class Rubric:
    step_id: str
    kind: Literal["recall", "teach_back"]
    question: str
    answer: str
    """The strong answer, shown when the learner checks their own."""
    points: tuple[PointSpec, ...]
    contradictions: tuple[MisconceptionSpec, ...]
    pass_mark: int
    about: Subject | None

    @classmethod
    def from_step(cls, step: Step) -> Rubric:
        """The rubric of a recall question (any step with a recall block) or a teach-back."""
        if step.kind == "teach_back":
            points, contras = step.rubric, step.contradictions
            question = step.question
            answer = step.model_answer or step.explanation
            about = step.about
            pass_mark = sum(1 for p in points if p.required) or 1
        elif step.recall is not None:
            recall = step.recall
            points, contras, question, answer = (
                recall.points, recall.contradictions, recall.question, recall.answer,
            )  # fmt: skip
            about, pass_mark = recall.about, recall.pass_mark
        else:
            raise RubricError(f"step {step.id} has no recall question or teach-back rubric")
        return cls(
            step_id=step.id,
            kind="teach_back" if step.kind == "teach_back" else "recall",
            question=question,
            answer=" ".join(answer.split()),
            points=tuple(_point(step, p) for p in points),
            contradictions=tuple(_misconception(step, m) for m in contras),
            pass_mark=pass_mark,
            about=about,
        )

    def point(self, point_id: str) -> PointSpec:
        for p in self.points:
            if p.id == point_id:
                return p
        raise KeyError(point_id)

    @property
    def misconception_ids(self) -> set[str]:
        ids = {m.id for m in self.contradictions}
        ids |= {p.denied.id for p in self.points if p.denied is not None}
        return ids | {c.denied.id for p in self.points for c in p.claims if c.denied is not None}


def _claims(step: Step, claims: list[Claim]) -> tuple[ClaimSpec, ...]:
    return tuple(
        ClaimSpec(
            frozenset(c.about), tuple(Phrase.parse(s) for s in c.says), c.polarity,
            _misconception(step, c.denied) if c.denied is not None else None,
        )
        for c in claims
    )  # fmt: skip


def _legacy_claims(point: RubricPoint) -> tuple[ClaimSpec, ...]:
    """A point with only synonyms: any synonym, said of anything, either way."""
    phrases = []
    for syn in point.synonyms:
        words = re.sub(r"[^a-z0-9]+", " ", syn.lower()).split()
        if words:
            phrases.append(Phrase.parse(" ".join(words) + "*"))
    return (ClaimSpec(ALL_SUBJECTS, tuple(phrases), "either"),) if phrases else ()


def _point(step: Step, p: RubricPoint) -> PointSpec:
    return PointSpec(
        id=p.id,
        description=p.description,
        required=p.required,
        check=p.check or f"Did yours say {p.description}?",
        claims=_claims(step, p.claims) if p.claims else _legacy_claims(p),
        denied=_misconception(step, p.denied) if p.denied is not None else None,
    )


def _misconception(step: Step, m: Misconception) -> MisconceptionSpec:
    return MisconceptionSpec(
        id=m.id,
        said=m.said,
        correction=" ".join(step.misconception_correction(m).split()),
        source=m.source,
        claims=_claims(step, m.claims),
    )
