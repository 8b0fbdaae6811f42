"""Lesson progress: every step of the plan, with the learner's outcome."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

if TYPE_CHECKING:
    from tutor.engine.protocol import StepProgress

ICONS = {"pending": "○", "current": "▶", "right": "✓", "wrong": "✗", "done": "●"}
STATUS_STYLE = {
    "pending": "dim",
    "current": "bold",
    "right": "bold green",
    "wrong": "bold red",
    "done": "bold",
}


def step_text(step: StepProgress) -> Text:
    text = Text()
    text.append(f"{ICONS.get(step.status, '?')} ", style=STATUS_STYLE.get(step.status, ""))
    text.append(step.title, style="bold" if step.status == "current" else "")
    if step.guess or step.answer:
        detail = []
        if step.guess:
            detail.append(f"you: {step.guess}")
        if step.answer and step.status in {"right", "wrong", "done"}:
            detail.append(f"answer: {step.answer}")
        text.append("\n  " + " · ".join(detail), style="dim")
    return text


class LessonProgress(Vertical):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Lesson"
        self.steps: list[StepProgress] = []

    def compose(self) -> ComposeResult:
        yield Static("Loading the lesson…", classes="progress-empty")
        yield Vertical(classes="progress-steps")

    async def show(self, steps: list[StepProgress]) -> None:
        old_ids = [s.step_id for s in self.steps]
        self.steps = list(steps)
        self.query_one(".progress-empty").display = not steps
        box = self.query_one(".progress-steps", Vertical)
        if old_ids == [s.step_id for s in steps] and len(box.children) == len(steps):
            # Same lesson plan: update in place rather than remount (this runs several
            # times per turn).
            for widget, step in zip(box.query(Static), steps, strict=True):
                widget.update(step_text(step))
                widget.set_classes(f"step {step.status}")
        else:
            await box.remove_children()
            await box.mount_all(
                Static(step_text(s), classes=f"step {s.status}", name=s.step_id) for s in steps
            )
        finished = sum(s.status in {"right", "wrong", "done"} for s in steps)
        self.border_subtitle = f"{finished}/{len(steps)}" if steps else ""
