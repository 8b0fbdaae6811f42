"""The calculator side of the app: partitions as slot segments, and calculator numbers.

The slot picture comes from `tutor.mig.diagram.segments`, the same code that draws the
CLI's diagram, so the card and `tutor mig diagram` cannot disagree. `tutor.mig` is
imported only when a calculation is shown, so start-up never pays for the catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

if TYPE_CHECKING:
    from tutor.engine.events import ToolRecord
    from tutor.mig.diagram import Segment
    from tutor.mig.placement import Placement


@dataclass
class PartitionView:
    """What the calculator card draws: a GPU's slots, instances and free runs alike."""

    gpu: str
    profiles: list[str]
    segments: list[Segment] = field(default_factory=list)
    valid: bool | None = None
    message: str = ""
    basis: str = ""

    @property
    def total(self) -> int | None:
        """Slots on the grid; None when there is nothing to draw."""
        return sum(s.size for s in self.segments) or None

    @property
    def instances(self) -> list[Segment]:
        return [s for s in self.segments if s.profile is not None]


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump()
    return value


def draw(gpu: str, placements: Iterable[Placement]) -> list[Segment]:
    """The diagram's segments, or none when the GPU's slot grid is not verified."""
    from tutor.mig.catalogue import MigError
    from tutor.mig.diagram import segments

    try:
        return segments(gpu, placements)
    except MigError:
        return []


def _placement_result(result: Any) -> tuple[str, list[Placement], bool | None, str, str] | None:
    """(gpu, placements, valid, reason, basis) of a check or capacity result, else None."""
    from tutor.mig.placement import CapacityResult, CheckResult

    plain = _plain(result)
    try:
        checked = CheckResult.model_validate(plain)
    except ValidationError:
        pass
    else:
        return checked.gpu, checked.placements, checked.valid, checked.reason or "", checked.basis
    try:
        counted = CapacityResult.model_validate(plain)
    except ValidationError:
        return None
    reason = counted.limit or counted.reason or ""
    return counted.gpu, counted.placements, None, reason, counted.basis


def gpu_and_profiles(arguments: Mapping[str, Any]) -> tuple[str, list[str]]:
    """The GPU and the profiles a calculator call was asked about (its tool arguments)."""
    gpu = arguments.get("gpu")
    profiles: list[str] = []
    for key in ("profile", "profiles"):
        value = arguments.get(key)
        if isinstance(value, str):
            profiles.extend(parse_profiles(value))
        elif isinstance(value, list):
            profiles.extend(str(v) for v in value)
    return (gpu if isinstance(gpu, str) else ""), profiles


_REPEAT = re.compile(r"^(?:(\d+)\s*[x×*])?\s*([^\s×*]+?)(?:\s*[x×*]\s*(\d+))?$", re.IGNORECASE)


def parse_profiles(text: str) -> list[str]:
    """'3g.40gb, 2x1g.10gb' or '1g.10gb*2' -> one name per instance."""
    profiles: list[str] = []
    for token in re.split(r"[,\s;]+", text.strip()):
        if not token:
            continue
        match = _REPEAT.match(token)
        if match is None:
            profiles.append(token)
            continue
        count = int(match.group(1) or match.group(3) or 1)
        profiles.extend([match.group(2)] * min(count, 16))
    return profiles


def view_of(record: ToolRecord) -> PartitionView:
    """A tool record as a picture; results without placements get no slot grid."""
    gpu, profiles = gpu_and_profiles(record.arguments)
    found = _placement_result(record.result)
    if found is None:
        return PartitionView(gpu=gpu, profiles=profiles)
    gpu, placements, valid, message, basis = found
    return PartitionView(
        gpu=gpu,
        profiles=profiles or [p.profile for p in placements],
        segments=draw(gpu, placements) if placements else [],
        valid=valid,
        message=message,
        basis=basis,
    )


def check_partition(gpu: str, profiles_text: str) -> PartitionView:
    """Run the deterministic calculator directly: no model is involved."""
    from tutor.mig.placement import check

    profiles = parse_profiles(profiles_text)
    try:
        result = check(gpu, profiles)
    except ValueError as exc:  # MigError is a ValueError with a one-line message
        return PartitionView(gpu, profiles, valid=False, message=str(exc))
    return PartitionView(
        gpu=result.gpu,
        profiles=profiles,
        segments=draw(result.gpu, result.placements) if result.valid else [],
        valid=result.valid,
        message=result.reason or "",
        basis=result.basis,
    )


# Numbers that locate things on the grid would mark every "1" and "2" in a reply.
_STRUCTURAL_KEYS = {"start", "size", "end", "slot", "index", "id", "profile_id", "step"}


def _number_forms(value: float) -> set[str]:
    if isinstance(value, bool):
        return set()
    if isinstance(value, int) or float(value).is_integer():
        n = int(value)
        return {str(n), f"{n:,}"}
    return {f"{value:g}", f"{value:.1f}", f"{value:.2f}"}


def _numbers_in(value: Any, key: str = "") -> Iterable[str]:
    value = _plain(value)
    if key.lower() in _STRUCTURAL_KEYS:
        return
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        yield from _number_forms(value)
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _numbers_in(v, str(k))
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _numbers_in(v, key)


def calculator_numbers(records: Iterable[ToolRecord]) -> dict[str, int]:
    """Each number a tool produced, mapped to the index of the (last) record it came from."""
    found: dict[str, int] = {}
    for index, record in enumerate(records):
        for form in _numbers_in(record.result):
            found[form] = index
    return found


# Code, links and URLs are left alone: marking inside them would break the markdown.
_PROTECTED = re.compile(
    r"```.*?```|`[^`\n]*`|\[[^\]]*\]\([^)]*\)|<[^>\n]*>|https?://\S+", re.DOTALL
)
_NUMBER = re.compile(
    r"(?<![\w.\-/])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w]|\.\d)"
    r"|(?<![\w.\-/,])\d+(?:\.\d+)?(?![\w]|\.\d)"
)


def mark_numbers(text: str, numbers: Mapping[str, int], offset: int = 0) -> tuple[str, int]:
    """Turn calculator numbers into `calc:` links (underlined; a click opens the card)."""
    if not numbers:
        return text, 0
    count = 0

    def mark(match: re.Match[str]) -> str:
        nonlocal count
        number = match.group(0)
        if number not in numbers:
            return number
        count += 1
        return f"[{number}](calc:{numbers[number] + offset})"

    parts: list[str] = []
    last = 0
    for protected in _PROTECTED.finditer(text):
        parts.append(_NUMBER.sub(mark, text[last : protected.start()]))
        parts.append(protected.group(0))
        last = protected.end()
    parts.append(_NUMBER.sub(mark, text[last:]))
    return "".join(parts), count
