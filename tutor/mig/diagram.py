"""Draw a partition as a slot diagram, e.g. `[ 3g.40gb | 2g.20gb | 1g | 1g ]`.

Widths are proportional to slots so the learner sees why a 3g (4 slots) and a 4g cannot
share a GPU with anything else of size 4. `segments()` gives the same picture as data
for widgets that colour each instance.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel

from tutor.mig.catalogue import Gpu, MigError, find_gpu
from tutor.mig.placement import Placement


class Segment(BaseModel):
    """One run of slots: an instance (profile set) or free slots (profile None)."""

    profile: str | None
    start: int
    size: int


def segments(gpu: Gpu | str, placements: Iterable[Placement]) -> list[Segment]:
    g = find_gpu(gpu)
    # An inferred geometry (--inferred) brings its own grid width; the placements say so.
    width = g.memory_slices or g.inferred_memory_slices
    if width is None:
        raise MigError(f"unknown: the slot grid of {g.id} is not verified, nothing to draw")
    ordered = sorted(placements, key=lambda p: p.start)
    out: list[Segment] = []
    pos = 0
    for p in ordered:
        if p.start < pos or p.start + p.size > width:
            raise MigError(f"{p.label()} overlaps another instance or leaves the {width}-slot grid")
        if p.start > pos:
            out.append(Segment(profile=None, start=pos, size=p.start - pos))
        out.append(Segment(profile=p.profile, start=p.start, size=p.size))
        pos = p.start + p.size
    if pos < width:
        out.append(Segment(profile=None, start=pos, size=width - pos))
    return out


def _fit_label(name: str | None, room: int) -> str:
    if name is None:
        options = ["free", "-", ""]
    else:
        base = name.split(".", 1)[0]
        suffix = "+" + name.split("+", 1)[1] if "+" in name else ""
        suffix = suffix or ("-me" if name.endswith("-me") else "")
        options = [name, base + suffix, base + ("*" if suffix else ""), base, base[:1]]
    return next((o for o in options if len(o) <= room), "")


def render(gpu: Gpu | str, placements: Iterable[Placement], cell: int = 0) -> str:
    """Two lines: the bar, and slot numbers under the start of each slot."""
    segs = segments(gpu, placements)
    width = sum(s.size for s in segs)
    if cell <= 0:
        # Wide enough for '1g.10gb' in one slot on an 8-slot grid, compact on 12.
        cell = 9 if width <= 8 else 6
    bar = "["
    for i, seg in enumerate(segs):
        span = seg.size * cell - 1
        label = _fit_label(seg.profile, span - 1)
        if seg.profile is None:
            label = label.center(span) if label else " " * span
        else:
            label = label.center(span)
        bar += label + ("|" if i < len(segs) - 1 else "]")
    numbers = [" "] * (width * cell + 1)
    for slot in range(width):
        text = str(slot)
        at = 1 + slot * cell
        for j, ch in enumerate(text):
            if at + j < len(numbers):
                numbers[at + j] = ch
    return bar + "\n" + "".join(numbers).rstrip()
