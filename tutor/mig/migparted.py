"""Check a mig-parted config file (`version: v1`, `mig-configs:`) against the catalogue.

mig-parted (and the GPU Operator's MIG Manager, which runs it) applies one named config
to a node: a list of entries, each with `devices` ("all" or GPU indices), an optional
`device-filter` (PCI device IDs such as 0x233010DE), `mig-enabled` and `mig-devices`
(profile -> count). Each entry is checked on every catalogued GPU it can reach: the GPUs
its filter names, or, with no filter, every GPU that has all the profiles it asks for.

The file format rules below (required fields, "all" or a list of indices, a string or a
list of filters, no other fields) are those of mig-parted's api/spec/v1.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field

from tutor.mig.catalogue import (
    Gpu,
    MigError,
    UnknownName,
    catalogue,
    find_gpu_by_pci,
    find_profile,
    pci_device,
)
from tutor.mig.placement import Placement, check

Verdict = Literal["valid", "invalid", "unknown"]
ENTRY_FIELDS = {"devices", "device-filter", "mig-enabled", "mig-devices"}
MAX_CONFIGS = 1_000


class GpuVerdict(BaseModel):
    gpu: str
    pci_id: str | None = Field(default=None, description="the device-filter ID that named it")
    verdict: Verdict
    reason: str | None = None
    basis: str = ""
    placements: list[Placement] = Field(default_factory=list)


class EntryReport(BaseModel):
    index: int
    devices: str | list[int]
    device_filter: list[str]
    mig_enabled: bool
    mig_devices: dict[str, int]
    applies_to: str = Field(description="how the GPUs below were chosen")
    gpus: list[GpuVerdict]


class ConfigReport(BaseModel):
    name: str
    verdict: Verdict | Literal["not-applicable"]
    entries: list[EntryReport]


class ValidationReport(BaseModel):
    source: str
    key: str | None = Field(default=None, description="ConfigMap data key that held it")
    configs: list[ConfigReport]
    counts: dict[str, int]


class _Entry(BaseModel):
    devices: str | list[int]
    device_filter: list[str]
    mig_enabled: bool
    mig_devices: dict[str, int]


def _entry(config: str, i: int, raw: Any) -> _Entry:
    where = f"mig-configs.{config}[{i}]"
    if not isinstance(raw, dict):
        raise MigError(f"{where}: expected a mapping with devices and mig-enabled")
    unknown = set(raw) - ENTRY_FIELDS
    if unknown:
        raise MigError(
            f"{where}: unexpected field {sorted(unknown)[0]!r} "
            f"(valid: {', '.join(sorted(ENTRY_FIELDS))})"
        )
    for required in ("devices", "mig-enabled"):
        if required not in raw:
            raise MigError(f"{where}: missing required field {required!r}")
    devices = raw["devices"]
    if isinstance(devices, str):
        if devices != "all":
            raise MigError(f"{where}.devices: must be 'all' or a list of GPU indices")
    elif isinstance(devices, int) and not isinstance(devices, bool):
        devices = [devices]
    elif not (
        isinstance(devices, list)
        and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in devices)
    ):
        raise MigError(f"{where}.devices: must be 'all' or a list of GPU indices")
    enabled = raw["mig-enabled"]
    if not isinstance(enabled, bool):
        raise MigError(f"{where}.mig-enabled: must be true or false")
    filters = raw.get("device-filter")
    if filters is None:
        filters = []
    elif isinstance(filters, str):
        filters = [filters]
    if not (isinstance(filters, list) and all(isinstance(f, str) for f in filters)):
        raise MigError(f"{where}.device-filter: must be an ID like 0x233010DE or a list of them")
    for f in filters:
        if pci_device(f) is None:
            raise MigError(f"{where}.device-filter: {f!r} is not a PCI ID like 0x233010DE")
    counts = raw.get("mig-devices") or {}
    if not isinstance(counts, dict):
        raise MigError(f"{where}.mig-devices: expected a mapping of profile name to count")
    for name, n in counts.items():
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise MigError(f"{where}.mig-devices.{name}: count must be a whole number >= 0")
    if not enabled and any(counts.values()):
        raise MigError(f"{where}: mig-devices given but mig-enabled is false")
    return _Entry(
        devices=devices,
        device_filter=filters,
        mig_enabled=enabled,
        mig_devices={str(k): v for k, v in counts.items() if v},
    )


def _spec_from(doc: Any, key: str | None) -> tuple[dict[str, Any], str | None]:
    """The mig-parted spec in a bare config, a ConfigMap, or a list of manifests."""
    docs = doc if isinstance(doc, list) else [doc]
    for d in docs:
        if isinstance(d, dict) and "mig-configs" in d:
            if key is not None:
                raise MigError(
                    "--key applies to a ConfigMap; this file is a bare mig-parted config"
                )
            return d, None
    maps = [d for d in docs if isinstance(d, dict) and isinstance(d.get("data"), dict)]
    for cm in maps:
        data: dict[str, Any] = cm["data"]
        if key is not None:
            if key not in data:
                continue
            keys = [key]
        else:
            keys = [k for k, v in data.items() if isinstance(v, str) and "mig-configs" in v]
        if len(keys) > 1:
            raise MigError(
                f"the ConfigMap holds several mig-parted configs ({', '.join(keys)}); "
                "choose one with --key"
            )
        if keys:
            try:
                inner = yaml.safe_load(data[keys[0]])
            except yaml.YAMLError as exc:
                raise MigError(f"data.{keys[0]} is not valid YAML") from exc
            if not isinstance(inner, dict) or "mig-configs" not in inner:
                raise MigError(f"data.{keys[0]} is not a mig-parted config (no mig-configs)")
            return inner, keys[0]
    if key is not None:
        known = sorted({k for cm in maps for k in cm["data"]})
        raise MigError(f"no ConfigMap key {key!r} (keys: {', '.join(known) or 'none'})")
    raise MigError("no mig-parted config found: expected version: v1 and mig-configs:")


def parse_config(text: str, key: str | None = None) -> tuple[dict[str, list[_Entry]], str | None]:
    """The named configs of a mig-parted file, each entry checked against the v1 format."""
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        raise MigError(f"not valid YAML{line}") from exc
    spec, used_key = _spec_from(docs, key)
    unknown = set(spec) - {"version", "mig-configs"}
    if unknown:
        raise MigError(
            f"unexpected top-level field {sorted(unknown)[0]!r} (valid: version, mig-configs)"
        )
    if spec.get("version") != "v1":
        raise MigError(f"version must be v1, got {spec.get('version')!r}")
    configs = spec.get("mig-configs")
    if not isinstance(configs, dict) or not configs:
        raise MigError("mig-configs must hold at least one named config")
    if len(configs) > MAX_CONFIGS:
        raise MigError(f"mig-configs holds {len(configs)} configs; at most {MAX_CONFIGS} are read")
    out: dict[str, list[_Entry]] = {}
    for name, entries in configs.items():
        if not isinstance(entries, list) or not entries:
            raise MigError(f"mig-configs.{name}: expected a list of at least one entry")
        out[str(name)] = [_entry(str(name), i, e) for i, e in enumerate(entries)]
    return out, used_key


def _has_profiles(g: Gpu, names: Iterable[str]) -> bool:
    exact = {p.name for p in g.profiles}
    return all(n in exact for n in names)


def _judge(
    g: Gpu, entry: _Entry, pci_id: str | None, allow_inferred: bool, largest: int
) -> GpuVerdict:
    if not entry.mig_enabled:
        return GpuVerdict(gpu=g.id, pci_id=pci_id, verdict="valid", basis="MIG disabled")
    if not entry.mig_devices:
        return GpuVerdict(
            gpu=g.id, pci_id=pci_id, verdict="valid", basis="MIG enabled, no instances created"
        )
    names: list[str] = []
    for name, n in entry.mig_devices.items():
        try:
            profile = find_profile(g, name)
        except UnknownName as exc:
            return GpuVerdict(gpu=g.id, pci_id=pci_id, verdict="invalid", reason=str(exc))
        if profile.name != name:
            # mig-parted matches names exactly; a loose spelling would not be applied.
            return GpuVerdict(
                gpu=g.id,
                pci_id=pci_id,
                verdict="invalid",
                reason=f"mig-parted needs the exact profile name {profile.name!r}, not {name!r}",
            )
        if n > largest:
            return GpuVerdict(
                gpu=g.id,
                pci_id=pci_id,
                verdict="invalid",
                reason=f"{n} x {name} asked; no catalogued GPU holds more than {largest} instances",
            )
        names += [name] * n
    res = check(g, names, allow_inferred=allow_inferred)
    verdict: Verdict = {True: "valid", False: "invalid", None: "unknown"}[res.valid]  # type: ignore[assignment]
    return GpuVerdict(
        gpu=g.id,
        pci_id=pci_id,
        verdict=verdict,
        reason=res.reason,
        basis=res.basis,
        placements=res.placements,
    )


def validate(
    text: str,
    *,
    key: str | None = None,
    gpu: Gpu | None = None,
    allow_inferred: bool = False,
    source: str = "<config>",
) -> ValidationReport:
    """Every named layout of a mig-parted config, judged on each GPU it can reach."""
    configs, used_key = parse_config(text, key)
    largest = max((g.max_instances or 0) for g in catalogue().gpus) or 8
    reports: list[ConfigReport] = []
    for name, entries in configs.items():
        entry_reports: list[EntryReport] = []
        for i, entry in enumerate(entries):
            verdicts: list[GpuVerdict] = []
            if entry.device_filter:
                applies = "the GPUs its device-filter names"
                for f in entry.device_filter:
                    found = find_gpu_by_pci(f)
                    device = pci_device(f)
                    if found is None:
                        verdicts.append(
                            GpuVerdict(
                                gpu="?",
                                pci_id=device,
                                verdict="unknown",
                                reason=f"unknown: PCI device ID {device} is not in the catalogue",
                            )
                        )
                    elif gpu is None or found.id == gpu.id:
                        verdicts.append(_judge(found, entry, device, allow_inferred, largest))
            else:
                candidates = [gpu] if gpu is not None else list(catalogue().gpus)
                if entry.mig_enabled and entry.mig_devices:
                    applies = "every catalogued GPU that has all its profiles (no device-filter)"
                    reach = [g for g in candidates if _has_profiles(g, entry.mig_devices)]
                    if gpu is not None and not reach:
                        reach = [gpu]  # asked about this GPU: say why it does not apply
                else:
                    applies = "every GPU (no device-filter)"
                    reach = candidates
                verdicts = [_judge(g, entry, None, allow_inferred, largest) for g in reach]
            entry_reports.append(
                EntryReport(
                    index=i,
                    devices=entry.devices,
                    device_filter=[pci_device(f) or f for f in entry.device_filter],
                    mig_enabled=entry.mig_enabled,
                    mig_devices=entry.mig_devices,
                    applies_to=applies,
                    gpus=verdicts,
                )
            )
        every = [v.verdict for e in entry_reports for v in e.gpus]
        overall: Verdict | Literal["not-applicable"]
        if not every:
            overall = "not-applicable"
        elif "invalid" in every:
            overall = "invalid"
        elif "unknown" in every:
            overall = "unknown"
        else:
            overall = "valid"
        reports.append(ConfigReport(name=name, verdict=overall, entries=entry_reports))
    counts = {
        k: sum(r.verdict == k for r in reports)
        for k in ("valid", "invalid", "unknown", "not-applicable")
    }
    return ValidationReport(source=source, key=used_key, configs=reports, counts=counts)


def report_lines(report: ValidationReport) -> list[str]:
    """The report as plain lines: one per config, then one per GPU it was checked on."""
    lines: list[str] = []
    for cfg in report.configs:
        groups: dict[str, list[str]] = {}
        for e in cfg.entries:
            for v in e.gpus:
                names = groups.setdefault(v.verdict, [])
                if v.gpu not in names:
                    names.append(v.gpu)
        # One GPU's failure does not make the layout wrong on the others: say which is which.
        spread = "; ".join(
            f"{k} on {', '.join(groups[k])}" for k in ("invalid", "unknown", "valid") if k in groups
        )
        lines.append(f"{cfg.name}: {cfg.verdict}" + (f" ({spread})" if len(groups) > 1 else ""))
        if cfg.verdict == "not-applicable":
            filtered = any(e.device_filter for e in cfg.entries)
            lines.append(
                "  its device-filter names none of the GPUs checked"
                if filtered
                else "  no catalogued GPU has the profiles it asks for"
            )
        for entry in cfg.entries:
            layout = (
                ", ".join(f"{n} x {p}" for p, n in entry.mig_devices.items())
                if entry.mig_enabled
                else "MIG disabled"
            ) or "MIG enabled, no instances"
            for v in entry.gpus:
                label = f"{v.gpu} ({v.pci_id})" if v.pci_id else v.gpu
                why = v.reason or v.basis
                where = (
                    "; " + ", ".join(f"{p.profile}@{p.start}" for p in v.placements)
                    if v.placements
                    else ""
                )
                lines.append(f"  {label}: {v.verdict} [{layout}] {why}{where}".rstrip())
    c = report.counts
    lines.append(
        f"{len(report.configs)} configs: {c['valid']} valid, {c['invalid']} invalid, "
        f"{c['unknown']} unknown, {c['not-applicable']} not applicable to a catalogued GPU"
    )
    return lines
