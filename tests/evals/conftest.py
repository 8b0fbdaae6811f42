from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.fakes import ScriptedModel, by_template
from tutor.engine.engine import Engine
from tutor.engine.plan import LessonPlan, load_plan
from tutor.engine.prompts import PromptSet, load_prompts
from tutor.settings import PROJECT_ROOT

CASES_GLOB = str(PROJECT_ROOT / "evals" / "cases" / "*.yaml")


@pytest.fixture(scope="session")
def plan() -> LessonPlan:
    return load_plan(PROJECT_ROOT / "corpus" / "lessons" / "lesson-23.yaml")


@pytest.fixture(scope="session")
def prompts() -> PromptSet:
    return load_prompts(PROJECT_ROOT / "prompts")


def polite_model() -> ScriptedModel:
    """A well-behaved tutor model: short, on-task, no numbers, no answer."""
    return ScriptedModel(
        by_template(
            ask="Take a moment and commit your guess.",
            reveal="Good reasoning, keep that picture in mind.",
            recall="Nicely put.",
            teach_back="Clear explanation.",
            free="That is a good question to ask yourself here.",
            default="Good.",
        )
    )


@pytest.fixture
def make_engine(plan: LessonPlan, prompts: PromptSet) -> Callable[..., Engine]:
    def make(model: ScriptedModel | None = None) -> Engine:
        return Engine(plan=plan, prompts=prompts, model=model or polite_model())

    return make
