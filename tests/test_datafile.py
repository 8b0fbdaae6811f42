"""Bad data files get one line naming the file, the field (by item id) and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.datafile import DataFileError, load_model
from tutor.engine.plan import LessonPlan, PlanError, load_plan
from tutor.settings import PROJECT_ROOT

PLAN = PROJECT_ROOT / "corpus" / "lessons" / "lesson-23.yaml"


def test_shipped_plan_loads() -> None:
    plan = load_plan(PLAN)
    assert [s.id for s in plan.steps][:4] == ["step-1", "step-2", "step-3", "step-4"]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda t: t.replace("        correct: true\n", "", 1), "steps[step-1]"),
        (lambda t: t.replace("key: C", "key: c", 1), "steps[step-1].options[c].key"),
        (lambda t: t.replace('title: "Your cluster"', "title: [1, 2]", 1), "steps[step-4].title"),
        (lambda t: t.replace("  - id: step-2\n", "  - id: step-1\n", 1), "step ids must be unique"),
        (lambda t: t + "\n  - {oops", "not valid YAML at line"),
    ],
)
def test_bad_plan_names_file_and_field(tmp_path: Path, mutate: object, expected: str) -> None:
    bad = tmp_path / "plan.yaml"
    bad.write_text(mutate(PLAN.read_text()))  # type: ignore[operator]
    with pytest.raises(PlanError) as info:
        load_plan(bad)
    message = str(info.value)
    assert str(bad) in message and expected in message
    assert "\n" not in message


def test_missing_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="lesson plan not found"):
        load_plan(tmp_path / "nope.yaml")
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(DataFileError, match="not UTF-8"):
        load_model(binary, LessonPlan)


def test_json_errors_name_the_line(tmp_path: Path) -> None:
    broken = tmp_path / "x.json"
    broken.write_text('{\n  "id": 1,\n  oops\n}')
    with pytest.raises(DataFileError, match=r"x.json: invalid JSON at line 3"):
        load_model(broken, LessonPlan)
