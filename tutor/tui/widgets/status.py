"""The status line: model, local or remote, tokens per second, and what the app is doing."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget


class StatusLine(Widget):
    model: reactive[str] = reactive("")
    local: reactive[bool] = reactive(True)
    rate: reactive[float | None] = reactive(None)
    activity: reactive[str] = reactive("")
    fraction: reactive[float | None] = reactive(None)
    background: reactive[str] = reactive("")
    """What the engine is still loading behind a ready session (the corpus search, say)."""

    DEFAULT_CSS = "StatusLine { height: 1; }"

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" ● ", style="green" if self.local else "yellow")
        text.append(self.model or "no model", style="bold")
        text.append("  local" if self.local else "  remote", style="dim")
        if self.rate is not None:
            text.append(f"  {self.rate:5.1f} tok/s", style="dim")
        if self.background:
            text.append(f"  {self.background}", style="dim")
        if self.activity:
            text.append("  │  ", style="dim")
            text.append(self.activity)
            if self.fraction is not None:
                filled = round(max(0.0, min(1.0, self.fraction)) * 10)
                text.append(f" [{'█' * filled}{'░' * (10 - filled)}] {self.fraction:.0%}")
        return text
