"""The conversation: message views, the scrolling log and the multi-line input."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Static, TextArea

from tutor.engine.labels import phase_label

if TYPE_CHECKING:
    from textual.widget import Widget
    from textual.widgets import Markdown
    from textual.widgets.markdown import MarkdownStream

    from tutor.engine.events import Citation, Phase


def _markdown_class() -> type[Markdown]:
    # markdown-it is a noticeable import; the first frame has no markdown to show.
    from textual.widgets import Markdown

    return Markdown


class ChatInput(TextArea):
    """Enter sends; Shift+Enter or Ctrl+J starts a new line."""

    class Submitted(Message):
        def __init__(self, chat_input: ChatInput, text: str) -> None:
            super().__init__()
            self.chat_input = chat_input
            self.text = text

        @property
        def control(self) -> ChatInput:
            return self.chat_input

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            id=id,
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            placeholder="Ask, answer or guess…  (Enter sends · Shift+Enter or Ctrl+J: new line)",
        )

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            text = self.text.strip()
            if text:
                self.post_message(self.Submitted(self, text))
            return
        if event.key in ("shift+enter", "ctrl+j"):
            event.stop()
            event.prevent_default()
            self.insert("\n")
            return
        await super()._on_key(event)


class MessageView(Vertical):
    """One turn of the conversation, labelled with who spoke and the tutor's phase."""

    class Selected(Message):
        def __init__(self, message_view: MessageView) -> None:
            super().__init__()
            self.message_view = message_view

    def __init__(
        self,
        role: str,
        text: str = "",
        *,
        phase: Phase | None = None,
        note: str = "",
        classes: str = "",
    ) -> None:
        super().__init__(classes=f"message {role} {classes}".strip())
        self.role = role
        self.text = text
        self.phase: Phase | None = phase
        self.citations: list[Citation] = []
        self._note = note
        self._pending: list[str] = []
        self._stream: MarkdownStream | None = None

    def compose(self) -> ComposeResult:
        yield Static(self._header_text(), classes="msg-header", markup=False)
        if self.role == "tutor":
            yield _markdown_class()(self.text, open_links=False, classes="msg-body")
        else:
            yield Static(self.text, classes="msg-body", markup=False)
        yield Static(self._note, classes="msg-note", markup=False)

    def _header_text(self) -> str:
        who = {"tutor": "Tutor", "learner": "You"}.get(self.role, self.role.title())
        label = phase_label(self.phase)
        return f"{who} · {label}" if label else who

    def on_mount(self) -> None:
        self._refresh_note()

    def on_click(self) -> None:
        self.post_message(self.Selected(self))

    def set_phase(self, phase: Phase | None) -> None:
        self.phase = phase
        if self.is_mounted:
            self.query_one(".msg-header", Static).update(self._header_text())

    def set_note(self, note: str) -> None:
        self._note = note
        if self.is_mounted:
            self._refresh_note()

    def _refresh_note(self) -> None:
        note = self.query_one(".msg-note", Static)
        note.update(self._note)
        note.display = bool(self._note)

    # Streaming: deltas are buffered here and written in batches by the app's
    # flush timer, so a fast model cannot flood the UI with one refresh per token.
    def buffer(self, delta: str) -> None:
        self._pending.append(delta)
        self.text += delta

    async def flush(self) -> None:
        if not self._pending:
            return
        chunk = "".join(self._pending)
        self._pending.clear()
        if self._stream is None:
            markdown = _markdown_class()
            self._stream = markdown.get_stream(self.query_one(markdown))
        await self._stream.write(chunk)

    async def finish(self, text: str | None = None) -> None:
        """Settle the message: stop streaming and show the final (possibly marked) text."""
        await self.flush()
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        if text is not None and self.role == "tutor":
            await self.query_one(_markdown_class()).update(text)
        elif text is not None:
            self.query_one(".msg-body", Static).update(text)


class ChatLog(VerticalScroll):
    """The message history; stays at the newest output unless the learner scrolls up."""

    can_focus = True

    def on_mount(self) -> None:
        self.anchor()

    async def add(self, widget: MessageView | Static | Vertical) -> None:
        await self.mount(widget)

    def follow(self) -> None:
        """Back to the newest output (after the learner sends, say)."""
        self.scroll_end(animate=False)

    def show_start_of(self, widget: Widget) -> None:
        """Bring a finished exchange's first line back into view if it scrolled above.

        A long reply, or the open prediction card posted again below it, can push the
        learner's own message and the start of the answer off a short screen; following
        the end would then show only the card. A learner who scrolled up is left there.
        """
        if not widget.is_mounted or self.scroll_y < self.max_scroll_y:
            return
        top = widget.virtual_region.y
        if top < self.scroll_y:
            self.scroll_to(y=top, animate=False)
