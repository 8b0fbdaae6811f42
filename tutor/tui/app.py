"""The learner's app: chat in the centre, progress on the left, sources and calculator right.

Over 400 lines: the app's key bindings and event handlers; its widgets live in
tui/widgets/.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Static
from textual.worker import Worker, WorkerState

from tutor.settings import Settings
from tutor.tui.bench import BenchReporter, peak_rss_kb
from tutor.tui.calc import calculator_numbers, mark_numbers
from tutor.tui.factory import EngineFactory, default_factory
from tutor.tui.host import EngineHost
from tutor.tui.widgets.calculator import CalculatorCard
from tutor.tui.widgets.chat import ChatInput, ChatLog, MessageView
from tutor.tui.widgets.prediction import PredictionCard
from tutor.tui.widgets.progress import LessonProgress
from tutor.tui.widgets.sources import SourcesPanel
from tutor.tui.widgets.status import StatusLine

if TYPE_CHECKING:
    # Only for annotations: the event models are imported by the engine thread, after
    # the first frame, so start-up does not wait for them.
    from textual.widgets import Markdown

    from tutor.engine.events import (
        Citation,
        Event,
        Graded,
        Phase,
        PhaseChanged,
        PredictionRequested,
        ReadingShown,
        Retrieved,
        TextDelta,
        ToolCalled,
        ToolRecord,
        ToolResult,
        TurnDone,
        TurnFailed,
        Verdict,
    )
    from tutor.engine.protocol import TutorEngine

WELCOME = (
    "Welcome. Each step asks you to predict first, then reveals. "
    "Type here at any time; F1 shows the keys."
)
FLUSH_INTERVAL = 1 / 20
MIN_RATE_DELTAS = 8
"""A rate over fewer deltas than this is mostly the model's time to first token."""
DARK, LIGHT = "textual-dark", "textual-light"
GRADED = {"right": "recalled", "partly": "partly recalled", "contradicts": "contradicts the lesson",
          "cant_tell": "check it yourself"}  # fmt: skip

log = logging.getLogger(__name__)


@dataclass
class _Turn:
    learner_text: str = ""
    learner_msg: MessageView | None = None
    card: PredictionCard | None = None
    tutor_msg: MessageView | None = None
    records: list[ToolRecord] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    readings: list[str] = field(default_factory=list)
    verdict_out: bool = False
    graded: Graded | None = None
    deltas: int = 0
    first_delta: float = 0.0
    last_delta: float = 0.0
    failed: bool = False


class TutorApp(App[None]):
    CSS_PATH = "tutor.tcss"
    TITLE = "tutor"
    # An 80x24 terminal is the default almost everywhere: there the progress panel gives
    # its width to the chat, and a short screen packs the prediction card tighter.
    HORIZONTAL_BREAKPOINTS = [  # noqa: RUF012 (Textual declares it a class variable)
        (0, "-cramped"),
        (80, "-narrow"),
        (110, "-wide"),
    ]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]  # noqa: RUF012
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "Help"),
        Binding("f2", "toggle_sources", "Sources"),
        Binding("f3", "toggle_calculator", "Calculator"),
        Binding("f4", "toggle_progress", "Progress"),
        Binding("ctrl+r", "copy_reply", "Copy reply"),
        Binding("ctrl+t", "toggle_theme", "Theme"),
        Binding("ctrl+n", "new_session", "New session", show=False),
        Binding("ctrl+s", "export", "Export", show=False),
        Binding("ctrl+o", "switch_model", "Model", show=False),
    ]

    def __init__(
        self,
        settings: Settings,
        factory: EngineFactory | None = None,
        *,
        resume: bool = True,
        clock: Callable[[], float] = time.perf_counter,
        bench: BenchReporter | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.factory = factory or default_factory()
        self.resume = resume
        self.clock = clock
        self.bench = bench
        self.host = EngineHost()
        self.engine: TutorEngine | None = None
        self.phase: Phase | None = None
        self.step_title: str | None = None
        self.cards: dict[str, PredictionCard] = {}
        self.records: list[ToolRecord] = []
        self.last_reply = ""
        self.load_error: str | None = None
        self.log_file: Path | None = None
        """Where engine bugs are logged with their tracebacks (set by `run_app`)."""
        self._queued: list[tuple[str, MessageView]] = []
        self._turn_lock = asyncio.Lock()
        self._busy = 0
        self._loading = False
        self._streaming: MessageView | None = None
        self._ui_thread: int | None = None
        self._ui_loop: asyncio.AbstractEventLoop | None = None
        if settings.theme in self.available_themes:
            self.theme = settings.theme

    # ---- layout -------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        with Horizontal(id="body"):
            yield LessonProgress(id="progress")
            with Vertical(id="centre"):
                yield ChatLog(id="chat")
                yield ChatInput(id="input")
            with Vertical(id="side"):
                yield SourcesPanel(id="sources")
                yield CalculatorCard(id="calculator")
        yield StatusLine(id="status")
        yield Footer()

    @property
    def chat(self) -> ChatLog:
        return self.query_one("#chat", ChatLog)

    @property
    def chat_input(self) -> ChatInput:
        return self.query_one("#input", ChatInput)

    @property
    def status(self) -> StatusLine:
        return self.query_one("#status", StatusLine)

    @property
    def sources(self) -> SourcesPanel:
        return self.query_one("#sources", SourcesPanel)

    @property
    def calculator(self) -> CalculatorCard:
        return self.query_one("#calculator", CalculatorCard)

    @property
    def progress_panel(self) -> LessonProgress:
        return self.query_one("#progress", LessonProgress)

    @property
    def idle(self) -> bool:
        """Nothing loading, streaming or waiting: what tests and scripts wait for."""
        return not self._loading and self._busy == 0 and not self._queued

    async def wait_idle(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.idle:
            if time.monotonic() > deadline:
                raise TimeoutError("the app did not settle")
            await asyncio.sleep(0.01)

    async def on_mount(self) -> None:
        self._ui_thread = threading.get_ident()
        self._ui_loop = asyncio.get_running_loop()
        self.status.model = self.settings.model.name
        self.status.local = self.settings.model.is_local
        # The side panel starts hidden: it opens when a reply brings sources or a calculation.
        self.sources.display = False
        self.calculator.display = False
        self._sync_side()
        await self.chat.add(Static(WELCOME, classes="system-note"))
        self.chat_input.focus()
        self.set_interval(FLUSH_INTERVAL, self._flush_stream)
        self._loading = True  # from now: text sent before the engine exists is queued
        self.call_after_refresh(self._interactive)

    def _interactive(self) -> None:
        """First frame is up: only now start the heavy loading, which competes for the GIL."""
        if self.bench is not None:
            self.bench.mark("interactive", cpu_s=f"{time.process_time():.3f}")
        self._start_loading(self.resume, history=True, start=True)

    async def on_unmount(self) -> None:
        engine, self.engine = self.engine, None
        if engine is not None:
            await self._close_engine(engine)
        self.host.close()

    # ---- engine lifecycle ---------------------------------------------------

    def _start_loading(self, resume: bool, *, history: bool, start: bool) -> None:
        self._loading = True
        self.run_worker(
            self._load(resume, history=history, start=start),
            group="engine",
            exclusive=True,
            exit_on_error=False,
        )

    def _progress(self, message: str, fraction: float | None) -> None:
        """Factory progress; may arrive from the engine thread."""
        if threading.get_ident() == self._ui_thread or self._ui_loop is None:
            self._show_progress(message, fraction)
        else:
            self._ui_loop.call_soon_threadsafe(self._show_progress, message, fraction)

    def _show_progress(self, message: str, fraction: float | None) -> None:
        if self.engine is not None and not self._loading:
            # The session is usable; what loads behind it must not hide that it is ready.
            self.status.background = message
            return
        self.status.activity = message
        self.status.fraction = fraction

    async def _load(self, resume: bool, *, history: bool, start: bool) -> None:
        self._loading = True
        try:
            # Wait for a running turn: it still streams from the engine being replaced.
            async with self._turn_lock:
                old, self.engine = self.engine, None
                if old is not None:
                    await self._close_engine(old)
            self.load_error = None
            self._show_progress("loading model…", None)
            settings, factory = self.settings, self.factory
            try:
                engine = await self.host.call(
                    lambda: factory(settings, resume=resume, progress=self._progress)
                )
            except Exception as exc:
                self.load_error = str(exc)
                self._show_progress("engine unavailable", None)
                self.notify(
                    str(exc), title="Could not start the tutor", severity="error", timeout=30
                )
                return
            self.engine = engine
            self._show_lesson(await self.host.call(lambda: engine.plan.title))
            self._show_progress("ready", None)
            if self.bench is not None:
                self.bench.mark("ready", peak_rss_kb=peak_rss_kb())
                if self.bench.question is None:
                    self.exit()
                    return
            await self.refresh_progress()
            if history:
                await self._show_history(engine)
            if start:
                await self._run_turn(engine.start)
                if self.bench is not None:
                    self.bench.mark("question")
            # The loaders hold the GIL for seconds: start them once the opening is painted.
            self.call_after_refresh(self._load_behind, engine)
        finally:
            self._loading = False
        await self._drain_queue()
        if self.bench is not None and self.bench.question and self.engine is not None:
            question = self.bench.question
            await self._run_turn(partial(self.engine.send, question), learner_text=question)
            self.bench.mark("answered", peak_rss_kb=peak_rss_kb())
            # Peak memory is read once the model and the corpus search have both loaded.
            settle = getattr(self.engine, "wait_loaded", None)
            if callable(settle):
                await self.host.call(settle)
            self.bench.mark("loaded", peak_rss_kb=peak_rss_kb())
            self.exit()

    async def _load_behind(self, engine: TutorEngine) -> None:
        if engine is self.engine:
            await self.host.call(engine.load_in_background)

    def _show_lesson(self, title: str) -> None:
        # The plan names the lesson; the app only shows what it is given.
        self.sub_title = title
        self.progress_panel.border_title = title

    async def _close_engine(self, engine: TutorEngine) -> None:
        closer: Any = getattr(engine, "aclose", None) or getattr(engine, "close", None)
        if callable(closer):
            try:
                await self.host.call(closer)
            except Exception as exc:
                self.log.warning(f"closing the engine failed: {exc}")

    async def _show_history(self, engine: TutorEngine) -> None:
        entries = await self.host.call(engine.transcript)
        for entry in entries:
            await self.chat.add(MessageView(entry.role, entry.text, phase=entry.phase))
            if entry.role == "tutor":
                self.last_reply = entry.text
        if entries:
            await self.chat.add(
                Static(
                    f"Resumed your last session ({engine.session_id}). "
                    "Start fresh with Ctrl+N or “New session” in the palette (Ctrl+P).",
                    classes="system-note",
                )
            )

    async def _drain_queue(self) -> None:
        engine = self.engine
        while engine is not None and self._queued:
            text, queued = self._queued.pop(0)
            # Re-post below the tutor's opening, where the answer to it will appear.
            await queued.remove()
            msg = MessageView("learner", text, phase=self.phase)
            await self.chat.add(msg)
            await self._run_turn(partial(engine.send, text), learner_text=text, learner_msg=msg)

    async def refresh_progress(self) -> None:
        engine = self.engine
        if engine is None:
            return
        steps = await self.host.call(engine.progress)
        await self.progress_panel.show(steps)

    # ---- turns ----------------------------------------------------------------

    async def _run_turn(
        self,
        make: Callable[[], AsyncIterator[Event]],
        *,
        learner_text: str = "",
        learner_msg: MessageView | None = None,
        card: PredictionCard | None = None,
    ) -> None:
        self._busy += 1
        try:
            async with self._turn_lock:
                turn = _Turn(learner_text=learner_text, learner_msg=learner_msg, card=card)
                self.status.activity = "thinking…"
                try:
                    async for event in self.host.stream(make):
                        await self._handle(event, turn)
                except Exception as exc:
                    # The engine turns provider trouble into TurnFailed itself; anything
                    # raised is a bug, so it is logged whole and named as one.
                    await self._crashed(exc, turn)
                await self._end_turn(turn)
        finally:
            self._busy -= 1

    async def _ensure_tutor_msg(self, turn: _Turn) -> MessageView:
        if turn.tutor_msg is None:
            turn.tutor_msg = MessageView("tutor", phase=self.phase)
            await self.chat.add(turn.tutor_msg)
        return turn.tutor_msg

    async def _handle(self, event: Event, turn: _Turn) -> None:
        # Dispatch on the discriminator rather than isinstance, so this module need not
        # import the event models at start-up.
        kind = event.type
        if kind == "text_delta":
            msg = await self._ensure_tutor_msg(turn)
            msg.buffer(cast("TextDelta", event).text)
            self._streaming = msg
            now = self.clock()
            if turn.deltas == 0:
                turn.first_delta = now
            turn.deltas += 1
            turn.last_delta = now
            if turn.deltas % 8 == 0 and turn.deltas >= MIN_RATE_DELTAS:
                self.status.rate = turn.deltas / (now - turn.first_delta)
        elif kind == "phase":
            changed = cast("PhaseChanged", event)
            self.phase = changed.phase
            if changed.step_title:
                self.step_title = changed.step_title
            if turn.tutor_msg is not None:
                turn.tutor_msg.set_phase(changed.phase)
            await self.refresh_progress()
        elif kind == "prediction_requested":
            request = cast("PredictionRequested", event)
            await self._ensure_tutor_msg(turn)
            await self._flush_stream()
            card = PredictionCard(request, title=self.step_title)
            previous = self.cards.get(request.step_id)
            if previous is not None and previous.verdict is None:
                # The engine asked again (say, after a side question): one live card per
                # step, at the bottom where the learner is looking.
                await previous.remove()
            self.cards[request.step_id] = card
            await self.chat.add(card)
            engine = self.engine
            committed = await self.host.call(lambda: engine.committed_guess) if engine else None
            if committed:
                card.lock_guess(committed)
        elif kind == "reading":
            await self._show_reading(cast("ReadingShown", event), turn)
        elif kind == "graded":
            turn.graded = cast("Graded", event)
        elif kind == "retrieved":
            turn.citations = list(cast("Retrieved", event).citations)
        elif kind == "tool_call":
            self.status.activity = f"calculating: {cast('ToolCalled', event).name}…"
        elif kind == "tool_result":
            record = cast("ToolResult", event).record
            turn.records.append(record)
            self.records.append(record)
            self.calculator.show_record(record)
            self.calculator.display = True
            self._sync_side()
        elif kind == "verdict":
            verdict = cast("Verdict", event)
            turn.verdict_out = True
            target = self.cards.get(verdict.step_id) or turn.card
            if target is not None:
                target.show_verdict(verdict)
            await self.refresh_progress()
        elif kind == "turn_done":
            await self._done(cast("TurnDone", event), turn)
        elif kind == "turn_failed":
            await self._failed(cast("TurnFailed", event), turn)

    async def _done(self, event: TurnDone, turn: _Turn) -> None:
        # `event.phase` labels the reply (a reveal); where the lesson now stands (its
        # recall, say) came with the last PhaseChanged, and the learner writes in that.
        if self.phase is None:
            self.phase = event.phase
        if not turn.records and event.tool_calls:
            turn.records = list(event.tool_calls)
            self.records.extend(turn.records)
            self.calculator.show_record(turn.records[-1])
            self.calculator.display = True
        citations = list(event.citations) or turn.citations
        text, marked = mark_numbers(
            event.text,
            calculator_numbers(turn.records),
            offset=len(self.records) - len(turn.records),
        )
        msg = await self._ensure_tutor_msg(turn) if event.text else turn.tutor_msg
        if msg is not None:
            msg.set_phase(event.phase)
            if self._streaming is msg:
                self._streaming = None
            await msg.finish(text)
            msg.citations = citations
            notes = []
            if citations:
                notes.append(f"{len(citations)} source{'s' if len(citations) > 1 else ''} (F2)")
            if marked:
                notes.append("underlined numbers come from the calculator")
            if event.replaced:
                notes.append("checked wording")
            if turn.graded is not None:
                notes.insert(0, GRADED.get(turn.graded.verdict, turn.graded.verdict))
            msg.set_note(" · ".join(notes))
        if turn.learner_msg is not None and turn.readings:
            # A reading the reply already states need not be shown twice.
            shown = [r for r in turn.readings if r not in event.text]
            turn.learner_msg.set_note(" · ".join(shown))
        if event.text:
            self.last_reply = event.text
        if citations:
            await self.sources.show(citations)
            self.sources.display = True
            self._sync_side()
        if turn.deltas >= MIN_RATE_DELTAS and turn.last_delta > turn.first_delta:
            self.status.rate = turn.deltas / (turn.last_delta - turn.first_delta)
        await self.refresh_progress()
        # An engine may finish one message and begin the next in the same stream
        # (a reveal followed by the next step's question): start afresh.
        turn.tutor_msg = None
        turn.records = []
        turn.citations = []
        turn.graded = None
        turn.deltas = 0

    async def _show_reading(self, event: ReadingShown, turn: _Turn) -> None:
        """The engine's "I read this as …" line: under the learner's message, or alone."""
        text = event.text.strip()
        if not text:
            return
        turn.readings.append(text)
        if turn.learner_msg is not None:
            turn.learner_msg.set_note(" · ".join(turn.readings))
        else:
            await self.chat.add(Static(text, classes="system-note reading", markup=False))

    async def _crashed(self, exc: Exception, turn: _Turn) -> None:
        log.error("the engine raised during a turn", exc_info=exc)
        where = f"; details in {self.log_file}" if self.log_file else ""
        self.notify(
            f"the tutor hit a bug ({type(exc).__name__}: {exc}){where}",
            title="Tutor error",
            severity="error",
            timeout=15,
        )
        await self._take_back(turn, turn.learner_text)

    async def _failed(self, event: TurnFailed, turn: _Turn) -> None:
        self.notify(
            event.message or "the model did not answer",
            title="No reply",
            severity="error",
            timeout=8,
        )
        if turn.verdict_out:
            # Once a verdict is out the engine keeps the turn and the committed guess: so
            # does the chat, and there is nothing to send again.
            turn.failed = True
            if turn.tutor_msg is not None:
                await turn.tutor_msg.finish()
                turn.tutor_msg.set_note("the model failed here; your guess and its verdict stand")
            return
        await self._take_back(turn, event.learner_text or turn.learner_text)

    async def _take_back(self, turn: _Turn, text: str) -> None:
        """An unanswered turn: the learner's text back in the input, the partial reply gone."""
        turn.failed = True
        if text:
            box = self.chat_input
            existing = box.text.strip()
            box.text = text if not existing else f"{text}\n{existing}"
            box.move_cursor(box.document.end)
            box.focus()
        if turn.learner_msg is not None:
            turn.learner_msg.add_class("failed")
            turn.learner_msg.set_note("not answered — your text is back in the input")
        partial = turn.tutor_msg
        if partial is not None:
            # The engine keeps nothing of a failed turn, so neither does the chat: a retry
            # then shows the reply once.
            turn.tutor_msg = None
            if self._streaming is partial:
                self._streaming = None
            await partial.remove()
        if turn.card is not None:
            turn.card.unlock_reveal()

    async def _end_turn(self, turn: _Turn) -> None:
        # A message still open here never got its TurnDone: settle what streamed.
        msg = turn.tutor_msg
        if msg is not None:
            if self._streaming is msg:
                self._streaming = None
            await msg.finish()
            if not msg.text.strip():
                await msg.remove()
        self.status.activity = "ready" if self.engine is not None else self.status.activity
        if turn.learner_msg is not None:
            self.call_after_refresh(self.chat.show_start_of, turn.learner_msg)

    async def _flush_stream(self) -> None:
        msg = self._streaming
        if msg is not None and msg.is_mounted:
            await msg.flush()

    # ---- learner actions --------------------------------------------------------

    @on(ChatInput.Submitted)
    async def _submitted(self, event: ChatInput.Submitted) -> None:
        await self.send_text(event.text)

    async def send_text(self, text: str) -> None:
        self.chat_input.clear()
        msg = MessageView("learner", text, phase=self.phase)
        await self.chat.add(msg)
        self.chat.follow()
        engine = self.engine
        if engine is None:
            if self.load_error and not self._loading:
                msg.set_note("not sent — the tutor is unavailable")
                self.notify(self.load_error, severity="error")
                return
            msg.set_note("queued — sent when the model is ready")
            self._queued.append((text, msg))
            return
        self.run_worker(
            self._run_turn(lambda: engine.send(text), learner_text=text, learner_msg=msg),
            group="turns",
            exit_on_error=False,
        )

    @on(PredictionCard.CommitRequested)
    async def _commit(self, event: PredictionCard.CommitRequested) -> None:
        self.run_worker(
            self.commit_guess(event.card, event.guess), group="turns", exit_on_error=False
        )

    async def commit_guess(self, card: PredictionCard, guess: str) -> None:
        engine = self.engine
        if engine is None:
            self.notify("The model is still loading; commit again in a moment.", severity="warning")
            return
        self._busy += 1
        try:
            async with self._turn_lock:
                try:
                    result = await self.host.call(lambda: engine.commit(guess))
                except Exception as exc:
                    self.notify(str(exc), title="Commit failed", severity="error")
                    return
            if result.accepted:
                card.lock_guess(result.guess or guess)
            else:
                self.notify(result.message or "That guess was not accepted.", severity="warning")
            await self.refresh_progress()
        finally:
            self._busy -= 1

    @on(PredictionCard.RevealRequested)
    async def _reveal(self, event: PredictionCard.RevealRequested) -> None:
        engine = self.engine
        if engine is None:
            event.card.unlock_reveal()
            return
        self.run_worker(
            self._run_turn(engine.reveal, card=event.card), group="turns", exit_on_error=False
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # A bug in one turn must not take the learner's whole session down with it.
        if event.state is WorkerState.ERROR:
            error = event.worker.error
            log.error("worker %s failed", event.worker.name, exc_info=error)
            self.notify(
                f"{type(error).__name__}: {error}",
                title="Something went wrong",
                severity="error",
                timeout=10,
            )

    async def on_message_view_selected(self, event: MessageView.Selected) -> None:
        """Clicking a tutor message shows the sources of that reply."""
        if event.message_view.citations:
            await self.sources.show(event.message_view.citations)
            self.sources.display = True
            self._sync_side()

    def on_markdown_link_clicked(self, event: Markdown.LinkClicked) -> None:
        href = event.href
        if href.startswith("calc:"):
            index = int(href[5:]) if href[5:].isdigit() else -1
            if 0 <= index < len(self.records):
                self.calculator.show_record(self.records[index])
                self.calculator.display = True
                self._sync_side()
        else:
            self.open_url(href)

    # ---- actions ------------------------------------------------------------------

    def _sync_side(self) -> None:
        side = self.query_one("#side")
        side.display = bool(self.sources.display or self.calculator.display)

    def action_toggle_sources(self) -> None:
        self.sources.display = not self.sources.display
        self._sync_side()

    def action_toggle_calculator(self) -> None:
        self.calculator.display = not self.calculator.display
        self._sync_side()

    def action_toggle_progress(self) -> None:
        self.progress_panel.display = not self.progress_panel.display

    def action_toggle_theme(self) -> None:
        self.theme = LIGHT if self.current_theme.dark else DARK

    def action_copy_reply(self) -> None:
        if not self.last_reply:
            self.notify("No reply to copy yet.", severity="warning")
            return
        self.copy_to_clipboard(self.last_reply)
        self.notify("Copied the last reply.")

    def action_help(self) -> None:
        from tutor.tui.screens import HelpScreen

        self.push_screen(HelpScreen())

    async def _reset_view(self) -> None:
        await self.chat.remove_children()
        self.cards.clear()
        self.records.clear()
        self.last_reply = ""
        self.phase = None
        await self.sources.show([])
        self.sources.display = self.calculator.display = False
        self._sync_side()
        await self.progress_panel.show([])

    async def action_new_session(self) -> None:
        await self._restart(resume=False)

    async def action_resume(self) -> None:
        await self._restart(resume=True)

    async def _restart(self, *, resume: bool) -> None:
        await self._reset_view()
        await self.chat.add(
            Static(
                "Resuming your last session…" if resume else "Starting a new session…",
                classes="system-note",
            )
        )
        self._start_loading(resume, history=resume, start=True)

    def action_export(self) -> None:
        self.run_worker(self.export_transcript(), group="export", exit_on_error=False)

    async def export_transcript(self) -> None:
        engine = self.engine
        if engine is None:
            self.notify("Nothing to export yet.", severity="warning")
            return
        plan = await self.host.call(lambda: engine.plan)
        try:
            path = await asyncio.to_thread(
                export_session, self.settings, engine.session_id, plan.title, plan.id
            )
        except (OSError, RuntimeError) as exc:
            self.notify(str(exc), title="Export failed", severity="error")
            return
        self.notify(str(path), title="Transcript exported", timeout=10)

    def action_switch_model(self) -> None:
        from tutor.tui.screens import ModelScreen

        self.push_screen(ModelScreen(self.settings.model.name), self._model_chosen)

    async def _model_chosen(self, name: str | None) -> None:
        if not name or name == self.settings.model.name:
            return
        await self.switch_model(name)

    async def switch_model(self, name: str) -> None:
        model = self.settings.model.model_copy(update={"name": name})
        self.settings = self.settings.model_copy(update={"model": model})
        self.status.model = name
        self.status.local = model.is_local
        self.status.rate = None
        await self.chat.add(Static(f"Switched the model to {name}.", classes="system-note"))
        # Same session, new model: nothing to re-show and nothing to re-ask.
        self._start_loading(True, history=False, start=False)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield SystemCommand(
            "New session", "Start the lesson again from step 1 (Ctrl+N)", self.action_new_session
        )
        yield SystemCommand(
            "Resume last session", "Reload the most recent session", self.action_resume
        )
        yield SystemCommand(
            "Export transcript", "Save this session as markdown (Ctrl+S)", self.action_export
        )
        yield SystemCommand(
            "Switch model", "Use another litellm model string (Ctrl+O)", self.action_switch_model
        )
        yield SystemCommand(
            "Toggle sources", "Show or hide the sources panel (F2)", self.action_toggle_sources
        )
        yield SystemCommand(
            "Toggle calculator",
            "Show or hide the calculator card (F3)",
            self.action_toggle_calculator,
        )
        yield SystemCommand("Toggle theme", "Dark or light (Ctrl+T)", self.action_toggle_theme)
        yield SystemCommand(
            "Copy last reply", "Copy the tutor's last reply (Ctrl+R)", self.action_copy_reply
        )
        yield SystemCommand("Help", "How the tutor works, and its keys (F1)", self.action_help)
        yield from super().get_system_commands(screen)


def export_session(settings: Settings, session_id: str, title: str, stem: str) -> Path:
    """The saved session as markdown under `home/exports/`: what `tutor sessions export`
    writes, from the same sessions database."""
    from tutor.engine.export import transcript_markdown, write_export
    from tutor.engine.record import Record, RecordError

    try:
        record = Record(settings.sessions_db)
    except RecordError as exc:
        raise RuntimeError(str(exc)) from exc
    try:
        text = transcript_markdown(record, session_id, title=title)
    finally:
        record.close()
    return write_export(settings.home / "exports", stem, session_id, text)


def log_to_file(settings: Settings) -> Path | None:
    """Send the app's warnings and errors (with tracebacks) to `home/tui.log`.

    Textual owns the terminal while it runs, so a traceback printed there would be lost.
    """
    path = settings.home / "tui.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        return None
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger("tutor").addHandler(handler)
    return path


def size_from_the_terminal() -> None:
    """Let the terminal, not the environment, say how big the screen is.

    Textual measures the screen with `shutil.get_terminal_size`, which prefers COLUMNS and
    LINES when they are exported: a shell or CI runner that exported them pins the app at
    that size, in a bigger window, and every resize reads the same stale figures. When
    standard output is a terminal its own size is the truth.
    """
    stdout = sys.__stdout__
    if stdout is not None and stdout.isatty():
        for name in ("COLUMNS", "LINES"):
            os.environ.pop(name, None)


def run_app(settings: Settings, *, resume: bool = True, headless: bool = False) -> None:
    """Run the app with the real engine factory."""
    bench = BenchReporter.from_env()
    app = TutorApp(settings, resume=resume, bench=bench)
    app.log_file = log_to_file(settings)
    size_from_the_terminal()
    app.run(headless=headless or bench is not None)
