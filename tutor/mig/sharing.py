"""Kubernetes names and sharing trade-offs: time-slicing, MIG strategies, whole GPUs.

Facts come from the catalogue's `rules` (k8s-device-plugin, GPU Operator, mig-parted);
each answer carries the source keys it rests on.
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal

from pydantic import BaseModel, Field

from tutor.mig.catalogue import Gpu, MigError, Profile, catalogue, find_gpu, find_profile
from tutor.mig.fit import profile_gib
from tutor.mig.placement import capacity

Strategy = Literal["none", "single", "mixed"]
MAX_GPUS = 100_000
MAX_REPLICAS = 1_000
MIG_CONFIG_LABEL = "nvidia.com/mig.config"


def _refs(*rules: str) -> list[dict[str, Any]]:
    cat = catalogue()
    keys: list[str] = []
    for r in rules:
        for k in cat.rules[r].sources:
            if k not in keys:
                keys.append(k)
    return cat.source_refs(keys)


class TimeSliceResult(BaseModel):
    resource: str = Field(description="extended resource name pods request")
    count: int = Field(description="advertised count = GPUs x replicas")
    gpus: int
    replicas: int
    rename_by_default: bool
    fail_requests_greater_than_one: bool
    labels: list[str]
    isolation: str
    notes: list[str]
    sources: list[dict[str, Any]]


def timeslice(
    gpus: int,
    replicas: int,
    *,
    rename_by_default: bool = False,
    resource: str = "nvidia.com/gpu",
    fail_requests_greater_than_one: bool = False,
) -> TimeSliceResult:
    """What the device plugin advertises when each GPU is time-sliced into `replicas`."""
    if not 1 <= gpus <= MAX_GPUS:
        raise MigError(f"gpus must be between 1 and {MAX_GPUS:,}, got {gpus}")
    if not 1 <= replicas <= MAX_REPLICAS:
        raise MigError(f"replicas must be between 1 and {MAX_REPLICAS:,}, got {replicas}")
    name = f"{resource}.shared" if rename_by_default else resource
    labels = [f"{resource}.replicas={replicas}"]
    if resource == "nvidia.com/gpu":
        labels.append("nvidia.com/gpu.product=<product>" + ("" if rename_by_default else "-SHARED"))
    notes = [
        f"{gpus} GPU{'s' if gpus != 1 else ''} x {replicas} replicas = {gpus * replicas} "
        f"schedulable {name}",
        "no memory or fault isolation between replicas: one pod can use all GPU memory or "
        "crash the context others share",
        "requesting 2 replicas does not give 2x compute",
        "time-slicing and MPS are mutually exclusive and apply to all GPUs of a node",
    ]
    if fail_requests_greater_than_one:
        notes.append("requests > 1 fail with UnexpectedAdmissionError")
    return TimeSliceResult(
        resource=name,
        count=gpus * replicas,
        gpus=gpus,
        replicas=replicas,
        rename_by_default=rename_by_default,
        fail_requests_greater_than_one=fail_requests_greater_than_one,
        labels=labels,
        isolation="none (no memory or fault isolation; tenants take turns on the whole GPU)",
        notes=notes,
        sources=_refs("time_slicing"),
    )


class ResourceResult(BaseModel):
    gpu: str
    profile: str
    strategy: Strategy
    resource: str
    labels: list[str]
    mig_config_label: str
    constraints: list[str]
    pod_limits: dict[str, int]
    sources: list[dict[str, Any]]


def mixed_resource(profile_name: str) -> str:
    """nvidia.com/mig-<profile> with '+' written as '.' (1g.10gb+me -> mig-1g.10gb.me)."""
    return "nvidia.com/mig-" + profile_name.replace("+", ".")


# Kubernetes label values: at most 63 characters, alphanumeric at both ends, and only
# '-', '_' and '.' between (k8s.io/apimachinery validation.IsValidLabelValue).
LABEL_VALUE = re.compile(r"^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


def mig_config_name(profile_name: str) -> str:
    """The mig-parted config that fills every GPU with one profile, spelled as NVIDIA does.

    mig-parted's shipped config writes '+' as '.' (1g.10gb+me -> all-1g.10gb.me,
    1g.24gb+me.all -> all-1g.24gb.me.all) and keeps '-' (1g.24gb-me -> all-1g.24gb-me),
    because '+' is not allowed in a Kubernetes label value.
    """
    return "all-" + profile_name.replace("+", ".")


def is_label_value(text: str) -> bool:
    return bool(LABEL_VALUE.fullmatch(text))


def mig_config_label(config: str) -> str:
    if not is_label_value(config):
        raise MigError(
            f"{config!r} is not a valid Kubernetes label value (at most 63 letters, digits, "
            "'-', '_' or '.', starting and ending with a letter or digit)"
        )
    return f"{MIG_CONFIG_LABEL}={config}"


def resource_name(gpu: Gpu | str, profile: str, strategy: str = "mixed") -> ResourceResult:
    """The resource a pod requests for one `profile` instance under a GPU Operator MIG strategy."""
    g = find_gpu(gpu)
    p = find_profile(g, profile)
    if strategy not in ("none", "single", "mixed"):
        raise MigError(f"strategy must be none, single or mixed, got {strategy!r}")
    config = mig_config_name(p.name)
    if strategy == "mixed":
        resource = mixed_resource(p.name)
        labels = [f"{resource}.count=<instances on the node>"]
        constraints = [
            "each profile is its own resource; several profiles may share a node",
            "compute-instance subdivisions (e.g. 1c.3g.20gb) are not exposed",
        ]
    elif strategy == "single":
        resource = "nvidia.com/gpu"
        labels = [
            f"nvidia.com/gpu.product=<product>-MIG-{p.name}",
            "nvidia.com/gpu.count=<number of MIG devices on the node>",
        ]
        constraints = [
            f"every MIG device on the node must be the same type, so use a layout like {config}",
            "all GPUs on the node must have the same MIG mode",
        ]
    else:
        resource = "nvidia.com/gpu"
        labels = ["nvidia.com/gpu.product=<product>"]
        constraints = ["strategy none: MIG devices are not enumerated; pods get whole GPUs"]
    return ResourceResult(
        gpu=g.id,
        profile=p.name,
        strategy=strategy,  # type: ignore[arg-type]
        resource=resource,
        labels=labels,
        mig_config_label=mig_config_label(config),
        constraints=constraints,
        pod_limits={resource: 1},
        sources=_refs("k8s_strategies", "mig_manager"),
    )


class CompareRow(BaseModel):
    mode: Literal["mig", "time-slicing", "whole-gpu"]
    layout: str
    resource: str
    tenants_served: int | None
    tenants_unserved: int | None
    guaranteed_memory_gib: float | None = Field(description="per tenant; None = no guarantee")
    guaranteed_memory: str
    guaranteed_compute: str
    isolation: str
    noisy_neighbour_risk: Literal["none", "low", "high"]
    notes: list[str] = Field(default_factory=list)


class CompareResult(BaseModel):
    gpu: str
    gpus: int
    tenants: int
    tenant_memory_gib: float | None
    rows: list[CompareRow]
    summary: list[str]
    sources: list[dict[str, Any]]


def _plain(g: Gpu) -> list[Profile]:
    return sorted(
        (p for p in g.profiles if not p.is_variant), key=lambda p: (profile_gib(p)[0], p.name)
    )


def _pick_profile(g: Gpu, tenants: int, gpus: int, need: float | None) -> Profile | None:
    plain = _plain(g)
    if need is not None:
        return next((p for p in plain if profile_gib(p)[0] >= need), None)
    # Without a memory need: the biggest profile that still gives every tenant an instance.
    for p in reversed(plain):
        cap = capacity(g, p.name, allow_inferred=False).count
        if cap is not None and cap * gpus >= tenants:
            return p
    return plain[0] if plain else None


def compare(
    gpu: Gpu | str,
    tenants: int,
    *,
    gpus: int = 1,
    replicas: int | None = None,
    profile: str | None = None,
    tenant_memory_gib: float | None = None,
) -> CompareResult:
    """MIG vs time-slicing vs whole GPUs for `tenants` on `gpus` GPUs of one type."""
    g = find_gpu(gpu)
    if not 1 <= tenants <= 10_000:
        raise MigError(f"tenants must be between 1 and 10,000, got {tenants}")
    if not 1 <= gpus <= MAX_GPUS:
        raise MigError(f"gpus must be between 1 and {MAX_GPUS:,}, got {gpus}")
    if tenant_memory_gib is not None and not 0 < tenant_memory_gib <= 10_000:
        raise MigError(f"tenant_memory_gib must be between 0 and 10000, got {tenant_memory_gib}")
    rows: list[CompareRow] = []
    summary: list[str] = []

    p = find_profile(g, profile) if profile else _pick_profile(g, tenants, gpus, tenant_memory_gib)
    if p is None:
        largest = _plain(g)[-1]
        rows.append(
            CompareRow(
                mode="mig",
                layout="none",
                resource="-",
                tenants_served=0,
                tenants_unserved=tenants,
                guaranteed_memory_gib=None,
                guaranteed_memory=f"no profile holds {tenant_memory_gib} GiB "
                f"(largest {largest.name}: {profile_gib(largest)[0]:.2f} GiB)",
                guaranteed_compute="-",
                isolation="hardware",
                noisy_neighbour_risk="none",
            )
        )
    else:
        cap = capacity(g, p.name)
        size, measured = profile_gib(p)
        sm = f", {p.sms} SMs" if p.sms else ""
        compute_total = g.compute_slices or 7
        served = None if cap.count is None else min(tenants, cap.count * gpus)
        notes = [] if measured else [f"{p.name} GiB is nominal; -lgip not verified"]
        if cap.count is None:
            notes.append(cap.reason or "capacity unknown")
        if tenant_memory_gib is not None and size < tenant_memory_gib:
            notes.append(f"{p.name} is smaller than the {tenant_memory_gib} GiB each tenant needs")
        rows.append(
            CompareRow(
                mode="mig",
                layout=f"{cap.count if cap.count is not None else '?'} x {p.name} per GPU",
                resource=mixed_resource(p.name) + " (mixed) or nvidia.com/gpu (single)",
                tenants_served=served,
                tenants_unserved=None if served is None else tenants - served,
                guaranteed_memory_gib=size,
                guaranteed_memory=f"{size:.2f} GiB dedicated",
                guaranteed_compute=f"{p.compute_slices}/{compute_total} compute slices{sm}",
                isolation="hardware: own SMs, memory slices, L2 and memory bandwidth; "
                "faults stay inside the instance",
                noisy_neighbour_risk="none",
                notes=notes,
            )
        )

    per_gpu = replicas or max(1, math.ceil(tenants / gpus))
    ts = timeslice(gpus, per_gpu)
    served_ts = min(tenants, ts.count)
    sharing = min(per_gpu, math.ceil(tenants / gpus))
    rows.append(
        CompareRow(
            mode="time-slicing",
            layout=f"x{per_gpu} replicas per GPU",
            resource=ts.resource,
            tenants_served=served_ts,
            tenants_unserved=tenants - served_ts,
            guaranteed_memory_gib=None,
            guaranteed_memory=f"none: up to {sharing} tenants share {_gb(g)}; "
            "nothing stops one from taking it all",
            guaranteed_compute=f"none: turns on the whole GPU, about 1/{sharing} each when all "
            "are busy",
            isolation="none (no memory or fault isolation)",
            noisy_neighbour_risk="high" if sharing > 1 else "none",
            notes=["oversubscribable: more pods than GPUs"],
        )
    )
    served_whole = min(tenants, gpus)
    rows.append(
        CompareRow(
            mode="whole-gpu",
            layout="1 tenant per GPU, MIG disabled",
            resource="nvidia.com/gpu",
            tenants_served=served_whole,
            tenants_unserved=tenants - served_whole,
            guaranteed_memory_gib=None,
            guaranteed_memory=f"the whole {_gb(g)}",
            guaranteed_compute="all SMs",
            isolation="physical: one tenant per GPU",
            noisy_neighbour_risk="none",
        )
    )
    for r in rows:
        summary.append(
            f"{r.mode}: serves {r.tenants_served if r.tenants_served is not None else '?'} of "
            f"{tenants}; memory {r.guaranteed_memory}; compute {r.guaranteed_compute}; "
            f"noisy-neighbour risk {r.noisy_neighbour_risk}"
        )
    return CompareResult(
        gpu=g.id,
        gpus=gpus,
        tenants=tenants,
        tenant_memory_gib=tenant_memory_gib,
        rows=rows,
        summary=summary,
        sources=_refs("time_slicing", "k8s_strategies", "placement_model"),
    )


def _gb(g: Gpu) -> str:
    return f"{g.memory_gb:g} GB" if g.memory_gb is not None else "? GB (memory not verified)"
