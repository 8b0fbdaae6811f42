"""The learner record: sessions, transcript and per-concept outcomes in SQLite.

Writes are append-only and committed one by one, so a crash loses at most the
turn in flight. Resuming replays the latest saved state.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from tutor.engine.migrations import migrate
from tutor.redact import clean
from tutor.redact import clean_tree as _scrub

if TYPE_CHECKING:
    from tutor.engine.events import Graded



class RecordError(Exception):
    """The sessions database cannot be opened or read."""


class SessionInfo(BaseModel):
    id: str
    created_at: float
    lesson_id: str
    model: str
    turns: int
    last_step: str | None


class Entry(BaseModel):
    role: str
    phase: str
    step_id: str | None
    text: str
    payload: dict[str, Any]
    ts: float


class Outcome(BaseModel):
    step_id: str
    kind: str
    value: str
    correct: bool
    attempts: int


class GradeRow(BaseModel):
    """One graded item of a recall or teach-back answer: a point, a misconception, a self-check.

    item "point": status said / missing / contradicted / unsure, detail = the learner's clause.
    item "misconception": status "stated", detail = what the learner claimed.
    item "self_check": status "yes" / "no", the learner's own check of a point.
    """

    step_id: str
    attempt: int
    verdict: str
    item: Literal["point", "misconception", "self_check"]
    item_id: str
    status: str
    detail: str = ""


class Record:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            # The schema check comes before WAL mode, which rewrites the file header: a
            # database from a newer tutor is refused byte for byte untouched.
            migrate(self._db)
            self._db.execute("PRAGMA journal_mode=WAL")
            # Page-level damage opens fine and fails on the first read that hits it, as a
            # traceback mid-lesson; a quick check (milliseconds at this size) finds it now.
            verdict = self._db.execute("PRAGMA quick_check(1)").fetchone()
            if verdict is None or verdict[0] != "ok":
                detail = str(verdict[0]).replace("*** in database main ***", "") if verdict else ""
                raise sqlite3.DatabaseError(f"damaged: {detail or 'no check result'}")
        except sqlite3.DatabaseError as exc:
            raise RecordError(
                f"{path}: cannot open the sessions database ({' '.join(str(exc).split())}); "
                "it was left untouched: move it aside to start fresh"
            ) from exc

    def close(self) -> None:
        self._db.close()

    def new_session(self, lesson_id: str, model: str) -> str:
        session_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        self._db.execute(
            "INSERT INTO sessions VALUES (?, ?, ?, ?)", (session_id, time.time(), lesson_id, model)
        )
        return session_id

    def add_entry(
        self,
        session_id: str,
        role: str,
        phase: str,
        step_id: str | None,
        text: str,
        payload: dict[str, Any] | None = None,
    ) -> None:
        self._db.execute(
            "INSERT INTO entries (session_id, ts, role, phase, step_id, text, payload) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (session_id, time.time(), role, phase, step_id, clean(text),
             json.dumps(_scrub(payload or {}), default=str)),
        )  # fmt: skip

    def add_outcome(self, session_id: str, outcome: Outcome) -> None:
        self._db.execute(
            "INSERT INTO outcomes (session_id, ts, step_id, kind, value, correct, attempts) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (session_id, time.time(), outcome.step_id, outcome.kind, clean(outcome.value),
             int(outcome.correct), outcome.attempts),
        )  # fmt: skip

    def add_grade(self, session_id: str, graded: Graded) -> int:
        """Keep the verdict per point and per misconception; returns the attempt number."""
        row = self._db.execute(
            "SELECT COALESCE(MAX(attempt), 0) FROM grades WHERE session_id = ? AND step_id = ?",
            (session_id, graded.step_id),
        ).fetchone()
        attempt = int(row[0]) + 1
        rows: list[tuple[str, str, str, str]] = [
            ("point", p.point_id, p.status, p.evidence) for p in graded.points
        ]
        rows += [("misconception", c.claim_id, "stated", c.said) for c in graded.contradictions]
        now = time.time()
        self._db.executemany(
            "INSERT INTO grades (session_id, ts, step_id, attempt, verdict, item, item_id, "
            "status, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(session_id, now, graded.step_id, attempt, graded.verdict, *r) for r in rows],
        )
        return attempt

    def add_self_check(
        self, session_id: str, step_id: str, point_ids: list[str], answers: list[bool]
    ) -> None:
        """The learner's yes/no per point, against their latest graded attempt at the step."""
        if len(point_ids) != len(answers):
            raise ValueError(f"{len(answers)} answers for {len(point_ids)} points")
        row = self._db.execute(
            "SELECT COALESCE(MAX(attempt), 1) FROM grades WHERE session_id = ? AND step_id = ?",
            (session_id, step_id),
        ).fetchone()
        now = time.time()
        self._db.executemany(
            "INSERT INTO grades (session_id, ts, step_id, attempt, verdict, item, item_id, "
            "status, detail) VALUES (?, ?, ?, ?, 'cant_tell', 'self_check', ?, ?, '')",
            [(session_id, now, step_id, int(row[0]), pid, "yes" if ok else "no")
             for pid, ok in zip(point_ids, answers, strict=True)],
        )  # fmt: skip

    def grades(self, session_id: str) -> list[GradeRow]:
        rows = self._db.execute(
            "SELECT step_id, attempt, verdict, item, item_id, status, detail FROM grades "
            "WHERE session_id = ? ORDER BY id",
            (session_id,),
        ).fetchall()
        return [
            GradeRow(step_id=r[0], attempt=r[1], verdict=r[2], item=r[3], item_id=r[4],
                     status=r[5], detail=r[6])
            for r in rows
        ]  # fmt: skip

    def to_review(self, session_id: str) -> list[GradeRow]:
        """What a later review should target: in each step's latest attempt, the points not
        made (unless the learner's self-check says they were) and the misconceptions stated."""
        latest: dict[str, int] = {}
        rows = self.grades(session_id)
        for r in rows:
            latest[r.step_id] = max(latest.get(r.step_id, 0), r.attempt)
        current = [r for r in rows if r.attempt == latest[r.step_id]]
        checked = {(r.step_id, r.item_id): r.status for r in current if r.item == "self_check"}
        out = []
        for r in current:
            if r.item == "misconception":
                out.append(r)
            elif r.item == "point" and r.status != "said":
                if checked.get((r.step_id, r.item_id)) != "yes":
                    out.append(r)
            elif r.item == "self_check" and r.status == "no":
                out.append(r)
        # A self-check "no" and its unsure point name the same gap once.
        seen: set[tuple[str, str]] = set()
        unique = []
        for r in out:
            key = (r.step_id, r.item_id)
            if key not in seen:
                seen.add(key)
                unique.append(r)
        return unique

    def save_state(self, session_id: str, state: dict[str, Any]) -> None:
        self._db.execute(
            "INSERT INTO states (session_id, ts, state) VALUES (?, ?, ?)",
            (session_id, time.time(), json.dumps(_scrub(state))),
        )

    def latest_state(self, session_id: str) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT state FROM states WHERE session_id = ? ORDER BY id DESC LIMIT 1", (session_id,)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def entries(self, session_id: str) -> list[Entry]:
        rows = self._db.execute(
            "SELECT role, phase, step_id, text, payload, ts FROM entries "
            "WHERE session_id = ? ORDER BY id",
            (session_id,),
        ).fetchall()
        return [
            Entry(role=r[0], phase=r[1], step_id=r[2], text=r[3], payload=json.loads(r[4]), ts=r[5])
            for r in rows
        ]

    def outcomes(self, session_id: str) -> list[Outcome]:
        rows = self._db.execute(
            "SELECT step_id, kind, value, correct, attempts FROM outcomes "
            "WHERE session_id = ? ORDER BY id",
            (session_id,),
        ).fetchall()
        return [
            Outcome(step_id=r[0], kind=r[1], value=r[2], correct=bool(r[3]), attempts=r[4])
            for r in rows
        ]

    def sessions(self) -> list[SessionInfo]:
        rows = self._db.execute(
            "SELECT s.id, s.created_at, s.lesson_id, s.model, "
            "(SELECT COUNT(*) FROM entries e WHERE e.session_id = s.id), "
            "(SELECT step_id FROM entries e WHERE e.session_id = s.id ORDER BY id DESC LIMIT 1) "
            "FROM sessions s ORDER BY s.created_at DESC"
        ).fetchall()
        return [
            SessionInfo(
                id=r[0], created_at=r[1], lesson_id=r[2], model=r[3], turns=r[4], last_step=r[5]
            )
            for r in rows
        ]

    def latest_session(self) -> str | None:
        row = self._db.execute(
            "SELECT id FROM sessions ORDER BY created_at DESC, rowid DESC LIMIT 1"
        ).fetchone()
        return str(row[0]) if row else None

    def has_session(self, session_id: str) -> bool:
        row = self._db.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return row is not None


def grades_markdown(rows: list[GradeRow]) -> str:
    """The per-point verdicts of a session as a markdown section ('' when there are none)."""
    if not rows:
        return ""
    lines = [
        "## Answers point by point",
        "",
        "| step | try | verdict | item | status | detail |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        detail = r.detail.replace("|", "\\|").replace("\n", " ")[:80]
        lines.append(
            f"| {r.step_id} | {r.attempt} | {r.verdict} | {r.item}: {r.item_id} | {r.status} "
            f"| {detail} |"
        )
    return "\n".join(lines) + "\n"

