"""Pack tenants onto as few GPUs as possible, one MIG instance per tenant.

Branch and bound over (tenant -> GPU, profile) with every GPU checked by the exact
placement engine, so a packing it returns is one nvidia-smi would accept.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import BaseModel, Field

from tutor.mig.catalogue import Gpu, MigError, Profile, find_gpu
from tutor.mig.fit import profile_gib
from tutor.mig.placement import Placement, check, unknown_message

NODE_LIMIT = 200_000


class Tenant(BaseModel):
    name: str = Field(min_length=1, max_length=80)
    memory_gib: float = Field(gt=0, le=10_000, description="GiB the tenant needs")
    compute_slices: int | None = Field(
        default=None, ge=1, le=8, description="minimum compute slices"
    )


class Assignment(BaseModel):
    tenant: str
    gpu_index: int
    profile: str
    start: int
    memory_gib: float


class PackedGpu(BaseModel):
    index: int
    placements: list[Placement]


class PackResult(BaseModel):
    gpu: str
    ok: bool | None = Field(description="None when placements are not verified")
    gpus_needed: int | None
    lower_bound: int | None = None
    optimal: bool = False
    assignments: list[Assignment] = Field(default_factory=list)
    gpus: list[PackedGpu] = Field(default_factory=list)
    reason: str | None = None
    lines: list[str] = Field(default_factory=list)


def _candidates(g: Gpu, t: Tenant) -> list[Profile]:
    # Media/graphics variants are left out: they would spend the GPU's single +me instance.
    plain = [p for p in g.profiles if not p.is_variant]
    ok = [
        p
        for p in plain
        if profile_gib(p)[0] >= t.memory_gib
        and (t.compute_slices is None or p.compute_slices >= t.compute_slices)
    ]
    return sorted(ok, key=lambda p: (p.memory_slices or 99, p.compute_slices, profile_gib(p)[0]))


def pack(tenants: Sequence[Tenant], gpu: Gpu | str) -> PackResult:
    """Choose a profile and a GPU for every tenant, minimising the number of GPUs."""
    g = find_gpu(gpu)
    if not tenants:
        raise MigError("give at least one tenant")
    if len(tenants) > 64:
        raise MigError(f"at most 64 tenants per question, got {len(tenants)}")
    names = [t.name for t in tenants]
    if len(set(names)) != len(names):
        raise MigError("tenant names must be unique")
    cands: dict[str, list[Profile]] = {}
    for t in tenants:
        c = _candidates(g, t)
        if not c:
            biggest = max(g.profiles, key=lambda p: profile_gib(p)[0])
            need = f"{t.memory_gib:g} GiB"
            if t.compute_slices:
                need += f" and {t.compute_slices} compute slices"
            return PackResult(
                gpu=g.id,
                ok=False,
                gpus_needed=None,
                reason=f"tenant {t.name} needs {need}, but no {g.id} profile offers that "
                f"(largest: {biggest.name}, {profile_gib(biggest)[0]:.2f} GiB, "
                f"{biggest.compute_slices} compute slices)",
            )
        cands[t.name] = c
    if not g.placements_known:
        return PackResult(gpu=g.id, ok=None, gpus_needed=None, reason=unknown_message(g))

    width = g.memory_slices or 1
    lower = math.ceil(sum(cands[t.name][0].memory_slices or 1 for t in tenants) / width)
    order = sorted(tenants, key=lambda t: -(cands[t.name][0].memory_slices or 0))
    valid_cache: dict[tuple[str, ...], bool] = {}

    def fits(bin_profiles: tuple[str, ...]) -> bool:
        key = tuple(sorted(bin_profiles))
        if key not in valid_cache:
            valid_cache[key] = bool(check(g, key).valid)
        return valid_cache[key]

    best: list[list[tuple[str, str]]] | None = None
    nodes = 0

    def rec(i: int, bins: list[list[tuple[str, str]]]) -> None:
        nonlocal best, nodes
        nodes += 1
        if nodes > NODE_LIMIT:
            return
        if best is not None and len(bins) >= len(best):
            return
        if i == len(order):
            best = [list(b) for b in bins]
            return
        t = order[i]
        for b in bins:
            for p in cands[t.name]:
                trial = (*(name for _, name in b), p.name)
                if fits(trial):
                    b.append((t.name, p.name))
                    rec(i + 1, bins)
                    b.pop()
                    if best is not None and len(best) == lower:
                        return
        bins.append([])
        for p in cands[t.name]:
            bins[-1].append((t.name, p.name))
            rec(i + 1, bins)
            bins[-1].pop()
            if best is not None and len(best) == lower:
                break
        bins.pop()

    rec(0, [])
    if best is None:
        return PackResult(
            gpu=g.id, ok=False, gpus_needed=None, reason="search gave up before finding a packing"
        )
    assignments: list[Assignment] = []
    packed: list[PackedGpu] = []
    lines = []
    for idx, b in enumerate(best):
        res = check(g, [p for _, p in b])
        placements = list(res.placements)
        packed.append(PackedGpu(index=idx, placements=placements))
        free = list(placements)
        for tenant, prof in b:
            slot = next(q for q in free if q.profile == prof)
            free.remove(slot)
            size = profile_gib(g.profile(prof))[0]
            assignments.append(
                Assignment(
                    tenant=tenant,
                    gpu_index=idx,
                    profile=prof,
                    start=slot.start,
                    memory_gib=size,
                )
            )
        lines.append(f"GPU {idx}: " + ", ".join(f"{t} -> {p}" for t, p in b))
    optimal = len(best) == lower or nodes <= NODE_LIMIT
    lines.append(
        f"{len(tenants)} tenants on {len(best)} x {g.id} (lower bound from memory slots: {lower})"
    )
    return PackResult(
        gpu=g.id,
        ok=True,
        gpus_needed=len(best),
        lower_bound=lower,
        optimal=optimal,
        assignments=assignments,
        gpus=packed,
        lines=lines,
    )
