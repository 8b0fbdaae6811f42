"""Words for engine states, shared by every face (the app, exports, the CLI)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tutor.engine.events import Phase

PHASE_LABELS: dict[str, str] = {
    "ask": "asking",
    "reveal": "revealed",
    "recall": "recall",
    "teach_back": "teach-back",
    "free": "free chat",
    "done": "done",
}


def phase_label(phase: Phase | str | None) -> str:
    if phase is None:
        return ""
    return PHASE_LABELS.get(phase, str(phase))
