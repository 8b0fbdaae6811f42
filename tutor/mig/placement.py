"""The placement model that `nvidia-smi mig -lgipp` prints, solved exactly.

A GPU instance of profile P occupies P.memory_slices consecutive units of the GPU's slot
grid, starting only at one of P's listed start slots; instances may not overlap; each
profile has its own instance limit; the GPU has an overall instance limit; at most one
media-extension (+me) instance exists per GPU. Grids are at most 12 slots wide, so a
bitmask plus a memoised depth-first search is exact and fast.

Over 400 lines: the exact placement solver and the explanations of its answers.
"""

from __future__ import annotations

import functools
import itertools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tutor.mig.catalogue import Gpu, MigError, Profile, find_gpu, find_profile

GpuRef = Gpu | str


class Placement(BaseModel):
    """One GPU instance: a profile at a start slot, covering `size` slots."""

    model_config = ConfigDict(frozen=True)
    profile: str
    start: int = Field(ge=0)
    size: int = Field(ge=1)

    @property
    def end(self) -> int:
        """Last slot covered (inclusive)."""
        return self.start + self.size - 1

    def label(self) -> str:
        slots = f"slot {self.start}" if self.size == 1 else f"slots {self.start}-{self.end}"
        return f"{self.profile}@{self.start} ({slots})"


class CheckResult(BaseModel):
    gpu: str
    valid: bool | None = Field(description="None when the answer depends on unverified data")
    placements: list[Placement] = Field(default_factory=list)
    reason: str | None = None
    basis: str = ""
    inferred: bool = False
    decided_by: Literal["placements", "instance-count", "rules"] = Field(
        default="placements",
        description="placements: start slots solved; instance-count: a one-profile layout "
        "within the profile's instance count (no start slots needed); rules: counts alone",
    )


class CapacityResult(BaseModel):
    gpu: str
    profile: str
    count: int | None = Field(description="how many more instances fit; None = unknown")
    placements: list[Placement] = Field(default_factory=list)
    limit: str | None = Field(default=None, description="what stops one more instance")
    reason: str | None = None
    upper_bound: int | None = Field(default=None, description="bound from instance limits alone")
    basis: str = ""
    inferred: bool = False
    decided_by: Literal["placements", "instance-count", "rules"] = "placements"


class PlacementsUnknown(MigError):
    """The start slots of this GPU are not verified, so placements cannot be answered."""


@dataclass(frozen=True, eq=False)
class _Geo:
    """Integer form of one GPU's geometry; eq=False makes hashing by identity (cheap)."""

    gpu: Gpu
    width: int
    max_total: int | None
    compute_total: int | None
    names: tuple[str, ...]
    sizes: tuple[int, ...]
    starts: tuple[tuple[int, ...], ...]
    masks: tuple[tuple[int, ...], ...]
    max_n: tuple[int | None, ...]
    media: tuple[bool, ...]
    compute: tuple[int, ...]
    index: dict[str, int]
    inferred: bool


_GEO_CACHE: dict[tuple[int, bool], tuple[Gpu, _Geo]] = {}


def unknown_message(gpu: Gpu) -> str:
    what = "start slots" if gpu.memory_slices is not None else "slot grid and start slots"
    hint = (
        f" (an inferred geometry copied from {gpu.inferred_from} is available on request)"
        if gpu.inferred_available and gpu.inferred_from
        else ""
    )
    return (
        f"unknown: placements for {gpu.id} are not verified (no nvidia-smi mig -lgipp output or "
        f"NVIDIA table gives its {what}){hint}"
    )


def _geometry(gpu: Gpu, allow_inferred: bool) -> _Geo | None:
    use_inferred = allow_inferred and not gpu.placements_known and gpu.inferred_available
    key = (id(gpu), use_inferred)
    hit = _GEO_CACHE.get(key)
    if hit is not None and hit[0] is gpu:
        return hit[1]
    if not (gpu.placements_known or use_inferred):
        return None
    width = gpu.memory_slices or (gpu.inferred_memory_slices if use_inferred else None)
    assert width is not None
    starts: list[tuple[int, ...]] = []
    for p in gpu.profiles:
        slots = p.placements if p.placements is not None else p.inferred_placements
        assert slots is not None
        starts.append(tuple(sorted(slots)))
    sizes = tuple(
        p.memory_slices or (p.inferred_memory_slices if use_inferred else None) or 0
        for p in gpu.profiles
    )
    assert all(sizes)
    geo = _Geo(
        gpu=gpu,
        width=width,
        max_total=gpu.max_instances,
        compute_total=gpu.compute_slices,
        names=tuple(p.name for p in gpu.profiles),
        sizes=sizes,
        starts=tuple(starts),
        masks=tuple(
            tuple(((1 << size) - 1) << s for s in st)
            for size, st in zip(sizes, starts, strict=True)
        ),
        max_n=tuple(p.max_instances for p in gpu.profiles),
        media=tuple(p.media_extensions for p in gpu.profiles),
        compute=tuple(p.compute_slices for p in gpu.profiles),
        index={p.name: i for i, p in enumerate(gpu.profiles)},
        inferred=use_inferred,
    )
    _GEO_CACHE[key] = (gpu, geo)
    return geo


@functools.lru_cache(maxsize=65536)
def _solve(geo: _Geo, items: tuple[int, ...], mask: int, floor: int) -> tuple[int, ...] | None:
    """Start slots for `items` (in order) avoiding `mask`, or None.

    `floor` is the lowest start the first item may take; equal consecutive items take
    increasing starts so permutations of identical instances are searched only once.
    """
    if not items:
        return ()
    first = items[0]
    rest = items[1:]
    for start, m in zip(geo.starts[first], geo.masks[first], strict=True):
        if start < floor or m & mask:
            continue
        nxt = start + 1 if rest and rest[0] == first else 0
        tail = _solve(geo, rest, mask | m, nxt)
        if tail is not None:
            return (start, *tail)
    return None


def _slots_text(starts: Sequence[int]) -> str:
    if len(starts) == 1:
        return f"slot {starts[0]}"
    if len(starts) > 2 and list(starts) == list(range(starts[0], starts[-1] + 1)):
        return f"slots {starts[0]}-{starts[-1]}"
    return "slot " + ", ".join(str(s) for s in starts[:-1]) + f" or {starts[-1]}"


def _resolve(
    gpu: Gpu, profiles: Iterable[str], pinned: Iterable[tuple[str, int]]
) -> tuple[list[Profile], list[tuple[Profile, int]]]:
    free = [find_profile(gpu, p) for p in profiles]
    pins: list[tuple[Profile, int]] = []
    for name, slot in pinned:
        if not isinstance(slot, int) or isinstance(slot, bool):
            raise MigError(f"slot for {name} must be a whole number, got {slot!r}")
        pins.append((find_profile(gpu, name), slot))
    return free, pins


def _count_rules(
    gpu: Gpu,
    all_profiles: list[Profile],
    asked: str = "you asked for",
    *,
    sizes_from_geometry: bool = False,
) -> tuple[str | None, bool]:
    """Rules that need no start slots. Returns (violation, depends_on_unknown).

    With `sizes_from_geometry` (an inferred geometry supplies the slot sizes), unknown
    memory sizes are left to the solver instead of making the answer unknown.
    """
    unknown = False
    counts = Counter(p.name for p in all_profiles)
    by_name = {p.name: p for p in all_profiles}
    for name, n in counts.items():
        limit = by_name[name].max_instances
        if limit is None:
            if n > 1:
                unknown = True
        elif n > limit:
            return (
                f"{name} allows at most {limit} instance{'s' if limit > 1 else ''} per GPU; "
                f"{asked} {n}",
                False,
            )
    media = [p.name for p in all_profiles if p.media_extensions]
    if len(media) > 1:
        return (
            f"at most one media-extension instance per GPU; {asked} {len(media)} "
            f"({', '.join(media)})",
            False,
        )
    if gpu.max_instances is not None and len(all_profiles) > gpu.max_instances:
        return (
            f"{gpu.id} supports at most {gpu.max_instances} GPU instances; "
            f"{asked} {len(all_profiles)}",
            False,
        )
    if gpu.compute_slices is not None:
        used = sum(p.compute_slices for p in all_profiles)
        if used > gpu.compute_slices:
            return (
                f"the profiles need {used} compute slices but {gpu.id} has {gpu.compute_slices}",
                False,
            )
    if gpu.memory_slices is not None and all(p.memory_slices for p in all_profiles):
        used = sum(p.memory_slices or 0 for p in all_profiles)
        if used > gpu.memory_slices:
            return (
                f"the profiles need {used} memory slots but {gpu.id} has {gpu.memory_slices}",
                False,
            )
    elif not sizes_from_geometry:
        unknown = True
    return None, unknown


def count_source(gpu: Gpu, p: Profile) -> str:
    """Where a profile's instance count was read, in words: NVIDIA's table or mig-parted."""
    from tutor.mig.catalogue import catalogue

    if gpu.id.startswith("imported-"):
        return "your nvidia-smi -lgip output"
    texts = [catalogue().sources[k].text for k in p.sources if k in catalogue().sources]
    if any("mig-user-guide" in t or "supported-mig-profiles" in t for t in texts):
        return "NVIDIA's table"
    if any("mig-parted" in t and "config" in t for t in texts):
        return "NVIDIA's mig-parted config"
    return "the catalogue"


def homogeneous_basis(gpu: Gpu, profiles: list[Profile], *, pinned: bool) -> str | None:
    """The basis for a layout made of one profile only, within its instance count.

    NVIDIA's 'Number of Instances Available' is how many instances of that one profile a
    GPU holds at once, so such a layout is valid whatever the start slots; only mixed
    layouts, or instances pinned to slots, need the slots themselves.
    """
    if pinned or not profiles or len({p.name for p in profiles}) != 1:
        return None
    p = profiles[0]
    if p.max_instances is None or len(profiles) > p.max_instances:
        return None
    n = p.max_instances
    return (
        f"valid: {count_source(gpu, p)} allows {n} instance{'s' if n != 1 else ''} of "
        f"{p.name}; start slots not needed"
    )


def check(
    gpu: GpuRef,
    profiles: Iterable[str] = (),
    pinned: Iterable[tuple[str, int]] = (),
    *,
    allow_inferred: bool = False,
) -> CheckResult:
    """Can these profiles coexist on one GPU (some pinned to start slots)?

    Valid -> one concrete placement of every instance. Invalid -> the reason in words.
    Unverified start slots -> valid=None and a plain "unknown: ..." reason, unless the
    instance limits alone already rule the layout out.
    """
    g = find_gpu(gpu)
    free, pins = _resolve(g, profiles, pinned)
    everything = free + [p for p, _ in pins]
    geo = _geometry(g, allow_inferred)
    violation, depends_on_unknown = _count_rules(
        g, everything, sizes_from_geometry=geo is not None and geo.inferred
    )
    basis = g.basis_text(inferred=geo is not None and geo.inferred)
    inferred = geo is not None and geo.inferred
    if violation:
        return CheckResult(
            gpu=g.id,
            valid=False,
            reason=violation,
            basis=basis,
            inferred=inferred,
            decided_by="rules" if geo is None else "placements",
        )
    if not everything:
        return CheckResult(gpu=g.id, valid=True, basis=basis, inferred=inferred)
    if geo is None or depends_on_unknown:
        homogeneous = homogeneous_basis(g, everything, pinned=bool(pins))
        if homogeneous is not None:
            return CheckResult(gpu=g.id, valid=True, basis=homogeneous, decided_by="instance-count")
        reason = unknown_message(g)
        lone = everything[0]
        if len({p.name for p in everything}) == 1 and lone.max_instances is None and not pins:
            reason = (
                f"unknown: no source gives how many {lone.name} instances {g.id} holds, "
                "and its start slots are not verified"
            )
        return CheckResult(gpu=g.id, valid=None, reason=reason, basis=basis)

    mask = 0
    placed: list[Placement] = []
    for p, slot in pins:
        i = geo.index[p.name]
        if slot not in geo.starts[i]:
            return CheckResult(
                gpu=g.id,
                valid=False,
                reason=f"{p.name} can start only at {_slots_text(geo.starts[i])}, not slot {slot}",
                basis=basis,
                inferred=inferred,
            )
        here = Placement(profile=p.name, start=slot, size=geo.sizes[i])
        m = ((1 << here.size) - 1) << slot
        if m & mask:
            other = next(q for q in placed if q.start <= here.end and here.start <= q.end)
            return CheckResult(
                gpu=g.id,
                valid=False,
                reason=f"{here.label()} overlaps {other.label()}",
                basis=basis,
                inferred=inferred,
            )
        mask |= m
        placed.append(here)

    # Largest first, then least flexible: fails fast and keeps the memo small.
    items = tuple(
        sorted(
            (geo.index[p.name] for p in free), key=lambda i: (-geo.sizes[i], len(geo.starts[i]), i)
        )
    )
    starts = _solve(geo, items, mask, 0)
    if starts is None:
        return CheckResult(
            gpu=g.id,
            valid=False,
            reason=_explain(geo, placed, mask, items),
            basis=basis,
            inferred=inferred,
        )
    placed += [
        Placement(profile=geo.names[i], start=s, size=geo.sizes[i])
        for i, s in zip(items, starts, strict=True)
    ]
    placed.sort(key=lambda q: q.start)
    return CheckResult(gpu=g.id, valid=True, placements=placed, basis=basis, inferred=inferred)


def _explain(geo: _Geo, pinned: list[Placement], mask: int, items: tuple[int, ...]) -> str:
    """Name the first instance that cannot go anywhere and what blocks each of its starts."""
    k = next(k for k in range(1, len(items) + 1) if _solve(geo, items[:k], mask, 0) is None)
    prefix = items[: k - 1]
    failing = items[k - 1]
    prefix_starts = _solve(geo, prefix, mask, 0) or ()
    others = pinned + [
        Placement(profile=geo.names[i], start=s, size=geo.sizes[i])
        for i, s in zip(prefix, prefix_starts, strict=True)
    ]
    others.sort(key=lambda q: q.start)
    name = geo.names[failing]
    size = geo.sizes[failing]
    # Group neighbouring starts blocked by the same instance: "slots 0-3 overlap 3g.40gb@0".
    groups: list[tuple[list[int], str]] = []
    for s in geo.starts[failing]:
        hits = [q for q in others if q.start <= s + size - 1 and s <= q.end]
        why = hits[0].label() if hits else ""
        if groups and groups[-1][1] == why:
            groups[-1][0].append(s)
        else:
            groups.append(([s], why))
    blocked = []
    for starts, why in groups:
        if len(starts) == 1:
            where = f"slot {starts[0]}"
        elif starts == list(range(starts[0], starts[-1] + 1)):
            where = f"slots {starts[0]}-{starts[-1]}"
        else:
            where = "slots " + ", ".join(map(str, starts))
        verb = "overlaps" if len(starts) == 1 else "overlap"
        blocked.append(f"{where} {verb} {why}" if why else f"{where} free")
    text = f"{name} can start only at {_slots_text(geo.starts[failing])}; " + "; ".join(blocked)
    used = 0
    for q in others:
        used |= ((1 << q.size) - 1) << q.start
    idle = [s for s in range(geo.width) if not used >> s & 1]
    if idle:
        free = f"slot{'s' if len(idle) > 1 else ''} {', '.join(map(str, idle))}"
        if size == 1:
            text += f" ({free} free, but {name} may not start there)"
        else:
            text += f" ({free} free, but no {size} free slots in a row begin at an allowed start)"
    if prefix:
        text += "; no other arrangement of the remaining instances leaves room either"
    return text


def capacity(
    gpu: GpuRef,
    profile: str,
    pinned: Iterable[tuple[str, int]] = (),
    existing: Iterable[str] = (),
    *,
    allow_inferred: bool = False,
) -> CapacityResult:
    """How many more instances of `profile` fit beside `pinned` and unpinned `existing`."""
    g = find_gpu(gpu)
    p = find_profile(g, profile)
    pins = list(pinned)
    have = list(existing)
    base = check(g, have, pins, allow_inferred=allow_inferred)
    all_now = [find_profile(g, n) for n in have] + [find_profile(g, n) for n, _ in pins]
    bound = _upper_bound(g, p, all_now)
    common: dict[str, Any] = {
        "gpu": g.id,
        "profile": p.name,
        "basis": base.basis,
        "inferred": base.inferred,
    }
    if base.valid is False:
        return CapacityResult(
            **common,
            count=None,
            reason=f"the starting layout is invalid: {base.reason}",
            upper_bound=bound,
        )
    if base.valid is None:
        reason = base.reason or unknown_message(g)
        if bound == 0:
            return CapacityResult(
                **common,
                count=0,
                limit=_bound_reason(g, p, all_now),
                upper_bound=0,
            )
        return CapacityResult(**common, count=None, reason=reason, upper_bound=bound)
    best = 0
    best_result = base
    top = bound if bound is not None else 8
    for k in range(top, 0, -1):
        res = check(g, have + [p.name] * k, pins, allow_inferred=allow_inferred)
        if res.valid is None:
            return CapacityResult(**common, count=None, reason=res.reason, upper_bound=bound)
        if res.valid:
            best, best_result = k, res
            break
    if best == top and bound is not None:
        limit: str | None = _bound_reason(g, p, all_now + [p] * best)
    else:
        nxt = check(g, have + [p.name] * (best + 1), pins, allow_inferred=allow_inferred)
        limit = nxt.reason
    if best_result.decided_by == "instance-count":
        common["basis"] = best_result.basis
        common["decided_by"] = "instance-count"
    return CapacityResult(
        **common,
        count=best,
        placements=best_result.placements,
        limit=limit,
        upper_bound=bound,
    )


def _upper_bound(gpu: Gpu, p: Profile, current: list[Profile]) -> int | None:
    bounds: list[int] = []
    if p.max_instances is not None:
        bounds.append(p.max_instances - sum(q.name == p.name for q in current))
    if gpu.max_instances is not None:
        bounds.append(gpu.max_instances - len(current))
    if p.media_extensions:
        bounds.append(0 if any(q.media_extensions for q in current) else 1)
    if gpu.compute_slices is not None:
        left = gpu.compute_slices - sum(q.compute_slices for q in current)
        bounds.append(left // p.compute_slices)
    if gpu.memory_slices is not None and p.memory_slices and all(q.memory_slices for q in current):
        left = gpu.memory_slices - sum(q.memory_slices or 0 for q in current)
        bounds.append(left // p.memory_slices)
    return max(0, min(bounds)) if bounds else None


def _bound_reason(gpu: Gpu, p: Profile, current: list[Profile]) -> str:
    # Capacity asks why one more does not fit, so the count is "one more would make N".
    violation, _ = _count_rules(gpu, [*current, p], asked="one more would make")
    return violation or "no room left"


def _all_maximal(geo: _Geo) -> list[tuple[tuple[int, int], ...]]:
    """Every maximal valid set of (profile index, start), generated left to right once each."""
    out: list[tuple[tuple[int, int], ...]] = []
    n = len(geo.names)
    by_start: list[list[tuple[int, int]]] = [[] for _ in range(geo.width)]
    for i in range(n):
        for s, m in zip(geo.starts[i], geo.masks[i], strict=True):
            by_start[s].append((i, m))
    counts = [0] * n
    chosen: list[tuple[int, int]] = []

    def addable(i: int, mask: int, media: bool, compute: int) -> bool:
        limit = geo.max_n[i]
        if limit is not None and counts[i] >= limit:
            return False
        if geo.media[i] and media:
            return False
        return geo.compute_total is None or compute + geo.compute[i] <= geo.compute_total

    open_cache: dict[int, tuple[int, ...]] = {}

    def open_profiles(mask: int) -> tuple[int, ...]:
        # Many leaves share an occupancy mask; which profiles still have a free start
        # depends on the mask alone, so compute it once per mask.
        hit = open_cache.get(mask)
        if hit is None:
            hit = tuple(i for i in range(n) if any(not m & mask for m in geo.masks[i]))
            open_cache[mask] = hit
        return hit

    def maximal(mask: int, media: bool, compute: int) -> bool:
        if geo.max_total is not None and len(chosen) >= geo.max_total:
            return True
        return not any(addable(i, mask, media, compute) for i in open_profiles(mask))

    def rec(pos: int, mask: int, media: bool, compute: int) -> None:
        if pos == geo.width:
            if chosen and maximal(mask, media, compute):
                out.append(tuple(chosen))
            return
        rec(pos + 1, mask, media, compute)
        if mask >> pos & 1:
            return
        if geo.max_total is not None and len(chosen) >= geo.max_total:
            return
        for i, m in by_start[pos]:
            if m & mask or not addable(i, mask, media, compute):
                continue
            chosen.append((i, pos))
            counts[i] += 1
            rec(pos + 1, mask | m, media or geo.media[i], compute + geo.compute[i])
            counts[i] -= 1
            chosen.pop()

    rec(0, 0, False, 0)
    return out


@functools.lru_cache(maxsize=64)
def _maximal(geo: _Geo) -> tuple[tuple[Placement, ...], ...]:
    # Placements are frozen, so one object per (profile, start) is shared by every partition.
    shared = {
        (i, s): Placement(profile=geo.names[i], start=s, size=geo.sizes[i])
        for i in range(len(geo.names))
        for s in geo.starts[i]
    }
    return tuple(tuple(shared[i, s] for i, s in part) for part in _all_maximal(geo))


def enumerate_partitions(
    gpu: GpuRef, *, allow_inferred: bool = False
) -> tuple[tuple[Placement, ...], ...]:
    """Every maximal valid partition (no further instance of any profile can be added).

    Each partition is a tuple of placements sorted by start slot, listed once. The result
    is memoised per GPU, so repeated calls (e.g. per keystroke) cost a dictionary lookup.
    Raises PlacementsUnknown when the GPU's start slots are not verified.
    """
    g = find_gpu(gpu)
    geo = _geometry(g, allow_inferred)
    if geo is None:
        raise PlacementsUnknown(unknown_message(g))
    return _maximal(geo)


def distinct_layouts(gpu: GpuRef, *, allow_inferred: bool = False) -> list[dict[str, int]]:
    """The maximal partitions reduced to profile counts (where they start is ignored)."""
    seen: dict[tuple[tuple[str, int], ...], None] = {}
    for part in enumerate_partitions(gpu, allow_inferred=allow_inferred):
        key = tuple(sorted(Counter(p.profile for p in part).items()))
        seen.setdefault(key, None)
    return [dict(k) for k in seen]


def brute_force_valid(
    gpu: GpuRef, profiles: Sequence[str], pinned: Sequence[tuple[str, int]] = ()
) -> bool | None:
    """Reference answer by trying every combination of starts; for tests and sceptics."""
    g = find_gpu(gpu)
    geo = _geometry(g, False)
    if geo is None:
        return None
    names = [find_profile(g, p).name for p in profiles]
    pins = [(find_profile(g, n).name, s) for n, s in pinned]
    everything = names + [n for n, _ in pins]
    counts = Counter(everything)
    for n, c in counts.items():
        lim = geo.max_n[geo.index[n]]
        if lim is not None and c > lim:
            return False
    if sum(geo.media[geo.index[n]] for n in everything) > 1:
        return False
    if geo.max_total is not None and len(everything) > geo.max_total:
        return False
    if geo.compute_total is not None and (
        sum(geo.compute[geo.index[n]] for n in everything) > geo.compute_total
    ):
        return False
    choices = [geo.starts[geo.index[n]] for n in names]
    for combo in itertools.product(*choices):
        cells: list[int] = []
        ok = True
        for n, s in [*zip(names, combo, strict=True), *pins]:
            i = geo.index[n]
            if s not in geo.starts[i]:
                ok = False
                break
            cells.extend(range(s, s + geo.sizes[i]))
        if ok and len(cells) == len(set(cells)):
            return True
    return False
