"""A hosted model's per-point verdict: validated, and never overruling a contradiction."""

from __future__ import annotations

import json

import pytest

from tutor.grading import ModelGrade, ModelGradeError, Rubric, grade, merge, parse_model_grade


def reply(**statuses: str) -> str:
    return json.dumps(
        {"points": [{"point_id": k.replace("_", "-"), "status": v, "reason": "because"}
                    for k, v in statuses.items()]}
    )  # fmt: skip


def test_the_schema_is_what_the_model_is_asked_for() -> None:
    schema = ModelGrade.model_json_schema()
    item = schema["$defs"]["ModelPointVerdict"]
    assert set(item["required"]) == {"point_id", "status", "reason"}
    assert item["properties"]["status"]["enum"] == ["said", "missing", "contradicted"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "model grade is not JSON"),
        ('{"points": [{"point_id": "own-sms", "status": "great", "reason": "x"}]}',
         "model grade field points.0.status"),
        ('{"points": [{"point_id": "own-sms", "status": "said", "reason": ""}]}',
         "model grade field points.0.reason"),
        ('{"points": [{"point_id": "own-gpu", "status": "said", "reason": "x"}]}',
         "model grade names unknown points ['own-gpu']"),
        ('{"points": [], "verdict": "right"}', "model grade field verdict"),
    ],
)  # fmt: skip
def test_bad_model_replies_are_one_line_errors(
    rubrics: dict[str, Rubric], text: str, message: str
) -> None:
    with pytest.raises(ModelGradeError, match="^" + message.replace("[", r"\[").split("(")[0]):
        parse_model_grade(text, rubrics["step-1"])


def test_the_brief_lists_every_point_and_the_answer(rubrics: dict[str, Rubric]) -> None:
    from tutor.grading import model_grade_brief

    rubric = rubrics["step-1"]
    brief = model_grade_brief("its own SMs", rubric)
    for p in rubric.points:
        assert f"- {p.id}: {p.description}" in brief
    assert "Learner's answer: its own SMs" in brief
    assert '"point_id"' in brief


def test_a_found_contradiction_has_the_last_word(rubrics: dict[str, Rubric]) -> None:
    rubric = rubrics["step-1"]
    det = grade("instances do not get their own SMs or L2, they share them", rubric)
    model = parse_model_grade(reply(own_sms="said", own_memory="said", own_l2="said"), rubric)
    merged = merge(det, model, rubric)
    assert merged.verdict == "contradicts"
    assert {p.id: p.status for p in merged.points}["own-sms"] == "contradicted"
    assert {c.id for c in merged.contradictions} == {c.id for c in det.contradictions}


def test_the_model_can_confirm_what_the_reader_could_not_place(
    rubrics: dict[str, Rubric],
) -> None:
    rubric = rubrics["step-2"]
    det = grade("One is isolated in hardware, the other takes turns.", rubric)
    assert det.verdict == "cant_tell"
    model = parse_model_grade(
        reply(mig_isolation="said", ts_turns="said", ts_noisy="missing"), rubric
    )
    assert merge(det, model, rubric).verdict == "right"


def test_the_model_can_doubt_a_point(rubrics: dict[str, Rubric]) -> None:
    rubric = rubrics["step-1"]
    det = grade("Its own SMs, its own memory and its own L2 cache.", rubric)
    model = parse_model_grade(reply(own_sms="said", own_memory="said", own_l2="missing"), rubric)
    merged = merge(det, model, rubric)
    assert merged.verdict == "cant_tell"
    assert {p.id: p.status for p in merged.points}["own-l2"] == "unsure"


def test_a_model_contradiction_is_named_with_the_plans_correction(
    rubrics: dict[str, Rubric],
) -> None:
    rubric = rubrics["step-1"]
    det = grade("Its own SMs and its own memory.", rubric)
    model = parse_model_grade(
        reply(own_sms="said", own_memory="said", own_l2="contradicted"), rubric
    )
    merged = merge(det, model, rubric)
    assert merged.verdict == "contradicts"
    assert [c.id for c in merged.contradictions] == ["mig-shares-l2"]


def test_unjudgeable_answers_stay_cant_tell(rubrics: dict[str, Rubric]) -> None:
    rubric = rubrics["step-1"]
    det = grade("what does each MIG instance get for itself", rubric)
    model = parse_model_grade(reply(own_sms="said", own_memory="said", own_l2="said"), rubric)
    assert merge(det, model, rubric).verdict == "cant_tell"
