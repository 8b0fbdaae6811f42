"""The shipped lesson plan and its rubrics, loaded once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.engine.plan import LessonPlan, load_plan
from tutor.grading import Rubric

ROOT = Path(__file__).resolve().parents[2]
PLAN_PATH = ROOT / "corpus" / "lessons" / "lesson-23.yaml"


@pytest.fixture(scope="session")
def plan() -> LessonPlan:
    return load_plan(PLAN_PATH)


@pytest.fixture(scope="session")
def rubrics(plan: LessonPlan) -> dict[str, Rubric]:
    return {s.id: Rubric.from_step(s) for s in plan.steps if s.recall is not None or s.rubric}
