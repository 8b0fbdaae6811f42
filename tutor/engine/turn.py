"""The turn writer: the one place that both streams a turn's text and saves it.

Every piece of text a turn shows goes through `write`, which returns the TextDelta to
yield and keeps the same text for `done`. So the TurnDone's text, which SQLite keeps,
resume replays, evals score and the TUI re-renders, is what streamed, by construction.
"""

from __future__ import annotations

from tutor.engine.events import Citation, Phase, TextDelta, ToolRecord, TurnDone


class TurnWriter:
    def __init__(self) -> None:
        self._parts: list[str] = []
        self.citations: list[Citation] = []
        self.tools: list[ToolRecord] = []
        self.replaced = False
        self.rendered: list[str] = []
        self.phase: Phase | None = None
        self.step_id: str | None = None

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def write(self, text: str) -> TextDelta:
        """Text to show; a new block is separated from what came before by a blank line."""
        return self._emit(text)

    def block(self, text: str) -> list[TextDelta]:
        """A paragraph: joined to the text so far with one blank line; nothing when empty."""
        if not text:
            return []
        lead = "\n\n" if self._parts else ""
        return [self._emit(lead + text)]

    def rule(self, text: str) -> TextDelta:
        """A new part of the lesson in the same turn: a horizontal rule before it."""
        lead = "\n\n---\n\n" if self._parts else ""
        return self._emit(lead + text.lstrip("\n"))

    def _emit(self, text: str) -> TextDelta:
        self._parts.append(text)
        return TextDelta(text=text)

    def mark(self, phase: Phase, step_id: str | None) -> None:
        """Where the turn happened, unless an outer handler already said."""
        if self.phase is None:
            self.phase, self.step_id = phase, step_id

    def at(self, phase: Phase, step_id: str | None) -> None:
        """Where the turn happened (the handler that owns the turn says so)."""
        self.phase, self.step_id = phase, step_id

    def cite(self, citations: list[Citation]) -> None:
        for c in citations:
            if all(c.id != have.id for have in self.citations):
                self.citations.append(c)

    def done(self, *, phase: Phase, step_id: str | None, model: str, prompt_hash: str) -> TurnDone:
        """The saved turn; `phase` and `step_id` apply where no handler said otherwise."""
        return TurnDone(
            phase=self.phase or phase,
            text=self.text,
            citations=list(self.citations),
            tool_calls=list(self.tools),
            step_id=self.step_id if self.phase is not None else step_id,
            model=model,
            prompt_hash=prompt_hash,
            replaced=self.replaced,
            prompts_rendered=list(self.rendered),
        )
