"""What the CLI prints and the record stores: no escape codes, no keys, honest exit codes."""

from __future__ import annotations

import io
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tutor.cli import chat as chat_cli
from tutor.cli.main import app
from tutor.engine import factory
from tutor.engine.events import Event, TextDelta, TurnDone, TurnFailed
from tutor.engine.plan import PlanError, load_plan
from tutor.engine.record import Record, RecordError
from tutor.settings import load_settings

KEY = "sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX"
HOSTILE = f"Hello\x1b[2J\x1b]0;owned\x07 there, your key is {KEY}."


class _StubEngine:
    """An engine whose turns are given: the CLI's own behaviour is under test."""

    def __init__(self, opening: list[Event], reply: list[Event]) -> None:
        self.opening = opening
        self.reply = reply

    async def _play(self, events: list[Event]) -> AsyncIterator[Event]:
        for event in events:
            yield event

    def start(self) -> AsyncIterator[Event]:
        return self._play(self.opening)

    def send(self, text: str) -> AsyncIterator[Event]:
        return self._play(self.reply)


def _stub(monkeypatch: pytest.MonkeyPatch, engine: _StubEngine) -> None:
    def build(settings: Any, **kwargs: Any) -> _StubEngine:
        return engine

    monkeypatch.setattr(factory, "build_engine", build)


def _done(text: str) -> TurnDone:
    return TurnDone(phase="ask", text=text)


@pytest.mark.parametrize("jsonl", [False, True])
async def test_printed_text_has_no_escape_codes_or_keys(
    monkeypatch: pytest.MonkeyPatch, jsonl: bool
) -> None:
    engine = _StubEngine([TextDelta(text=HOSTILE), _done(HOSTILE)], [])
    _stub(monkeypatch, engine)
    out = io.StringIO()
    code = await chat_cli.run_plain(
        load_settings(), jsonl=jsonl, resume=False, inp=io.StringIO(""), out=out
    )
    printed = out.getvalue()
    assert code == 0
    assert "\x1b" not in printed and "\x07" not in printed and "\\u001b" not in printed
    assert KEY not in printed and "[redacted]" in printed


async def test_a_failed_opening_turn_exits_non_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    failed = TurnFailed(message=f"model: the provider refused {KEY}", learner_text="")
    _stub(monkeypatch, _StubEngine([failed], [_done("fine")]))
    out = io.StringIO()
    code = await chat_cli.run_plain(
        load_settings(), jsonl=False, resume=False, inp=io.StringIO("B\n"), out=out
    )
    assert code != 0
    assert KEY not in out.getvalue()


def test_one_line_errors_are_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    import typer

    from tutor.cli.common import fail

    with pytest.raises(typer.Exit):
        fail(f"401 from the provider:\n{KEY}")
    err = capsys.readouterr().err
    assert KEY not in err and err.count("\n") == 1


def test_the_record_stores_no_key_and_no_escape_codes(tmp_path: Path) -> None:
    record = Record(tmp_path / "sessions.sqlite")
    session = record.new_session("lesson-23", "openai/x")
    record.add_entry(session, "tutor", "ask", "step-1", HOSTILE, {"citations": [{"text": HOSTILE}]})
    record.save_state(session, {"note": HOSTILE})
    raw = (tmp_path / "sessions.sqlite").read_bytes()
    for wal in tmp_path.glob("sessions.sqlite-wal"):
        raw += wal.read_bytes()
    assert KEY.encode() not in raw
    entry = record.entries(session)[0]
    assert "\x1b" not in entry.text and KEY not in entry.text
    assert KEY not in str(entry.payload) and "\x1b" not in str(entry.payload)
    state = record.latest_state(session)
    assert state is not None and KEY not in state["note"]


def _damage(path: Path) -> bytes:
    record = Record(path)
    session = record.new_session("lesson-23", "m")
    for _ in range(300):
        record.add_entry(session, "tutor", "ask", "step-1", "x" * 500)
    record._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    record.close()
    data = bytearray(path.read_bytes())
    page = 4096
    for offset in range(page * 3, page * 4, 7):  # scribble over one b-tree page
        data[offset] = 0xAB
    path.write_bytes(bytes(data))
    return bytes(data)


def test_page_level_damage_is_one_line_and_left_untouched(_isolated_home: Path) -> None:
    db = _isolated_home / "sessions.sqlite"
    before = _damage(db)
    with sqlite3.connect(db) as probe, pytest.raises(sqlite3.DatabaseError):
        probe.execute("SELECT SUM(LENGTH(text)) FROM entries").fetchall()
    with pytest.raises(RecordError):
        Record(db)
    result = CliRunner().invoke(app, ["sessions", "list"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "sessions database" in lines[0] and "untouched" in lines[0]
    assert db.read_bytes() == before


def _plan_text() -> str:
    return load_settings().lesson_plan_file.read_text(encoding="utf-8")


def test_a_plan_with_no_steps_is_refused(tmp_path: Path) -> None:
    import yaml

    data = yaml.safe_load(_plan_text())
    data["steps"] = []
    bad = tmp_path / "plan.yaml"
    bad.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(PlanError) as info:
        load_plan(bad)
    assert str(bad) in str(info.value) and "at least one step" in str(info.value)
    assert "\n" not in str(info.value)


def test_a_plan_naming_an_unknown_tool_is_refused(tmp_path: Path) -> None:
    import yaml

    data = yaml.safe_load(_plan_text())
    numeric = next(s for s in data["steps"] if s.get("numeric"))
    real = numeric["numeric"]["tool"]
    numeric["numeric"]["tool"] = real + "x"
    bad = tmp_path / "plan.yaml"
    bad.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(PlanError) as info:
        load_plan(bad)
    message = str(info.value)
    assert f"unknown tool '{real}x'" in message and f"did you mean '{real}'" in message
    assert "\n" not in message
