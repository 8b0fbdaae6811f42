"""The sessions database's schema, as numbered migrations.

`PRAGMA user_version` holds how many have run. Each migration runs once, in order, so a
database from any earlier version of the tutor opens and is brought up to date; one from
a newer version is refused rather than written to with the wrong schema. Add a change as
a new function at the end; never edit one that has shipped.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = []


class SchemaTooNew(sqlite3.DatabaseError):
    """The database was written by a newer tutor."""


def migration(func: Migration) -> Migration:
    MIGRATIONS.append(func)
    return func


@migration
def m001_sessions_entries_outcomes_states(db: sqlite3.Connection) -> None:
    # IF NOT EXISTS: databases from before numbered migrations already have these tables.
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS sessions (
            id TEXT PRIMARY KEY, created_at REAL NOT NULL, lesson_id TEXT NOT NULL,
            model TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS entries (
            id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL REFERENCES sessions(id),
            ts REAL NOT NULL, role TEXT NOT NULL, phase TEXT NOT NULL, step_id TEXT,
            text TEXT NOT NULL, payload TEXT NOT NULL DEFAULT '{}'
        );
        CREATE TABLE IF NOT EXISTS outcomes (
            id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL REFERENCES sessions(id),
            ts REAL NOT NULL, step_id TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL,
            correct INTEGER NOT NULL, attempts INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS states (
            id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL REFERENCES sessions(id),
            ts REAL NOT NULL, state TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS entries_session ON entries(session_id, id);
        CREATE INDEX IF NOT EXISTS states_session ON states(session_id, id);
        """
    )


@migration
def m002_grades(db: sqlite3.Connection) -> None:
    """The verdict per rubric point and per misconception, and the learner's self-checks."""
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS grades (
            id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL REFERENCES sessions(id),
            ts REAL NOT NULL, step_id TEXT NOT NULL, attempt INTEGER NOT NULL,
            verdict TEXT NOT NULL, item TEXT NOT NULL, item_id TEXT NOT NULL,
            status TEXT NOT NULL, detail TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX IF NOT EXISTS grades_session ON grades(session_id, id);
        """
    )


def migrate(db: sqlite3.Connection) -> int:
    """Bring the database up to the latest schema; returns its version."""
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version > len(MIGRATIONS):
        raise SchemaTooNew(
            f"schema version {version}, newer than this tutor's {len(MIGRATIONS)}: "
            "update the tutor"
        )
    for number, step in enumerate(MIGRATIONS[version:], version + 1):
        step(db)
        # PRAGMA takes no parameters; the number is ours, not input.
        db.execute(f"PRAGMA user_version = {number}")
    return len(MIGRATIONS)
