"""The learner record keeps the verdict per point and per misconception; export shows it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from tutor.cli.main import app
from tutor.engine.record import Record, grades_markdown
from tutor.grading import Rubric, grade, read_self_check

runner = CliRunner()


def test_grades_are_kept_per_point_and_per_misconception(
    tmp_path: Path, rubrics: dict[str, Rubric]
) -> None:
    record = Record(tmp_path / "s.sqlite")
    sid = record.new_session("lesson-23", "test")
    g = grade("instances do not get their own SMs or L2, they share them", rubrics["step-1"])
    assert record.add_grade(sid, g.to_event("step-1")) == 1
    rows = record.grades(sid)
    points = {r.item_id: r.status for r in rows if r.item == "point"}
    assert points == {"own-sms": "contradicted", "own-memory": "missing", "own-l2": "contradicted"}
    stated = {r.item_id for r in rows if r.item == "misconception"}
    assert {"mig-shares-sms", "mig-shares-l2"} <= stated
    assert all(r.verdict == "contradicts" and r.attempt == 1 for r in rows)
    # A second try at the step is attempt 2, and review targets only the latest one.
    g2 = grade("Its own SMs and its own memory.", rubrics["step-1"])
    assert record.add_grade(sid, g2.to_event("step-1")) == 2
    review = record.to_review(sid)
    assert [(r.item, r.item_id) for r in review] == [("point", "own-l2")]


def test_a_self_check_is_recorded_and_settles_review(
    tmp_path: Path, rubrics: dict[str, Rubric]
) -> None:
    rubric = rubrics["step-2"]
    record = Record(tmp_path / "s.sqlite")
    sid = record.new_session("lesson-23", "test")
    g = grade("One is isolated in hardware, the other takes turns.", rubric)
    assert g.verdict == "cant_tell"
    record.add_grade(sid, g.to_event("step-2"))
    answers = read_self_check("yes to the first two, no to the last", len(rubric.points))
    assert answers == [True, True, False]
    record.add_self_check(sid, "step-2", [p.id for p in rubric.points], answers)
    checks = {r.item_id: r.status for r in record.grades(sid) if r.item == "self_check"}
    assert checks == {"mig-isolation": "yes", "ts-turns": "yes", "ts-noisy": "no"}
    assert [r.item_id for r in record.to_review(sid)] == ["ts-noisy"]


def test_an_older_database_gains_the_grades_table(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE sessions (id TEXT PRIMARY KEY, created_at REAL NOT NULL, "
               "lesson_id TEXT NOT NULL, model TEXT NOT NULL)")  # fmt: skip
    db.commit()
    db.close()
    record = Record(path)
    sid = record.new_session("lesson-23", "test")
    assert record.grades(sid) == []


def test_sessions_export_shows_the_answers_point_by_point(rubrics: dict[str, Rubric]) -> None:
    from tutor.settings import load_settings

    record = Record(load_settings().sessions_db)
    sid = record.new_session("lesson-23", "test")
    record.add_entry(sid, "learner", "recall", "step-1", "they share the SMs")
    g = grade("instances do not get their own SMs or L2, they share them", rubrics["step-1"])
    record.add_grade(sid, g.to_event("step-1"))
    record.close()
    result = runner.invoke(app, ["sessions", "export", sid])
    assert result.exit_code == 0, result.output
    assert "## Answers point by point" in result.output
    assert (
        "| step-1 | 1 | contradicts | point: own-sms | contradicted | instances do not get their "
        "own SMs or L2 |" in result.output
    )
    assert "| misconception: mig-shares-sms | stated | MIG instances share the SMs |" in (
        result.output
    )


def test_no_grades_no_section() -> None:
    assert grades_markdown([]) == ""
