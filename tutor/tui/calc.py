"""The calculator side of the app: partitions as slot segments, and calculator numbers.

`tutor.mig` is imported only when the learner checks a partition, so start-up
never pays for the catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    from tutor.engine.events import ToolRecord


@dataclass(frozen=True)
class Segment:
    profile: str
    start: int
    size: int


@dataclass
class PartitionView:
    """What the calculator card draws: a GPU's slot grid and the instances on it."""

    gpu: str
    profiles: list[str]
    segments: list[Segment] = field(default_factory=list)
    total: int | None = None
    valid: bool | None = None
    message: str = ""
    basis: str = ""


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump()
    return value


def segments_from(result: Any) -> list[Segment]:
    """Find (profile, start, size) triples wherever a tool result keeps them."""
    result = _plain(result)
    if not isinstance(result, Mapping):
        return []
    for key in ("placements", "segments", "layout", "instances"):
        items = result.get(key)
        if not isinstance(items, list):
            continue
        found: list[Segment] = []
        for item in items:
            item = _plain(item)
            if isinstance(item, Mapping) and {"profile", "start", "size"} <= item.keys():
                found.append(Segment(str(item["profile"]), int(item["start"]), int(item["size"])))
            elif isinstance(item, (list, tuple)) and len(item) == 3:
                found.append(Segment(str(item[0]), int(item[1]), int(item[2])))
        if found:
            return sorted(found, key=lambda s: s.start)
    return []


def total_slots(result: Any, gpu: str | None) -> int | None:
    result = _plain(result)
    if isinstance(result, Mapping):
        for key in ("total_slots", "slots", "memory_slices", "grid"):
            value = result.get(key)
            if isinstance(value, int) and value > 0:
                return value
    if gpu:
        try:
            from tutor.mig.catalogue import find_gpu

            return find_gpu(gpu).memory_slices
        except (ImportError, ValueError):
            return None
    return None


def gpu_and_profiles(arguments: Mapping[str, Any], result: Any = None) -> tuple[str, list[str]]:
    gpu = ""
    profiles: list[str] = []
    for key, value in arguments.items():
        low = key.lower()
        if "gpu" in low and isinstance(value, str):
            gpu = value
        elif "profile" in low:
            if isinstance(value, str):
                profiles.extend(parse_profiles(value))
            elif isinstance(value, list):
                profiles.extend(str(v) for v in value)
    if not gpu:
        plain = _plain(result)
        if isinstance(plain, Mapping) and isinstance(plain.get("gpu"), str):
            gpu = plain["gpu"]
    return gpu, profiles


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
    gpu, profiles = gpu_and_profiles(record.arguments, record.result)
    segments = segments_from(record.result)
    plain = _plain(record.result)
    valid: bool | None = None
    message = ""
    basis = ""
    if isinstance(plain, Mapping):
        raw_valid = plain.get("valid", plain.get("fits", plain.get("ok")))
        valid = raw_valid if isinstance(raw_valid, bool) else None
        message = str(plain.get("reason") or "")
        basis = str(plain.get("basis") or "")
    return PartitionView(
        gpu=gpu,
        profiles=profiles or [s.profile for s in segments],
        segments=segments,
        total=total_slots(record.result, gpu),
        valid=valid,
        message=message,
        basis=basis,
    )


def check_partition(gpu: str, profiles_text: str) -> PartitionView:
    """Run the deterministic calculator directly: no model is involved."""
    profiles = parse_profiles(profiles_text)
    try:
        from tutor.mig.placement import check
    except ImportError:
        return PartitionView(gpu, profiles, message="the MIG calculator is not available")
    try:
        result = check(gpu, profiles)
    except ValueError as exc:  # MigError is a ValueError with a one-line message
        return PartitionView(gpu, profiles, valid=False, message=str(exc))
    return PartitionView(
        gpu=result.gpu,
        profiles=profiles,
        segments=[Segment(p.profile, p.start, p.size) for p in result.placements],
        total=total_slots(None, result.gpu),
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
