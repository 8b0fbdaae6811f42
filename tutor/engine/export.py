"""A saved session as markdown: the one exporter, behind `tutor sessions export` and the
app's Ctrl+S. Both read the sessions database, so both write the same text: the lesson,
the outcome of each step, then every turn with its phase, citations and calculator calls.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tutor.engine.labels import phase_label
from tutor.engine.protocol import TranscriptEntry

if TYPE_CHECKING:
    from tutor.engine.record import Record


@dataclass(frozen=True)
class OutcomeRow:
    step: str
    kind: str
    answer: str
    result: str


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")[:80]


def session_markdown(
    session_id: str,
    entries: Sequence[TranscriptEntry],
    *,
    title: str | None = None,
    details: Sequence[tuple[str, str]] = (),
    outcomes: Sequence[OutcomeRow] = (),
) -> str:
    heading = f"{title} — session {session_id}" if title else f"Session {session_id}"
    lines = [f"# {heading}", ""]
    if details:
        lines += [f"- {key}: {value}" for key, value in details] + [""]
    if outcomes:
        lines += ["## Outcomes", "", "| step | kind | answer | result |", "|---|---|---|---|"]
        lines += [
            f"| {_cell(o.step)} | {o.kind} | {_cell(o.answer)} | {o.result} |" for o in outcomes
        ]
        lines.append("")
    lines += ["## Transcript", ""]
    for entry in entries:
        # A learner's message is saved with the phase its turn ended in, which says
        # nothing about the message itself; the tutor's phase names its reply.
        who = "### You" if entry.role == "learner" else f"### Tutor · {phase_label(entry.phase)}"
        lines += [who, "", entry.text.strip(), ""]
        citations = [c for c in entry.citations if isinstance(c, dict)]
        if citations:
            lines.append("Sources:")
            for n, c in enumerate(citations, 1):
                label = " > ".join(str(c[k]) for k in ("title", "section") if c.get(k))
                url = f" <{c['url']}>" if c.get("url") else ""
                lines.append(f"{n}. {label}{url}")
            lines.append("")
        for t in entry.tool_calls:
            lines.append(f"> calculator: {t.get('name')}({t.get('arguments')}) = {t.get('result')}")
        if entry.tool_calls:
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def transcript_markdown(record: Record, session_id: str, *, title: str | None = None) -> str:
    """A saved session, read back from the sessions database."""
    info = next((s for s in record.sessions() if s.id == session_id), None)
    details: list[tuple[str, str]] = []
    if info is not None:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.created_at))
        details = [("lesson", info.lesson_id), ("model", info.model), ("started", when)]
    outcomes = [
        OutcomeRow(o.step_id, o.kind, o.value, "right" if o.correct else "wrong")
        for o in record.outcomes(session_id)
    ]
    entries = [
        TranscriptEntry(
            role="learner" if e.role == "learner" else "tutor",
            text=e.text,
            phase=e.phase,  # type: ignore[arg-type]
            step_id=e.step_id,
            citations=e.payload.get("citations", []),
            tool_calls=e.payload.get("tool_calls", []),
        )
        for e in record.entries(session_id)
    ]
    return session_markdown(session_id, entries, title=title, details=details, outcomes=outcomes)


def write_export(
    folder: Path, stem: str, session_id: str, text: str, now: dt.datetime | None = None
) -> Path:
    """Write `text` as `<stem>-<session>-<time>.md` under `folder`; returns the path."""
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    folder.mkdir(parents=True, exist_ok=True)
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in f"{stem}-{session_id}")
    path = folder / f"{safe[:60]}-{stamp}.md"
    path.write_text(text, encoding="utf-8")
    return path
