"""The sessions database's numbered migrations: old databases open and keep their data,
newer ones are refused in one line."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tutor.engine.migrations import MIGRATIONS
from tutor.engine.record import Record, RecordError


def test_a_new_database_is_at_the_latest_version(tmp_path: Path) -> None:
    Record(tmp_path / "s.sqlite").close()
    db = sqlite3.connect(tmp_path / "s.sqlite")
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) >= 2


def test_a_database_from_before_grades_is_migrated_and_keeps_its_sessions(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    MIGRATIONS[0](db)  # what the tutor wrote before grades existed, at user_version 0
    db.execute("INSERT INTO sessions VALUES ('s1', 1.0, 'lesson-23', 'local/smollm2')")
    db.commit()
    db.close()
    record = Record(path)
    assert record.has_session("s1")
    assert record.grades("s1") == []
    version = sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0]
    assert version == len(MIGRATIONS)


def test_a_database_from_a_newer_tutor_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    before = path.read_bytes()
    with pytest.raises(RecordError, match="newer than this tutor"):
        Record(path)
    assert path.read_bytes() == before
