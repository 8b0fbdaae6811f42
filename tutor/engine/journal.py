"""The journal: what a session keeps. The transcript, the outcomes, the grades, the state.

Writes go to the SQLite record as they happen (a crash loses at most the turn in flight);
without a record the session still keeps its transcript in memory.
"""

from __future__ import annotations

from tutor.engine.events import Graded, Phase, TurnDone
from tutor.engine.protocol import TranscriptEntry
from tutor.engine.record import Outcome, Record
from tutor.engine.state import EngineState


class Journal:
    def __init__(self, record: Record | None, lesson_id: str, model: str,
                 session_id: str | None = None) -> None:  # fmt: skip
        self.record = record
        self.transcript: list[TranscriptEntry] = []
        self.restored: EngineState | None = None
        if record is not None:
            if session_id and record.has_session(session_id):
                self.session_id = session_id
                self._restore()
            else:
                self.session_id = record.new_session(lesson_id, model)
        else:
            self.session_id = session_id or "unsaved"

    def learner(self, text: str, phase: Phase, step_id: str | None) -> None:
        self.transcript.append(TranscriptEntry(role="learner", text=text, phase=phase,
                                               step_id=step_id))  # fmt: skip
        if self.record is not None:
            self.record.add_entry(self.session_id, "learner", phase, step_id, text)

    def tutor(self, done: TurnDone) -> None:
        entry = TranscriptEntry(
            role="tutor", text=done.text, phase=done.phase, step_id=done.step_id,
            citations=[c.model_dump() for c in done.citations],
            tool_calls=[t.model_dump() for t in done.tool_calls],
        )  # fmt: skip
        self.transcript.append(entry)
        if self.record is not None:
            self.record.add_entry(
                self.session_id, "tutor", done.phase, done.step_id, done.text,
                {"citations": entry.citations, "tool_calls": entry.tool_calls,
                 "prompt_hash": done.prompt_hash, "model": done.model, "replaced": done.replaced,
                 "prompts_rendered": done.prompts_rendered},
            )  # fmt: skip

    def outcome(self, step_id: str, kind: str, value: str, correct: bool, attempts: int) -> None:
        if self.record is not None:
            self.record.add_outcome(
                self.session_id,
                Outcome(step_id=step_id, kind=kind, value=value, correct=correct,
                        attempts=attempts),
            )  # fmt: skip

    def grade(self, graded: Graded) -> None:
        if self.record is not None:
            self.record.add_grade(self.session_id, graded)

    def self_check(self, step_id: str, point_ids: list[str], answers: list[bool]) -> None:
        if self.record is not None:
            self.record.add_self_check(self.session_id, step_id, point_ids, answers)

    def save(self, state: EngineState) -> None:
        if self.record is not None:
            self.record.save_state(self.session_id, state.model_dump(mode="json"))

    def close(self) -> None:
        if self.record is not None:
            self.record.close()

    def _restore(self) -> None:
        assert self.record is not None
        saved = self.record.latest_state(self.session_id)
        if saved is not None:
            self.restored = EngineState.model_validate(saved)
        for entry in self.record.entries(self.session_id):
            self.transcript.append(
                TranscriptEntry(
                    role="learner" if entry.role == "learner" else "tutor",
                    text=entry.text, phase=entry.phase,  # type: ignore[arg-type]
                    step_id=entry.step_id,
                    citations=entry.payload.get("citations", []),
                    tool_calls=entry.payload.get("tool_calls", []),
                )
            )  # fmt: skip
