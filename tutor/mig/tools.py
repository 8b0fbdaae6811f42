"""The calculator as LLM tools: OpenAI-style schemas and a dispatcher that never raises.

Every number the tutor states should come from one of these calls; an error comes back
as a plain sentence the model can relay or act on.

Over 400 lines: one typed argument and result model per tool; the schemas the models see
are generated from them here.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

from tutor.mig import diagram as _diagram
from tutor.mig.catalogue import MigError, find_gpu, gpus
from tutor.mig.fit import FitRequest, FitResult, fit_request
from tutor.mig.migparted import ValidationReport, validate
from tutor.mig.pack import PackResult, Tenant, pack
from tutor.mig.placement import (
    CapacityResult,
    CheckResult,
    Placement,
    capacity,
    check,
    distinct_layouts,
    enumerate_partitions,
)
from tutor.mig.sharing import (
    CompareResult,
    ResourceResult,
    TimeSliceResult,
    compare,
    resource_name,
    timeslice,
)


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    args_model: type[BaseModel]
    func: Callable[[Any], BaseModel]

    def schema(self) -> dict[str, Any]:
        """OpenAI tool schema; nested models are inlined because small models mishandle $ref."""
        params = _inline(self.args_model.model_json_schema())
        params.pop("title", None)
        params.setdefault("properties", {})
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": params,
            },
        }


class ToolOutcome(BaseModel):
    name: str
    arguments: dict[str, Any]
    ok: bool
    result: dict[str, Any] | None = None
    error: str | None = None
    diagram: str | None = None


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                target = dict(defs[ref.split("/")[-1]])
                target.pop("title", None)
                return walk(target)
            return {k: walk(v) for k, v in node.items() if k != "title"}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    out: dict[str, Any] = walk(schema)
    return out


# ---- argument models ------------------------------------------------------------------

GpuField = Field(
    description="GPU name, e.g. 'A100-80GB', 'H100 NVL', 'H100-94GB', 'RTX PRO 6000', "
    "or a PCI device ID such as 0x233010DE"
)


class Pin(BaseModel):
    profile: str = Field(description="profile name, e.g. '3g.40gb'")
    slot: int = Field(ge=0, le=15, description="start slot on the -lgipp grid")


def _pins(value: Any) -> Any:
    """Accept 'profile@slot' strings as well as {profile, slot} objects."""
    if isinstance(value, list):
        out = []
        for item in value:
            if isinstance(item, str):
                m = re.fullmatch(r"\s*([^@\s]+)\s*@\s*(\d+)\s*", item)
                if not m:
                    raise ValueError(f"pin {item!r} must look like '3g.40gb@4'")
                out.append({"profile": m.group(1), "slot": int(m.group(2))})
            else:
                out.append(item)
        return out
    return value


class GpuArgs(BaseModel):
    gpu: str = GpuField


class NoArgs(BaseModel):
    pass


class CheckArgs(BaseModel):
    gpu: str = GpuField
    profiles: list[str] = Field(
        default_factory=list, max_length=16, description="profiles to place anywhere valid"
    )
    pinned: list[Pin] = Field(
        default_factory=list, max_length=16, description="instances fixed at a start slot"
    )
    allow_inferred: bool = Field(
        default=False, description="use start slots inferred from a sibling GPU where unverified"
    )

    _split = field_validator("pinned", mode="before")(_pins)


class CapacityArgs(BaseModel):
    gpu: str = GpuField
    profile: str = Field(description="profile to count, e.g. '1g.10gb'")
    pinned: list[Pin] = Field(default_factory=list, max_length=16)
    existing: list[str] = Field(
        default_factory=list, max_length=16, description="instances already wanted, any slot"
    )
    allow_inferred: bool = False

    _split = field_validator("pinned", mode="before")(_pins)


class TimesliceArgs(BaseModel):
    gpus: int = Field(ge=1, le=100_000, description="physical GPUs")
    replicas: int = Field(ge=1, le=1000, description="time-slicing replicas per GPU")
    rename_by_default: bool = Field(default=False, description="advertise <resource>.shared")
    resource: str = Field(default="nvidia.com/gpu", description="resource being time-sliced")


class ResourceArgs(BaseModel):
    gpu: str = GpuField
    profile: str = Field(description="MIG profile, e.g. '1g.10gb+me'")
    strategy: Literal["none", "single", "mixed"] = Field(
        default="mixed", description="GPU Operator / device-plugin MIG strategy"
    )


class CompareArgs(BaseModel):
    gpu: str = GpuField
    tenants: int = Field(ge=1, le=10_000, description="tenants (workloads) to serve")
    gpus: int = Field(default=1, ge=1, le=100_000, description="physical GPUs available")
    replicas: int | None = Field(default=None, ge=1, le=1000, description="time-slicing replicas")
    profile: str | None = Field(default=None, description="MIG profile per tenant; default chosen")
    tenant_memory_gib: float | None = Field(
        default=None, gt=0, le=10_000, description="GiB per tenant"
    )


class PackArgs(BaseModel):
    gpu: str = GpuField
    tenants: list[Tenant] = Field(min_length=1, max_length=64)


class ValidateConfigArgs(BaseModel):
    config: str = Field(
        min_length=1,
        max_length=65_536,
        description="a mig-parted config (version: v1, mig-configs: ...) or its ConfigMap",
    )
    name: str | None = Field(default=None, description="check only this named config")
    gpu: str | None = Field(default=None, description="check only on this GPU (name or PCI ID)")
    key: str | None = Field(default=None, description="ConfigMap data key holding the config")
    allow_inferred: bool = False


# ---- result models for list-shaped answers -------------------------------------------


class GpuSummary(BaseModel):
    id: str
    name: str
    aliases: list[str]
    memory_gb: float | None
    max_instances: int | None
    placements: str
    pci_ids: list[str] = Field(
        default_factory=list, description="PCI device IDs, as mig-parted's device-filter"
    )


class GpuList(BaseModel):
    gpus: list[GpuSummary]


class ProfileRow(BaseModel):
    name: str
    id: int | None
    memory_gb: float
    memory_gib: float | None
    compute_slices: int
    memory_slices: int | None
    max_instances: int | None
    placements: list[int] | None
    media_extensions: bool
    sources: list[str]


class ProfileList(BaseModel):
    gpu: str
    name: str
    slots: int | None
    placements_basis: str
    profiles: list[ProfileRow]
    notes: list[str]
    max_instances: int | None = Field(
        default=None, description="the GPU's maximum number of MIG instances; None = unverified"
    )
    pci_ids: list[str] = Field(default_factory=list, description="PCI device IDs of the GPU")


class EnumerateResult(BaseModel):
    gpu: str
    partitions: int
    layouts: list[dict[str, int]]
    basis: str


# ---- tool functions --------------------------------------------------------------------


def gpu_list() -> GpuList:
    return GpuList(
        gpus=[
            GpuSummary(
                id=g.id,
                name=g.name,
                aliases=list(g.aliases),
                memory_gb=g.memory_gb,
                max_instances=g.max_instances,
                placements=g.placements_basis,
                pci_ids=[d.device for d in g.pci_ids],
            )
            for g in gpus()
        ]
    )


def profile_list(gpu: str) -> ProfileList:
    g = find_gpu(gpu)
    return ProfileList(
        gpu=g.id,
        name=g.name,
        slots=g.memory_slices,
        placements_basis=g.basis_text(),
        profiles=[
            ProfileRow(
                name=p.name,
                id=p.id,
                memory_gb=p.memory_gb,
                memory_gib=p.memory_gib,
                compute_slices=p.compute_slices,
                memory_slices=p.memory_slices,
                max_instances=p.max_instances,
                placements=list(p.placements) if p.placements is not None else None,
                media_extensions=p.media_extensions,
                sources=list(p.sources),
            )
            for p in g.profiles
        ],
        notes=list(g.notes),
        max_instances=g.max_instances,
        pci_ids=[d.device for d in g.pci_ids],
    )


def _mig_gpus(args: NoArgs) -> GpuList:
    """List every MIG-capable GPU in the catalogue with its aliases and memory."""
    return gpu_list()


def _mig_profiles(args: GpuArgs) -> ProfileList:
    """List a GPU's MIG profiles: ID, nominal GB and -lgip GiB, compute and memory slices,
    max instances and allowed start slots, plus the GPU's maximum number of MIG instances.
    null means not verified."""
    return profile_list(args.gpu)


def _mig_check(args: CheckArgs) -> CheckResult:
    """Check whether a set of MIG profiles can coexist on one GPU (optionally with some
    pinned to start slots). Returns one concrete placement, or the reason it is invalid,
    or 'unknown' when the GPU's placements are not verified."""
    return check(
        args.gpu,
        args.profiles,
        [(p.profile, p.slot) for p in args.pinned],
        allow_inferred=args.allow_inferred,
    )


def _mig_capacity(args: CapacityArgs) -> CapacityResult:
    """How many more instances of a profile fit on one GPU beside the given instances."""
    return capacity(
        args.gpu,
        args.profile,
        [(p.profile, p.slot) for p in args.pinned],
        args.existing,
        allow_inferred=args.allow_inferred,
    )


def _mig_fit(args: FitRequest) -> FitResult:
    """Smallest MIG profile that holds a model's weights plus KV cache (GiB = 2^30), with
    the arithmetic shown and how many sequences of the context length fit."""
    return fit_request(args)


def _mig_timeslice(args: TimesliceArgs) -> TimeSliceResult:
    """What Kubernetes advertises with device-plugin time-slicing: GPUs x replicas,
    the resource name (renameByDefault -> .shared) and the isolation you lose."""
    return timeslice(
        args.gpus,
        args.replicas,
        rename_by_default=args.rename_by_default,
        resource=args.resource,
    )


def _mig_resource(args: ResourceArgs) -> ResourceResult:
    """The Kubernetes resource name and labels for a MIG profile under the single or
    mixed strategy, plus the nvidia.com/mig.config label."""
    return resource_name(args.gpu, args.profile, args.strategy)


def _mig_compare(args: CompareArgs) -> CompareResult:
    """Compare MIG, time-slicing and whole GPUs for a tenant scenario: tenants served,
    guaranteed memory and compute per tenant, isolation, noisy-neighbour risk."""
    return compare(
        args.gpu,
        args.tenants,
        gpus=args.gpus,
        replicas=args.replicas,
        profile=args.profile,
        tenant_memory_gib=args.tenant_memory_gib,
    )


def _mig_enumerate(args: GpuArgs) -> EnumerateResult:
    """Every maximal MIG layout of a GPU, as profile counts (start slots omitted)."""
    parts = enumerate_partitions(args.gpu)
    g = find_gpu(args.gpu)
    return EnumerateResult(
        gpu=g.id, partitions=len(parts), layouts=distinct_layouts(g), basis=g.basis_text()
    )


def _mig_pack(args: PackArgs) -> PackResult:
    """Choose a MIG profile and GPU for each tenant (memory GiB, optional compute slices)
    using as few GPUs as possible."""
    return pack(args.tenants, args.gpu)


def _mig_validate_config(args: ValidateConfigArgs) -> ValidationReport:
    """Check a mig-parted config a learner pasted: every named layout on every GPU its
    device-filter names (or, without one, every GPU that has its profiles), each valid,
    invalid with the reason, or unknown with the reason."""
    only = find_gpu(args.gpu) if args.gpu is not None else None
    report = validate(
        args.config, key=args.key, gpu=only, allow_inferred=args.allow_inferred, source="chat"
    )
    if args.name is not None:
        picked = [c for c in report.configs if c.name == args.name]
        if not picked:
            names = ", ".join(c.name for c in report.configs[:20])
            raise MigError(f"no config named {args.name!r} in the file (configs: {names})")
        counts = {k: sum(c.verdict == k for c in picked) for k in report.counts}
        report = report.model_copy(update={"configs": picked, "counts": counts})
    return report


def _tool(name: str, args_model: type[BaseModel], func: Callable[[Any], BaseModel]) -> Tool:
    doc = inspect.getdoc(func) or name
    return Tool(name=name, description=" ".join(doc.split()), args_model=args_model, func=func)


TOOLS: dict[str, Tool] = {
    t.name: t
    for t in (
        _tool("mig_gpus", NoArgs, _mig_gpus),
        _tool("mig_profiles", GpuArgs, _mig_profiles),
        _tool("mig_check", CheckArgs, _mig_check),
        _tool("mig_capacity", CapacityArgs, _mig_capacity),
        _tool("mig_fit", FitRequest, _mig_fit),
        _tool("mig_timeslice", TimesliceArgs, _mig_timeslice),
        _tool("mig_resource", ResourceArgs, _mig_resource),
        _tool("mig_compare", CompareArgs, _mig_compare),
        _tool("mig_enumerate", GpuArgs, _mig_enumerate),
        _tool("mig_pack", PackArgs, _mig_pack),
        _tool("mig_validate_config", ValidateConfigArgs, _mig_validate_config),
    )
}


def openai_tools() -> list[dict[str, Any]]:
    return [t.schema() for t in TOOLS.values()]


def _validation_message(name: str, exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:4]:
        where = ".".join(str(p) for p in err["loc"]) or "arguments"
        msg = err["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {msg}")
    return f"invalid arguments for {name}: " + "; ".join(parts)


def _placements_of(result: BaseModel) -> list[Placement] | None:
    if isinstance(result, CheckResult) and result.valid:
        return result.placements
    if isinstance(result, CapacityResult) and result.count is not None:
        return result.placements
    return None


def dispatch(name: str, arguments: str | dict[str, Any]) -> ToolOutcome:
    """Run one tool call. Never raises: every failure is ok=False with a plain message."""
    raw: dict[str, Any] = arguments if isinstance(arguments, dict) else {}
    try:
        tool = TOOLS.get(name)
        if tool is None:
            return ToolOutcome(
                name=name,
                arguments=raw,
                ok=False,
                error=f"unknown tool {name!r}; available: {', '.join(TOOLS)}",
            )
        if isinstance(arguments, str):
            try:
                parsed = json.loads(arguments) if arguments.strip() else {}
            except json.JSONDecodeError as exc:
                return ToolOutcome(
                    name=name,
                    arguments={},
                    ok=False,
                    error=f"arguments are not valid JSON ({exc.msg} at position {exc.pos})",
                )
            if not isinstance(parsed, dict):
                return ToolOutcome(
                    name=name, arguments={}, ok=False, error="arguments must be a JSON object"
                )
            raw = parsed
        try:
            args = tool.args_model.model_validate(raw)
        except ValidationError as exc:
            return ToolOutcome(
                name=name, arguments=raw, ok=False, error=_validation_message(name, exc)
            )
        try:
            result = tool.func(args)
        except MigError as exc:
            return ToolOutcome(name=name, arguments=raw, ok=False, error=str(exc))
        picture = None
        placements = _placements_of(result)
        gpu = getattr(result, "gpu", None)
        if placements and isinstance(gpu, str):
            try:
                picture = _diagram.render(gpu, placements)
            except MigError:
                picture = None
        return ToolOutcome(
            name=name,
            arguments=raw,
            ok=True,
            result=result.model_dump(mode="json"),
            diagram=picture,
        )
    except Exception as exc:  # the engine must get an answer, not a traceback
        return ToolOutcome(
            name=name,
            arguments=raw,
            ok=False,
            error=f"internal error in {name}: {type(exc).__name__}: {exc}",
        )
