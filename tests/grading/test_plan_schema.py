"""The rubric schema in the lesson plan: claims validate with errors naming file and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tutor.engine.plan import LessonPlan, PlanError, load_plan

from .conftest import PLAN_PATH, ROOT


def test_every_recall_and_teach_back_point_is_a_claim(plan: LessonPlan) -> None:
    graded = [s for s in plan.steps if s.recall is not None or s.kind == "teach_back"]
    assert [s.id for s in graded] == ["step-1", "step-2", "step-3", "step-4", "recall",
                                      "teach-back"]  # fmt: skip
    for step in graded:
        points = step.recall.points if step.recall is not None else step.rubric
        assert all(p.claims for p in points), step.id
        # The engine's keyword matching still has its synonyms until it is rewired.
        assert all(p.synonyms for p in points), step.id


def test_misconceptions_reuse_the_step_options(plan: LessonPlan) -> None:
    step = plan.step("step-1")
    assert step.recall is not None
    reused = {m.option for m in step.recall.contradictions if m.option}
    assert reused == {"A", "C", "D"}
    m = next(m for m in step.recall.contradictions if m.option == "A")
    option_a = next(o for o in step.options if o.key == "A")
    assert step.misconception_correction(m) == option_a.misconception


def test_every_correction_names_a_corpus_document(plan: LessonPlan) -> None:
    from tutor.grading import Rubric

    for step in plan.steps:
        if step.recall is None and step.kind != "teach_back":
            continue
        rubric = Rubric.from_step(step)
        specs = list(rubric.contradictions) + [p.denied for p in rubric.points if p.denied]
        specs += [c.denied for p in rubric.points for c in p.claims if c.denied]
        for m in specs:
            assert (ROOT / "corpus" / f"{m.source}.md").is_file(), (step.id, m.id, m.source)
            assert m.correction.strip(), (step.id, m.id)


def _broken(tmp_path: Path, edit: str, new: str) -> Path:
    text = PLAN_PATH.read_text(encoding="utf-8")
    assert edit in text, edit
    path = tmp_path / "plan.yaml"
    path.write_text(text.replace(edit, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("edit", "new", "field", "message"),
    [
        ("            - about: mig\n              says: [\"sm\",",
         "            - about: migg\n              says: [\"sm\",",
         "steps[step-1].recall.points[own-sms].claims[0].about.0",
         "Input should be 'mig', 'time-slicing', 'cluster' or 'answer'"),
        ('says: ["l2", "cache", "caches"]', 'says: ["L2 (cache)"]',
         "steps[step-1].recall.points[own-l2].claims[0].says[0]",
         "phrase 'L2 (cache)': use 1 to 6 lower-case words"),
        ('          option: D\n', '          option: E\n',
         "steps[step-1]", "misconception mig-any-size names option E, which this step lacks"),
        ("            option: C\n            source: mig-concepts\n",
         "            source: mig-concepts\n",
         "steps[step-1].recall.points[own-sms].denied",
         "give a 'correction', or an 'option' whose misconception to reuse"),
        ("      pass_mark: 3\n", "      pass_mark: 4\n",
         "steps[step-1].recall", "pass_mark 4 is more than the 3 points"),
        ("          polarity: deny\n          denied: &mig-not-isolated",
         "          polarity: never\n          denied: &mig-not-isolated",
         "steps[step-2].recall.points[mig-isolation].claims[1].polarity", "Input should be"),
        ("        - id: mig-takes-turns\n          said: \"MIG runs",
         "        - id: mig-shares-sms\n          said: \"MIG runs",
         "steps[step-1].recall", "ids must be unique; repeated: ['mig-shares-sms']"),
    ],
)  # fmt: skip
def test_bad_rubrics_name_file_and_field(
    tmp_path: Path, edit: str, new: str, field: str, message: str
) -> None:
    path = _broken(tmp_path, edit, new)
    with pytest.raises(PlanError) as err:
        load_plan(path)
    text = str(err.value)
    assert text.startswith(f"{path}: field {field}"), text
    assert message in text, text
    assert "\n" not in text


def test_an_unknown_claim_field_is_refused(tmp_path: Path) -> None:
    raw = yaml.safe_load(PLAN_PATH.read_text(encoding="utf-8"))
    raw["steps"][0]["recall"]["points"][0]["claims"][0]["subject"] = "mig"
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(PlanError, match=r"claims\[0\]\.subject: Extra inputs are not permitted"):
        load_plan(path)
