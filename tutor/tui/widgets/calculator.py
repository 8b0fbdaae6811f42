"""The calculator card: a tool call's inputs, result and slot diagram, and a try-it form."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Button, Input, Static

from tutor.tui.calc import PartitionView, check_partition, view_of

if TYPE_CHECKING:
    from tutor.engine.events import ToolRecord
    from tutor.mig.diagram import Segment

# Mid-tone fills with a fixed text colour read well on both dark and light themes.
PALETTE: tuple[tuple[str, str], ...] = (
    ("#2563eb", "#ffffff"),
    ("#059669", "#ffffff"),
    ("#d97706", "#000000"),
    ("#db2777", "#ffffff"),
    ("#7c3aed", "#ffffff"),
    ("#0891b2", "#000000"),
    ("#65a30d", "#000000"),
    ("#dc2626", "#ffffff"),
)
FREE_STYLE = "#6b7280"


def _colour_for(profiles: list[str]) -> dict[str, tuple[str, str]]:
    colours: dict[str, tuple[str, str]] = {}
    for name in profiles:
        if name not in colours:
            colours[name] = PALETTE[len(colours) % len(PALETTE)]
    return colours


def render_slots(segments: list[Segment], width: int) -> Text:
    """Blocks proportional to slots, labelled inside, with slot numbers beneath.

    `segments` cover the whole grid, free runs included (`tutor.mig.diagram.segments`).
    """
    total = sum(s.size for s in segments)
    cell = max(3, min(12, width // max(total, 1)))
    colours = _colour_for([s.profile for s in segments if s.profile is not None])
    top = Text()
    middle = Text()
    numbers = Text()
    for segment in segments:
        if segment.profile is None:
            for _ in range(segment.size):
                top.append("░" * cell, style=FREE_STYLE)
                middle.append(" free"[:cell].ljust(cell) if cell >= 5 else " " * cell, style="dim")
            continue
        span = cell * segment.size
        fill, ink = colours[segment.profile]
        label = segment.profile
        if len(label) > span - 2:
            label = label.split(".", 1)[0][: max(span - 2, 1)]
        top.append(f" {label}".ljust(span - 1) + "▕", style=f"bold {ink} on {fill}")
        middle.append(" " * (span - 1) + "▕", style=f"{ink} on {fill}")
    for n in range(total):
        numbers.append(str(n).center(cell), style="dim")
    return Text("\n").join([top, middle, numbers])


class SlotDiagram(Widget):
    """Draws a partition at whatever width the card has."""

    DEFAULT_CSS = "SlotDiagram { height: 3; }"

    def __init__(self, *, classes: str = "") -> None:
        super().__init__(classes=classes)
        self.segments: list[Segment] = []
        self.fallback: str | None = None

    @property
    def total(self) -> int:
        return sum(s.size for s in self.segments)

    def show(self, segments: list[Segment], fallback: str | None) -> None:
        self.segments, self.fallback = segments, fallback
        lines = 3 if segments else max(1, len((fallback or "").splitlines()))
        self.styles.height = lines
        self.refresh(layout=True)

    def render(self) -> RenderableType:
        if self.segments:
            return render_slots(self.segments, self.size.width)
        return Text(self.fallback or "", style="dim")


def _value_text(value: Any) -> str:
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return ", ".join(str(v) for v in value)
    return json.dumps(value, default=str)


def describe(mapping: Any, skip: frozenset[str] = frozenset()) -> str:
    if isinstance(mapping, BaseModel):
        mapping = mapping.model_dump()
    if not isinstance(mapping, Mapping):
        return _value_text(mapping)
    lines = []
    for key, value in mapping.items():
        if key in skip or value in (None, "", [], {}):
            continue
        lines.append(f"{key}: {_value_text(value)}")
    return "\n".join(lines)


class CalculatorCard(Vertical):
    """Shows the latest calculator result; the learner may try another partition here."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Calculator"
        self.record: ToolRecord | None = None
        self.view: PartitionView | None = None

    def compose(self) -> ComposeResult:
        yield Static("No calculation yet.", classes="calc-empty")
        yield Static("", classes="calc-inputs", markup=False)
        yield Static("", classes="calc-result", markup=False)
        yield SlotDiagram(classes="calc-diagram")
        yield Static("", classes="calc-basis", markup=False)
        yield Static("Try another partition", classes="calc-try-title")
        with Horizontal(classes="calc-try"):
            yield Input(placeholder="GPU, e.g. A100-80GB", classes="calc-gpu")
            yield Input(placeholder="profiles, e.g. 3g.40gb 2x2g.20gb", classes="calc-profiles")
        yield Button("Check", classes="calc-check", variant="primary")

    def show_record(self, record: ToolRecord) -> None:
        self.record = record
        view = view_of(record)
        self.border_title = f"Calculator · {record.name}"
        self.query_one(".calc-inputs", Static).update("Inputs\n" + describe(record.arguments))
        result = describe(record.result, skip=frozenset({"placements", "segments", "basis"}))
        self.query_one(".calc-result", Static).update("Result\n" + result)
        self._draw(view, fallback=record.diagram)
        self.query_one(".calc-gpu", Input).value = view.gpu
        self.query_one(".calc-profiles", Input).value = " ".join(view.profiles)

    def _draw(self, view: PartitionView, fallback: str | None = None) -> None:
        self.view = view
        self.query_one(".calc-empty").display = False
        diagram = self.query_one(SlotDiagram)
        diagram.show(view.segments, fallback)
        lines = [line for line in (view.message, view.basis) if line]
        if view.valid is not None:
            verdict = "fits" if view.valid else "does not fit"
            lines.insert(0, f"{view.gpu or 'this GPU'}: {verdict}")
        self.query_one(".calc-basis", Static).update("\n".join(lines))
        self.set_class(view.valid is True, "fits")
        self.set_class(view.valid is False, "no-fit")

    def try_partition(self, gpu: str, profiles: str) -> PartitionView:
        view = check_partition(gpu.strip(), profiles)
        self.border_title = "Calculator · your partition"
        self.query_one(".calc-inputs", Static).update(
            f"Inputs\ngpu: {gpu.strip()}\nprofiles: {', '.join(view.profiles)}"
        )
        used = sum(s.size for s in view.instances)
        result = f"instances placed: {len(view.instances)}"
        if view.total:
            result += f"\nslots used: {used} of {view.total}"
        self.query_one(".calc-result", Static).update("Result\n" + result)
        self._draw(view)
        return view

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.has_class("calc-check"):
            event.stop()
            self._check()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._check()

    def _check(self) -> None:
        gpu = self.query_one(".calc-gpu", Input).value
        profiles = self.query_one(".calc-profiles", Input).value
        if not gpu.strip() or not profiles.strip():
            self.app.notify("Give a GPU and at least one profile.", severity="warning")
            return
        self.try_partition(gpu, profiles)
