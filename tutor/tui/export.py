"""Transcript export as markdown."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from tutor.engine.protocol import TranscriptEntry
from tutor.tui.labels import phase_label


def transcript_markdown(session_id: str, entries: Sequence[TranscriptEntry]) -> str:
    lines = [f"# Lesson 23 · Multi-Instance GPU — session {session_id}", ""]
    for entry in entries:
        who = "You" if entry.role == "learner" else "Tutor"
        lines.append(f"### {who} · {phase_label(entry.phase)}")
        lines.append("")
        lines.append(entry.text.strip())
        lines.append("")
        sources = [c for c in entry.citations if isinstance(c, dict)]
        if sources:
            lines.append("Sources:")
            for n, c in enumerate(sources, 1):
                label = " > ".join(str(c[k]) for k in ("title", "section") if c.get(k))
                url = f" <{c['url']}>" if c.get("url") else ""
                lines.append(f"{n}. {label}{url}")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def export_transcript(
    home: Path, session_id: str, entries: Sequence[TranscriptEntry], now: dt.datetime | None = None
) -> Path:
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    folder = home / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    safe_id = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in session_id)[:40]
    path = folder / f"lesson-23-{safe_id}-{stamp}.md"
    path.write_text(transcript_markdown(session_id, entries), encoding="utf-8")
    return path
