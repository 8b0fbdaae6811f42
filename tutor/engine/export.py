"""A session as markdown: predictions, reveals, citations and outcomes."""

from __future__ import annotations

import time

from tutor.engine.record import Record


def transcript_markdown(record: Record, session_id: str) -> str:
    info = next((s for s in record.sessions() if s.id == session_id), None)
    lines = [f"# Session {session_id}", ""]
    if info is not None:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.created_at))
        lines += [f"- lesson: {info.lesson_id}", f"- model: {info.model}", f"- started: {when}", ""]
    outcomes = record.outcomes(session_id)
    if outcomes:
        lines += ["## Outcomes", "", "| step | kind | answer | result |", "|---|---|---|---|"]
        for o in outcomes:
            value = o.value.replace("|", "\\|").replace("\n", " ")[:80]
            lines.append(
                f"| {o.step_id} | {o.kind} | {value} | {'right' if o.correct else 'wrong'} |"
            )
        lines.append("")
    lines += ["## Transcript", ""]
    for entry in record.entries(session_id):
        who = "**You**" if entry.role == "learner" else f"**Tutor** ({entry.phase})"
        lines += [f"{who}:", "", entry.text, ""]
        for i, c in enumerate(entry.payload.get("citations", []), 1):
            url = f" <{c['url']}>" if c.get("url") else ""
            lines.append(f"> [{i}] {c.get('title')} > {c.get('section')}{url}")
        for t in entry.payload.get("tool_calls", []):
            lines.append(f"> calculator: {t.get('name')}({t.get('arguments')}) = {t.get('result')}")
        lines.append("")
    return "\n".join(lines)
