from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fakes import ScriptedModel
from tutor.engine.engine import Engine
from tutor.engine.plan import LessonPlan, load_plan
from tutor.engine.prompts import PromptSet, load_prompts
from tutor.engine.record import Record
from tutor.settings import PROJECT_ROOT


@pytest.fixture(scope="session")
def plan() -> LessonPlan:
    return load_plan(PROJECT_ROOT / "corpus" / "lessons" / "lesson-23.yaml")


@pytest.fixture(scope="session")
def prompts() -> PromptSet:
    return load_prompts(PROJECT_ROOT / "prompts")


@pytest.fixture
def make_engine(plan: LessonPlan, prompts: PromptSet, tmp_path: Path) -> Callable[..., Engine]:
    def make(model: ScriptedModel | None = None, **kwargs: object) -> Engine:
        kwargs.setdefault("record", Record(tmp_path / "sessions.sqlite"))
        return Engine(plan=plan, prompts=prompts, model=model or ScriptedModel(), **kwargs)  # type: ignore[arg-type]

    return make
