"""A lesson is data: the plan file is chosen by a setting, and the code names no lesson."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tutor.engine.plan import PlanError, default_plan_path, load_plan
from tutor.settings import PROJECT_ROOT, Settings, load_settings

COUNTING = Path(__file__).parent / "counting" / "plan.yaml"


def test_the_default_plan_is_the_one_plan_in_the_corpus() -> None:
    settings = Settings()
    found = list((settings.corpus_dir / "lessons").glob("*.yaml"))
    assert settings.lesson_plan_file == found[0] and len(found) == 1


def test_the_lesson_plan_setting_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TUTOR_LESSON_PLAN", str(COUNTING))
    settings = load_settings()
    assert settings.lesson_plan_file == COUNTING
    assert load_plan(settings.lesson_plan_file).title == "Counting MIG instances"


def test_several_plans_and_no_setting_is_one_line_naming_the_fix(tmp_path: Path) -> None:
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    for name in ("a.yaml", "b.yaml"):
        (lessons / name).write_text(COUNTING.read_text(), encoding="utf-8")
    with pytest.raises(PlanError, match=r"several lesson plans \(a.yaml, b.yaml\).*lesson_plan"):
        default_plan_path(tmp_path)
    with pytest.raises(PlanError, match="no lesson plan"):
        default_plan_path(tmp_path / "empty")


def test_no_lesson_title_or_number_is_written_in_the_code() -> None:
    # Every lesson's title and id live in its plan; the code must not repeat them.
    # (A corpus document's file name, such as "lesson-23-mig", is a source, not the lesson.)
    plan = load_plan(Settings().lesson_plan_file)
    number = re.search(r"\d+", plan.id)
    needles = [re.escape(plan.title), rf"\b{re.escape(plan.id)}\b(?!-)"]
    if number:
        needles.append(rf"\bLesson {number.group(0)}\b")
    offenders = [
        f"{path.relative_to(PROJECT_ROOT)}: {match.group(0)}"
        for path in sorted((PROJECT_ROOT / "tutor").rglob("*.py"))
        for needle in needles
        for match in re.finditer(needle, path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
