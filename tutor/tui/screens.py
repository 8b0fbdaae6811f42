"""Small modal screens: switching the model and the help sheet."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Markdown, Static

HELP = """\
# How this tutor works

Each step asks you to **predict first**: pick or type a guess, press **Commit guess**
(the guess is locked), then **Reveal**. A wrong guess that you committed to teaches more
than a right answer you were shown. You can also just type your guess, or any question,
in the box at the bottom.

Numbers the tutor takes from the MIG calculator are **underlined**; click one to see the
calculation. In the calculator card you can try another GPU or partition yourself.

| Key | Does |
|---|---|
| Enter | send · Shift+Enter or Ctrl+J: new line |
| F1 | this help |
| F2 | show or hide the sources of the current reply |
| F3 | show or hide the calculator card |
| F4 | show or hide lesson progress |
| Ctrl+R | copy the last reply |
| Ctrl+S | export the transcript as markdown |
| Ctrl+N | new session · Ctrl+O: switch model |
| Ctrl+T | dark / light theme |
| Ctrl+P | command palette: new session, resume, export, switch model… |
| Ctrl+Q | quit |
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,f1,q", "dismiss_help", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Markdown(HELP)
            yield Static("Esc closes", classes="hint")

    def action_dismiss_help(self) -> None:
        self.dismiss(None)


class ModelScreen(ModalScreen[str | None]):
    """Ask for a litellm model string; the app rebuilds the engine with it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="model-box"):
            yield Static("Switch model", classes="modal-title")
            yield Static(
                "A litellm model string, e.g. local/smollm2, ollama/llama3.1, "
                "openai/gpt-4o-mini. Enter applies, Esc cancels.",
                classes="hint",
            )
            yield Input(value=self.current, id="model-name")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
