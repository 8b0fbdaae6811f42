from __future__ import annotations

from pathlib import Path

import pytest

from tests.evals.conftest import CASES_GLOB
from tutor.engine.plan import LessonPlan
from tutor.evals.cases import CaseError, fill_answer, load_case_file, load_cases


def test_the_shipped_cases_cover_the_issue(plan: LessonPlan) -> None:
    cases = load_cases(CASES_GLOB, plan)
    assert len(cases) >= 60
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids))
    # Every wrong option of every step has a case that picks it.
    picked = {(c.start_step, t.text.strip()) for c in cases for t in c.turns}
    for step in plan.steps:
        for option in step.options:
            assert (step.id, option.key) in picked, f"{step.id} option {option.key} has no case"
    gpus = {
        (c.calc.arguments.get("gpu"))
        for c in cases
        if c.calc is not None and c.calc.tool == "mig_capacity"
    }
    assert len(gpus) >= 6
    tags = {t for c in cases for t in c.tags}
    assert {"recall", "teach-back", "adversarial", "language", "off-topic", "persona"} <= tags
    assert {c.persona for c in cases} >= {"careful", "confident-wrong", "answer-seeker"}


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("cases:\n  - id: a\n    start: step-1\n", "case 'a' field '(case)': a case needs 'turns'"),
        (
            "cases:\n  - id: a\n    turns:\n      - say: x\n        commit: y\n",
            "case 'a' field 'turns.0'",
        ),
        (
            "cases:\n  - id: a\n    turns:\n      - say: x\n        expect: {verdit: right}\n",
            "case 'a' field 'turns.0.expect.verdit': Extra inputs are not permitted",
        ),
        (
            "cases:\n  - id: a\n    turns:\n      - say: x\n        expect: {verdict: maybe}\n",
            "case 'a' field 'turns.0.expect.verdict'",
        ),
        ("cases:\n  - id: Bad Id\n    turns: [{say: x}]\n", "case 'Bad Id' field 'id'"),
        ("cases:\n  - turns: [{say: x}]\n", "case #1 field 'id': Field required"),
        ("cases: []\n", "field 'cases'"),
        ("cases:\n  - id: a\n    start: free\n    turns: [{say: '{answer}'}]\n", "needs 'calc'"),
        (
            "cases:\n  - id: a\n    turns:\n      - say: x\n        expect: {regex: ['(']}\n",
            "bad regex",
        ),
        ("cases:\n  - id: a\n    turns: [{say: x}\n", "not valid YAML at line"),
    ],
)
def test_bad_case_files_name_the_file_and_field(tmp_path: Path, body: str, expected: str) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(CaseError) as info:
        load_case_file(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert expected in message
    assert "\n" not in message


def test_cases_are_checked_against_the_plan(tmp_path: Path, plan: LessonPlan) -> None:
    path = _write(tmp_path, "cases:\n  - id: a\n    start: step-9\n    turns: [{say: B}]\n")
    with pytest.raises(CaseError, match=r"case 'a' field 'start': no step 'step-9'"):
        load_case_file(path, plan)
    path = _write(
        tmp_path, "cases:\n  - id: a\n    start: step-1\n    turns: [{say: '{answer}'}]\n"
    )
    with pytest.raises(CaseError, match="field 'calc'"):
        load_case_file(path, plan)


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("cases:\n  - id: same\n    turns: [{say: x}]\n")
    (tmp_path / "b.yaml").write_text("cases:\n  - id: same\n    turns: [{say: y}]\n")
    with pytest.raises(CaseError, match=r"b.yaml: case 'same' field 'id': already used in"):
        load_cases(tmp_path / "*.yaml")


def test_no_matching_files(tmp_path: Path) -> None:
    with pytest.raises(CaseError, match="no case files match"):
        load_cases(tmp_path / "*.yaml")


def test_answer_placeholders_come_from_the_value() -> None:
    assert fill_answer("I think {answer}", 20) == "I think 20"
    assert fill_answer("{answer+1} or {answer-2}", 7) == "8 or 5"
    assert fill_answer("{answer}", "1g.20gb") == "1g.20gb"
    with pytest.raises(ValueError):
        fill_answer("{answer+1}", "1g.20gb")
    with pytest.raises(ValueError):
        fill_answer("{answer}", None)


def test_file_tags_apply_to_every_case(tmp_path: Path) -> None:
    path = _write(tmp_path, "tags: [t]\ncases:\n  - id: a\n    tags: [u]\n    turns: [{say: x}]\n")
    assert load_case_file(path)[0].tags == ["t", "u"]
