"""Deterministic MIG calculator: the single source of numeric truth for the tutor.

Every number about MIG the tutor states should come from here. Data lives in
`catalogue.json` (generated from the verified reference by `build_catalogue.py`) and is
loaded lazily, once. `None` in the data means "not verified"; answers that depend on it
say "unknown: ..." instead of guessing.

Public API (import from `tutor.mig`):

Catalogue
    find_gpu(name) -> Gpu                        aliases, case/space/dash-insensitive
    find_profile(gpu, name) -> Profile           loose names: "1g.10gb", "1g10gb", "7g"
    find_model(name) -> (str, ModelShape)
    gpus() -> tuple[Gpu, ...]; catalogue() -> Catalogue; rule(name) -> Rule
Placement (the `nvidia-smi mig -lgipp` model)
    check(gpu, profiles, pinned=[(profile, slot)], *, allow_inferred=False) -> CheckResult
    capacity(gpu, profile, pinned=(), existing=(), *, allow_inferred=False) -> CapacityResult
    enumerate_partitions(gpu, *, allow_inferred=False) -> tuple[tuple[Placement, ...], ...]
    distinct_layouts(gpu) -> list[dict[str, int]]
    pack(tenants: list[Tenant], gpu) -> PackResult
Model fit (GiB = 2^30)
    fit(gpu, model | ModelShape, *, weights_dtype, kv_dtype, context, batch, profile,
        overhead_gib) -> FitResult;  fit_request(FitRequest) -> FitResult
    custom_shape(params, layers, kv_heads, head_dim) -> ModelShape
Sharing and Kubernetes
    timeslice(gpus, replicas, *, rename_by_default, resource) -> TimeSliceResult
    resource_name(gpu, profile, strategy) -> ResourceResult; mig_config_label(config) -> str
    compare(gpu, tenants, *, gpus, replicas, profile, tenant_memory_gib) -> CompareResult
Cluster
    load_cluster(path | None) -> ClusterProfile; default_cluster(); parse_timeslicing(text);
    gpu_from_smi(lgip_text, lgipp_text) -> Gpu
Generation
    mig_parted_config(gpu, layout, *, name) -> str; timeslicing_configmap(replicas, ...) -> str
Pictures
    render(gpu, placements) -> str; segments(gpu, placements) -> list[Segment]
LLM tools (tutor.mig.tools)
    TOOLS, openai_tools(), dispatch(name, arguments) -> ToolOutcome

Errors: every user mistake raises MigError (UnknownName for names) with a one-line message.
"""

from tutor.mig.catalogue import (
    Gpu,
    MigError,
    ModelShape,
    Profile,
    UnknownName,
    catalogue,
    find_gpu,
    find_model,
    find_profile,
    gpus,
    rule,
)
from tutor.mig.cluster import (
    ClusterProfile,
    default_cluster,
    gpu_from_smi,
    load_cluster,
    parse_timeslicing,
)
from tutor.mig.diagram import Segment, render, segments
from tutor.mig.fit import FitRequest, FitResult, custom_shape, fit, fit_request
from tutor.mig.generate import mig_parted_config, timeslicing_configmap
from tutor.mig.pack import PackResult, Tenant, pack
from tutor.mig.placement import (
    CapacityResult,
    CheckResult,
    Placement,
    PlacementsUnknown,
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
    mig_config_label,
    resource_name,
    timeslice,
)

__all__ = [
    "CapacityResult",
    "CheckResult",
    "ClusterProfile",
    "CompareResult",
    "FitRequest",
    "FitResult",
    "Gpu",
    "MigError",
    "ModelShape",
    "PackResult",
    "Placement",
    "PlacementsUnknown",
    "Profile",
    "ResourceResult",
    "Segment",
    "Tenant",
    "TimeSliceResult",
    "UnknownName",
    "capacity",
    "catalogue",
    "check",
    "compare",
    "custom_shape",
    "default_cluster",
    "distinct_layouts",
    "enumerate_partitions",
    "find_gpu",
    "find_model",
    "find_profile",
    "fit",
    "fit_request",
    "gpu_from_smi",
    "gpus",
    "load_cluster",
    "mig_config_label",
    "mig_parted_config",
    "pack",
    "parse_timeslicing",
    "render",
    "resource_name",
    "rule",
    "segments",
    "timeslice",
    "timeslicing_configmap",
]
