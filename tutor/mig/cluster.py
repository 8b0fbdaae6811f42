"""The learner's cluster: a small YAML profile, plus importers for what clusters print.

The default is the lesson's cluster: 4 x H100 94GB, time-slicing x5 (20 logical GPUs),
MIG disabled, and a 27B model that wants a whole GPU. Importers read a device-plugin
time-slicing ConfigMap and `nvidia-smi mig -lgip` / `-lgipp` text.

Over 400 lines: the cluster file and its importers (-lgip, -lgipp, ConfigMaps) share one
model and are tested as a set.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tutor.mig.catalogue import (
    Gpu,
    MigError,
    Profile,
    catalogue,
    find_gpu,
    find_whole_gpu,
)
from tutor.mig.placement import check


class Workload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    model: str | None = Field(default=None, description="catalogued model name, if any")
    params: int | None = Field(default=None, ge=1, le=10**13)
    dtype: str = "bf16"
    memory_gib: float | None = Field(
        default=None, gt=0, le=10_000, description="measured or planned"
    )
    needs_whole_gpu: bool = False
    replicas: int = Field(default=1, ge=1, le=10_000)
    note: str | None = None


def _default_workloads() -> list[Workload]:
    return [
        Workload(
            name="qwen-27b",
            params=27_000_000_000,
            dtype="bf16",
            needs_whole_gpu=True,
            note="the lesson's 27B Qwen: 27e9 x 2 B = 50.3 GiB of bf16 weights, more than "
            "any H100 94GB profile below 7g.94gb (46.38 GiB), so it wants a whole GPU",
        )
    ]


class ClusterProfile(BaseModel):
    """A cluster as the tutor needs to reason about it; every field can be set in YAML."""

    model_config = ConfigDict(extra="forbid")

    name: str = "lesson 23 cluster"
    nodes: int = Field(default=1, ge=1, le=10_000)
    gpus_per_node: int = Field(default=4, ge=1, le=64)
    gpu: str = "H100-94GB"
    sharing: Literal["none", "time-slicing", "mig"] = "time-slicing"
    replicas: int = Field(default=5, ge=1, le=1000, description="time-slicing replicas per GPU")
    resource_replicas: dict[str, int] = Field(
        default_factory=dict,
        description="time-slicing replicas per MIG resource, e.g. nvidia.com/mig-1g.5gb: 2",
    )
    rename_by_default: bool = False
    mig_enabled: bool = False
    mig_strategy: Literal["none", "single", "mixed"] = "none"
    mig_layout: list[str] = Field(default_factory=list, description="profiles on each GPU")
    workloads: list[Workload] = Field(default_factory=_default_workloads)
    source: str = "default: the cluster described in lesson 23"

    @field_validator("gpu")
    @classmethod
    def _known_gpu(cls, value: str) -> str:
        whole = find_whole_gpu(value)
        if whole is not None:
            return whole.id
        return find_gpu(value).id

    @field_validator("resource_replicas")
    @classmethod
    def _replica_range(cls, value: dict[str, int]) -> dict[str, int]:
        for name, n in value.items():
            if not name.startswith("nvidia.com/mig-"):
                raise ValueError(f"{name}: only MIG resources (nvidia.com/mig-...) go here")
            if not 1 <= n <= 1000:
                raise ValueError(f"{name}: replicas must be between 1 and 1,000, got {n}")
        return value

    @property
    def whole_gpus_only(self) -> bool:
        """True for a GPU without MIG (T4, L4, L40S): shared only as whole GPUs."""
        return find_whole_gpu(self.gpu) is not None

    @model_validator(mode="after")
    def _consistent(self) -> ClusterProfile:
        if self.whole_gpus_only and (self.mig_enabled or self.mig_layout or self.sharing == "mig"):
            raise ValueError(f"{self.gpu} has no MIG: use sharing none or time-slicing")
        if self.sharing == "mig" and not self.mig_enabled:
            raise ValueError("sharing is 'mig' but mig_enabled is false")
        if self.mig_layout:
            if not self.mig_enabled:
                raise ValueError("mig_layout given but mig_enabled is false")
            res = check(self.gpu, self.mig_layout)
            if res.valid is False:
                raise ValueError(f"mig_layout is not a valid {self.gpu} layout: {res.reason}")
        return self

    @property
    def total_gpus(self) -> int:
        return self.nodes * self.gpus_per_node

    @property
    def logical_gpus(self) -> int:
        if self.sharing == "time-slicing":
            return self.total_gpus * self.replicas
        if self.sharing == "mig" and self.mig_layout:
            # A MIG resource that is itself time-sliced counts once per replica.
            per_gpu = sum(self.resource_replicas.get(_mixed(p), 1) for p in self.mig_layout)
            return self.total_gpus * per_gpu
        return self.total_gpus

    def summary(self) -> list[str]:
        lines = [
            f"{self.name}: {self.nodes} node{'s' if self.nodes != 1 else ''} x "
            f"{self.gpus_per_node} {self.gpu} = {self.total_gpus} GPUs"
            + (" (no MIG: whole GPUs only)" if self.whole_gpus_only else ""),
        ]
        if self.sharing == "time-slicing":
            res = f"nvidia.com/gpu{'.shared' if self.rename_by_default else ''}"
            lines.append(
                f"time-slicing x{self.replicas} -> {self.logical_gpus} logical GPUs ({res}); "
                "no memory or fault isolation between tenants"
            )
        elif self.sharing == "mig":
            lines.append(
                f"MIG {self.mig_strategy} strategy, layout per GPU: "
                f"{', '.join(self.mig_layout) or '(none set)'} -> {self.logical_gpus} MIG devices"
            )
        else:
            lines.append("no sharing: one pod per GPU")
        for resource, n in self.resource_replicas.items():
            lines.append(f"time-slicing x{n} on {resource}")
        lines.append(f"MIG {'enabled' if self.mig_enabled else 'disabled'}")
        for w in self.workloads:
            what = w.model or (f"{w.params / 1e9:g}B params" if w.params else "size unknown")
            extra = " (wants a whole GPU)" if w.needs_whole_gpu else ""
            lines.append(f"workload {w.name}: {what}, {w.dtype}{extra}")
        return lines


def _mixed(profile: str) -> str:
    return "nvidia.com/mig-" + profile.replace("+", ".")


def default_cluster() -> ClusterProfile:
    return ClusterProfile()


def _yaml_error(path: str, exc: ValidationError) -> MigError:
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"]) or "(top level)"
    return MigError(f"{path}: field {field}: {err['msg'].removeprefix('Value error, ')}")


def cluster_from_yaml(text: str, origin: str = "<cluster>") -> ClusterProfile:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MigError(f"{origin}: not valid YAML ({str(exc).splitlines()[0]})") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise MigError(f"{origin}: expected a mapping of cluster fields")
    data.setdefault("source", origin)
    try:
        return ClusterProfile.model_validate(data)
    except ValidationError as exc:
        raise _yaml_error(origin, exc) from exc


# A cluster profile is a few dozen lines; the cap keeps a wrong path (/dev/zero, a log)
# from being read without end.
MAX_CLUSTER_BYTES = 1_000_000


def load_cluster(path: Path | None = None) -> ClusterProfile:
    """The cluster in `path` (YAML), or the lesson's default when no file is set."""
    if path is None:
        return default_cluster()
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_CLUSTER_BYTES + 1)
    except OSError as exc:
        raise MigError(f"cannot read cluster file {path}: {exc.strerror}") from exc
    if len(data) > MAX_CLUSTER_BYTES:
        raise MigError(f"cluster file {path} is larger than {MAX_CLUSTER_BYTES:,} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MigError(f"cluster file {path} is not UTF-8 text") from exc
    return cluster_from_yaml(text, str(path))


def cluster_to_yaml(cluster: ClusterProfile) -> str:
    return yaml.safe_dump(cluster.model_dump(mode="json"), sort_keys=False)


def save_cluster(cluster: ClusterProfile, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(cluster_to_yaml(cluster), encoding="utf-8")


# ---- device-plugin time-slicing config ---------------------------------------------------


class SharedResource(BaseModel):
    name: str
    replicas: int = Field(ge=1)


class TimeSlicingConfig(BaseModel):
    config_key: str | None = None
    mig_strategy: str | None = None
    rename_by_default: bool = False
    fail_requests_greater_than_one: bool = False
    resources: list[SharedResource]


def parse_timeslicing(text: str, key: str | None = None) -> TimeSlicingConfig:
    """Read a ConfigMap (data.<key> holds the plugin config) or a bare plugin config."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MigError(f"not valid YAML ({str(exc).splitlines()[0]})") from exc
    if not isinstance(doc, dict):
        raise MigError("expected a ConfigMap or a device-plugin config mapping")
    used_key = None
    if doc.get("kind") == "ConfigMap" or "data" in doc:
        data = doc.get("data") or {}
        if not data:
            raise MigError("the ConfigMap has no data entries")
        if key is None and len(data) > 1:
            raise MigError(
                f"the ConfigMap has {len(data)} keys ({', '.join(map(str, data))}); "
                "choose one with --key"
            )
        used_key = key if key is not None else next(iter(data))
        if used_key not in data:
            raise MigError(f"no key {used_key!r} in the ConfigMap (keys: {', '.join(data)})")
        try:
            doc = yaml.safe_load(data[used_key])
        except yaml.YAMLError as exc:
            raise MigError(f"data.{used_key} is not valid YAML") from exc
        if not isinstance(doc, dict):
            raise MigError(f"data.{used_key} is not a device-plugin config mapping")
    ts = ((doc.get("sharing") or {}).get("timeSlicing")) or {}
    resources = ts.get("resources") or []
    if not resources:
        raise MigError("no sharing.timeSlicing.resources in the config")
    try:
        return TimeSlicingConfig(
            config_key=used_key,
            mig_strategy=(doc.get("flags") or {}).get("migStrategy"),
            rename_by_default=bool(ts.get("renameByDefault", False)),
            fail_requests_greater_than_one=bool(ts.get("failRequestsGreaterThanOne", False)),
            resources=[SharedResource.model_validate(r) for r in resources],
        )
    except ValidationError as exc:
        raise _yaml_error("time-slicing config", exc) from exc


def apply_timeslicing(cluster: ClusterProfile, cfg: TimeSlicingConfig) -> ClusterProfile:
    """The cluster with the ConfigMap's time-slicing: whole-GPU and per-MIG-resource replicas."""
    gpu_res = next((r for r in cfg.resources if r.name == "nvidia.com/gpu"), None)
    mig = {r.name: r.replicas for r in cfg.resources if r.name.startswith("nvidia.com/mig-")}
    other = [r.name for r in cfg.resources if r.name != "nvidia.com/gpu" and r.name not in mig]
    if other:
        raise MigError(
            f"time-slicing resource {other[0]!r} is neither nvidia.com/gpu nor a MIG resource "
            "(nvidia.com/mig-<profile>)"
        )
    data: dict[str, Any] = cluster.model_dump()
    where = f" (key {cfg.config_key})" if cfg.config_key else ""
    data.update(
        rename_by_default=cfg.rename_by_default,
        resource_replicas=mig,
        source=f"{cluster.source}; time-slicing imported from a ConfigMap{where}",
    )
    if gpu_res is not None:
        # On a MIG node the nvidia.com/gpu entry covers only GPUs without MIG enabled.
        data["replicas"] = gpu_res.replicas
        if cluster.sharing != "mig":
            data["sharing"] = "time-slicing"
    if cfg.mig_strategy in ("none", "single", "mixed"):
        data["mig_strategy"] = cfg.mig_strategy
    return ClusterProfile.model_validate(data)


# ---- nvidia-smi mig -lgip / -lgipp ---------------------------------------------------------


class LgipRow(BaseModel):
    gpu: int
    name: str
    id: int
    free: int
    total: int
    memory_gib: float
    p2p: str | None = None
    sms: int | None = None


_LGIP_ROW = re.compile(
    r"^\|\s*(\d+)\s+MIG\s+(\S+)\s+(\d+)\s+(\d+)/(\d+)\s+([\d.]+)\s+(\S+)\s+(\d+)",
)
_LGIPP_ROW = re.compile(
    r"GPU\s+(\d+)\s+Profile\s+ID\s+(\d+)\s+Placements?\s*:\s*\{([\d,\s]*)\}\s*:\s*(\d+)",
)


def parse_lgip(text: str) -> list[LgipRow]:
    """Rows of `nvidia-smi mig -lgip` (the second line of each row, CE/JPEG/OFA, is skipped)."""
    rows = []
    for line in text.splitlines():
        m = _LGIP_ROW.match(line.strip())
        if m:
            rows.append(
                LgipRow(
                    gpu=int(m.group(1)),
                    name=m.group(2),
                    id=int(m.group(3)),
                    free=int(m.group(4)),
                    total=int(m.group(5)),
                    memory_gib=float(m.group(6)),
                    p2p=m.group(7),
                    sms=int(m.group(8)),
                )
            )
    if not rows:
        raise MigError("no profile rows found; paste the output of nvidia-smi mig -lgip")
    return rows


def parse_lgipp(text: str) -> dict[tuple[int, int], tuple[tuple[int, ...], int]]:
    """{(gpu, profile id): (start slots, size)} from `nvidia-smi mig -lgipp`."""
    out: dict[tuple[int, int], tuple[tuple[int, ...], int]] = {}
    for m in _LGIPP_ROW.finditer(text):
        starts = tuple(int(s) for s in m.group(3).replace(" ", "").split(",") if s)
        out[int(m.group(1)), int(m.group(2))] = (starts, int(m.group(4)))
    if not out:
        raise MigError("no placement rows found; paste the output of nvidia-smi mig -lgipp")
    return out


def gpu_from_smi(lgip: str, lgipp: str | None = None, gpu_index: int = 0) -> Gpu:
    """A catalogue-shaped GPU from real nvidia-smi output, usable by check/capacity/fit."""
    rows = [r for r in parse_lgip(lgip) if r.gpu == gpu_index]
    if not rows:
        raise MigError(f"no -lgip rows for GPU {gpu_index}")
    places = parse_lgipp(lgipp) if lgipp else {}
    match = match_catalogue(rows)
    base = find_gpu(match) if match else None
    profiles = []
    for r in rows:
        compute = int(r.name.split("g", 1)[0]) if r.name[0].isdigit() else 1
        slots, size = places.get((gpu_index, r.id), (None, None))
        ref = next((p for p in base.profiles if p.name == r.name), None) if base else None
        profiles.append(
            Profile(
                name=r.name,
                id=r.id,
                memory_gb=_nominal_gb(r.name, r.memory_gib),
                memory_gib=r.memory_gib,
                compute_slices=compute,
                memory_slices=size if size is not None else (ref.memory_slices if ref else None),
                max_instances=r.total,
                placements=slots,
                media_extensions=("+me" in r.name),
                sms=r.sms,
                sources=(),
            )
        )
    width = max(
        (
            s + p.memory_slices
            for p in profiles
            if p.placements and p.memory_slices
            for s in p.placements
        ),
        default=None,
    )
    complete = lgipp is not None and all(p.placements is not None for p in profiles)
    return Gpu(
        id=f"imported-{match or 'gpu'}-{gpu_index}",
        name=f"GPU {gpu_index} from nvidia-smi" + (f" (looks like {match})" if match else ""),
        memory_gb=base.memory_gb if base else None,
        memory_slices=width if complete else None,
        compute_slices=max(p.compute_slices for p in profiles),
        max_instances=max(p.max_instances or 0 for p in profiles) or None,
        placements_basis="imported" if complete else "unverified",
        profiles=tuple(profiles),
    )


def _nominal_gb(name: str, gib: float) -> float:
    m = re.search(r"\.(\d+)gb", name)
    return float(m.group(1)) if m else round(gib * 2**30 / 10**9, 1)


def match_catalogue(rows: list[LgipRow]) -> str | None:
    """The catalogued GPU whose profile names and IDs agree with every imported row.

    Boards that share profile names (H100 NVL and H800 NVL, A100 and A800) are told apart
    by how many rows match a verified profile ID; a tie means no guess.
    """
    seen = {(r.name, r.id) for r in rows}
    scores: dict[str, int] = {}
    for g in catalogue().gpus:
        known = {(p.name, p.id) for p in g.profiles if p.id is not None}
        names = {p.name for p in g.profiles}
        if {n for n, _ in seen} <= names and all(
            (n, i) in known or not any(p.name == n and p.id is not None for p in g.profiles)
            for n, i in seen
        ):
            scores[g.id] = sum((n, i) in known for n, i in seen)
    if not scores:
        return None
    top = max(scores.values())
    best = [gid for gid, score in scores.items() if score == top]
    return best[0] if len(best) == 1 else None
