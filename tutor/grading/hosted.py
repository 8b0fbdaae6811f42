"""A hosted model's verdict per point, validated, and merged under the deterministic check.

The model is asked for `ModelGrade` as JSON (its schema: `ModelGrade.model_json_schema()`).
`merge` combines it with the deterministic grade so that:

* a misconception the deterministic reader found stays named, and the verdict stays
  "contradicts", whatever the model says;
* a point the reader found contradicted is never turned into "said";
* the model may confirm a point the reader could not place (missing or unsure -> said),
  settle one it could not place as missing, or doubt one it found (said -> unsure);
* it cannot invent a misconception without a correction in the plan: a model's
  "contradicted" on a point with no such text makes the verdict "can't tell".
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tutor.grading.grader import Grade, MisconceptionResult, PointResult, VerdictName
from tutor.grading.rubric import Rubric


class ModelPointVerdict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    point_id: str
    status: Literal["said", "missing", "contradicted"]
    reason: str = Field(min_length=1, max_length=400, description="one sentence: why")


class ModelGrade(BaseModel):
    """What a hosted model returns: one verdict per rubric point."""

    model_config = ConfigDict(extra="forbid")

    points: list[ModelPointVerdict]


class ModelGradeError(ValueError):
    """The model's reply is not a valid ModelGrade for this rubric; one line."""


def model_grade_brief(answer: str, rubric: Rubric) -> str:
    """What to send a hosted model: the question, the points to judge, the answer and the
    JSON schema to reply in. The model judges; `merge` decides."""
    points = "\n".join(f"- {p.id}: {p.description}" for p in rubric.points)
    schema = json.dumps(ModelGrade.model_json_schema(), separators=(",", ":"))
    return (
        f"Question: {rubric.question}\n"
        f"Strong answer: {rubric.answer}\n"
        f"Points, each said, missing, or contradicted by the learner's answer:\n{points}\n"
        f"Learner's answer: {answer}\n"
        "Reply with JSON only, one entry per point, each with a one-sentence reason, "
        f"matching this schema: {schema}"
    )


def parse_model_grade(reply: str, rubric: Rubric) -> ModelGrade:
    """Validate the model's JSON reply against the schema and the rubric's point ids."""
    try:
        parsed = ModelGrade.model_validate(json.loads(reply))
    except json.JSONDecodeError as exc:
        raise ModelGradeError(f"model grade is not JSON: {exc.msg} at {exc.pos}") from exc
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ModelGradeError(f"model grade field {where}: {err['msg']}") from exc
    known = {p.id for p in rubric.points}
    ids = [p.point_id for p in parsed.points]
    unknown = sorted(set(ids) - known)
    if unknown:
        raise ModelGradeError(f"model grade names unknown points {unknown}; known: {sorted(known)}")
    if len(ids) != len(set(ids)):
        raise ModelGradeError("model grade names a point twice")
    return parsed


def merge(deterministic: Grade, model: ModelGrade, rubric: Rubric) -> Grade:
    """The deterministic grade, refined by the model's per-point verdicts (see module doc)."""
    by_id = {p.point_id: p for p in model.points}
    points: list[PointResult] = []
    contradictions = list(deterministic.contradictions)
    model_unsure = False
    for det in deterministic.points:
        verdict = by_id.get(det.id)
        status = det.status
        if verdict is not None and det.status != "contradicted":
            if verdict.status == "said":
                status = "said"
            elif verdict.status == "missing":
                # Both readers must agree to praise; either may settle what the other could not.
                status = "unsure" if det.status == "said" else "missing"
            elif verdict.status == "contradicted":
                spec = rubric.point(det.id).denied
                if spec is None:
                    status, model_unsure = "unsure", True
                else:
                    status = "contradicted"
                    if all(c.id != spec.id for c in contradictions):
                        contradictions.append(MisconceptionResult(
                            id=spec.id, said=spec.said, correction=spec.correction,
                            source=spec.source, evidence=verdict.reason,
                        ))  # fmt: skip
        points.append(det.model_copy(update={"status": status}))
    verdict_name = _verdict(deterministic, points, contradictions, rubric, model_unsure)
    return Grade(verdict=verdict_name, points=points, contradictions=contradictions,
                 reason=f"{deterministic.reason}; model-checked")  # fmt: skip


def _verdict(
    det: Grade,
    points: list[PointResult],
    contradictions: list[MisconceptionResult],
    rubric: Rubric,
    model_unsure: bool,
) -> VerdictName:
    if contradictions:
        return "contradicts"
    # An answer set aside unread (too short, a copy, a word list) stays so.
    if det.screened:
        return "cant_tell"
    said = {p.id for p in points if p.status == "said"}
    required = {p.id for p in rubric.points if p.required}
    if model_unsure:
        return "cant_tell"
    if required <= said and len(said) >= rubric.pass_mark:
        return "right"
    if any(p.status == "unsure" for p in points):
        return "cant_tell"
    return "partly" if said else "cant_tell"
