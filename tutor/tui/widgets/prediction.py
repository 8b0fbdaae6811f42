"""The prediction card: pick or type a guess, commit (locks it), then reveal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, RadioButton, RadioSet, Static

if TYPE_CHECKING:
    from tutor.engine.events import PredictionRequested, Verdict


class PredictionCard(Vertical):
    class CommitRequested(Message):
        def __init__(self, card: PredictionCard, guess: str) -> None:
            super().__init__()
            self.card = card
            self.guess = guess

    class RevealRequested(Message):
        def __init__(self, card: PredictionCard) -> None:
            super().__init__()
            self.card = card

    def __init__(self, request: PredictionRequested, *, title: str | None = None) -> None:
        super().__init__(classes="prediction")
        self.request = request
        self.step_id = request.step_id
        self.title = title
        self.locked_guess: str | None = None
        self.verdict: Verdict | None = None

    @property
    def wants_text(self) -> bool:
        return self.request.numeric or not self.request.options

    def compose(self) -> ComposeResult:
        heading = "Predict first"
        if self.title:
            heading += f" · {self.title}"
        yield Static(heading, classes="pred-title", markup=False)
        yield Static(self.request.question, classes="pred-question", markup=False)
        if self.request.options:
            with RadioSet(classes="pred-options"):
                for option in self.request.options:
                    yield RadioButton(f"{option.key}. {option.text}", name=option.key)
        if self.wants_text:
            yield Input(
                placeholder="your number" if self.request.numeric else "your guess",
                classes="pred-text",
            )
        with Horizontal(classes="pred-actions"):
            yield Button("Commit guess", id="commit", variant="primary")
            yield Button("Reveal", id="reveal", variant="success", disabled=True)
            yield Static("", classes="pred-locked", markup=False)
        with Horizontal(classes="pred-verdict"):
            yield Static("", classes="verdict-guess", markup=False)
            yield Static("", classes="verdict-answer", markup=False)
        yield Static("", classes="verdict-misconception", markup=False)

    def on_mount(self) -> None:
        self.query_one(".pred-verdict").display = False
        self.query_one(".verdict-misconception").display = False

    def current_guess(self) -> str:
        if self.wants_text:
            typed = self.query_one(".pred-text", Input).value.strip()
            if typed:
                return typed
        if self.request.options:
            pressed = self.query_one(RadioSet).pressed_button
            if pressed is not None and pressed.name:
                return pressed.name
        return ""

    def describe(self, key: str) -> str:
        for option in self.request.options:
            if option.key.strip().lower() == key.strip().lower():
                return f"{option.key}. {option.text}"
        return key

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "commit":
            guess = self.current_guess()
            if not guess:
                self.app.notify("Pick an option or type a guess first.", severity="warning")
                return
            self.post_message(self.CommitRequested(self, guess))
        elif event.button.id == "reveal" and self.locked_guess is not None:
            event.button.disabled = True
            self.post_message(self.RevealRequested(self))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip() and self.locked_guess is None:
            self.post_message(self.CommitRequested(self, event.value.strip()))

    def lock_guess(self, guess: str) -> None:
        """The engine accepted the guess: freeze the choice so it cannot drift after the fact."""
        self.locked_guess = guess
        self.add_class("locked")
        for control in self.query(".pred-options, .pred-text"):
            control.disabled = True
        self.query_one("#commit", Button).disabled = True
        self.query_one("#reveal", Button).disabled = self.verdict is not None
        self.query_one(".pred-locked", Static).update(f"Locked: {guess}")

    def unlock_reveal(self) -> None:
        """A reveal failed; let the learner try again."""
        if self.verdict is None and self.locked_guess is not None:
            self.query_one("#reveal", Button).disabled = False

    def show_verdict(self, verdict: Verdict) -> None:
        self.verdict = verdict
        if self.locked_guess is None:
            self.lock_guess(verdict.guess)
        self.query_one("#reveal", Button).disabled = True
        self.add_class("right" if verdict.correct else "wrong")
        mark = "✓ right" if verdict.correct else "✗ not quite"
        self.query_one(".verdict-guess", Static).update(
            f"Your guess  {mark}\n{self.describe(verdict.guess)}"
        )
        self.query_one(".verdict-answer", Static).update(f"Answer\n{self.describe(verdict.answer)}")
        self.query_one(".pred-verdict").display = True
        if verdict.misconception:
            misconception = self.query_one(".verdict-misconception", Static)
            misconception.update(f"Misconception: {verdict.misconception}")
            misconception.display = True
