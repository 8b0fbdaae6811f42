"""The MIG catalogue: GPUs, profiles, rules and model shapes, loaded once from catalogue.json.

Every value comes from the verified reference (see build_catalogue.py). A `None` means
"not verified" and is kept as such; callers must say "unknown" rather than guess.

Over 400 lines because the typed catalogue and its lookups (GPU, profile, model by any
alias) change together.
"""

from __future__ import annotations

import difflib
import functools
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tutor.datafile import load_model

CATALOGUE_PATH = Path(__file__).with_name("catalogue.json")
GIB = 2**30
GB = 10**9


class MigError(ValueError):
    """A user-facing error: the message is one plain line, safe to show or hand to a model."""


class UnknownName(MigError):
    """A GPU, profile or model name that the catalogue does not know."""


class CatalogueError(MigError):
    """The catalogue file is malformed; the message names the file and field."""


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    text: str
    url: str | None = None


class Profile(BaseModel):
    """One GPU-instance profile as `nvidia-smi mig -lgip` / `-lgipp` describe it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    id: int | None = Field(
        default=None, description="GPU-instance profile ID from -lgip; None = unknown"
    )
    memory_gb: float = Field(gt=0, description="nominal GB in the profile name")
    memory_gib: float | None = Field(default=None, gt=0, description="'Memory GiB' from -lgip")
    compute_slices: int = Field(ge=1, le=8)
    memory_slices: int | None = Field(
        default=None, ge=1, le=16, description="size on the -lgipp grid"
    )
    max_instances: int | None = Field(default=None, ge=1, le=8)
    placements: tuple[int, ...] | None = Field(
        default=None, description="allowed start slots (-lgipp)"
    )
    inferred_placements: tuple[int, ...] | None = None
    inferred_memory_slices: int | None = Field(
        default=None, ge=1, le=16, description="slot size copied with the inferred placements"
    )
    media_extensions: bool = False
    sms: int | None = None
    memory_fraction: str | None = None
    sm_fraction: str | None = None
    copy_engines: int | None = None
    hw_units: dict[str, int] | None = None
    notes: str | None = None
    sources: tuple[str, ...] = ()

    @property
    def is_variant(self) -> bool:
        """+me, +gfx, -me and +me.all are variants of the plain profile of the same size."""
        return "+" in self.name or "-" in self.name

    @property
    def short(self) -> str:
        return self.name.split(".", 1)[0] + ("+me" if self.media_extensions else "")


class PciId(BaseModel):
    """One PCI device ID as mig-parted's device-filter writes it: device then vendor."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    device: str = Field(pattern=r"^0x[0-9A-F]{4}10DE$", description="e.g. 0x233010DE")
    product: str
    sources: tuple[str, ...] = ()


class Gpu(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str
    aliases: tuple[str, ...] = ()
    architecture: str | None = None
    compute_capability: str | None = None
    memory_gb: float | None = Field(default=None, gt=0)
    memory_slices: int | None = Field(
        default=None, ge=1, le=16, description="width of the -lgipp grid"
    )
    inferred_memory_slices: int | None = Field(
        default=None, ge=1, le=16, description="grid width copied with an inferred geometry"
    )
    compute_slices: int | None = Field(default=None, ge=1, le=8)
    max_instances: int | None = Field(default=None, ge=1, le=8)
    placements_basis: Literal["verified", "by-doc-statement", "unverified", "imported"]
    inferred_from: str | None = None
    inferred_note: str | None = None
    grid_note: str | None = None
    notes: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    pci_ids: tuple[PciId, ...] = ()
    profiles: tuple[Profile, ...]

    @model_validator(mode="after")
    def _consistent(self) -> Gpu:
        names = [p.name for p in self.profiles]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate profile names in {self.id}")
        for p in self.profiles:
            for field, slots in (("placements", p.placements), ("inferred", p.inferred_placements)):
                if slots is None:
                    continue
                width = self.memory_slices
                size = p.memory_slices
                if field == "inferred":
                    width = width or self.inferred_memory_slices
                    size = size or p.inferred_memory_slices
                if width is None or size is None:
                    raise ValueError(f"{self.id} {p.name}: {field} given without a slot grid")
                if any(s < 0 or s + size > width for s in slots):
                    raise ValueError(f"{self.id} {p.name}: {field} {slots} leave the grid")
        return self

    def profile(self, name: str) -> Profile:
        return find_profile(self, name)

    @property
    def placements_known(self) -> bool:
        return self.memory_slices is not None and all(
            p.placements is not None and p.memory_slices is not None for p in self.profiles
        )

    @property
    def inferred_available(self) -> bool:
        return (self.memory_slices or self.inferred_memory_slices) is not None and all(
            (p.placements or p.inferred_placements) is not None
            and (p.memory_slices or p.inferred_memory_slices) is not None
            for p in self.profiles
        )

    def basis_text(self, inferred: bool = False) -> str:
        if inferred and not self.placements_known:
            return (
                f"INFERRED, not verified: start slots copied from {self.inferred_from} "
                f"({self.inferred_note})"
            )
        return {
            "verified": "verified (real nvidia-smi mig -lgipp output or NVIDIA docs)",
            "by-doc-statement": "NVIDIA docs state this GPU shares the A100 40GB geometry; "
            "no -lgipp dump of it was seen",
            "imported": "imported from your nvidia-smi output",
            "unverified": "not verified",
        }[self.placements_basis]


class WholeGpu(BaseModel):
    """A GPU without MIG: a cluster may hold it, but it is only ever shared whole."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    name: str
    aliases: tuple[str, ...] = ()
    pci_ids: tuple[PciId, ...] = ()
    notes: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    fact: str
    sources: tuple[str, ...]


class ModelShape(BaseModel):
    """The numbers the memory arithmetic needs from a model's config.json."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    params: int = Field(gt=0)
    layers: int = Field(gt=0)
    kv_heads: int = Field(gt=0)
    head_dim: int = Field(gt=0)
    hidden: int | None = None
    heads: int | None = None
    kv_bytes_per_token_bf16: int | None = None
    sources: tuple[str, ...] = ()


class Catalogue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    about: str
    conventions: dict[str, str]
    sources: dict[str, Source]
    rules: dict[str, Rule]
    models: dict[str, ModelShape]
    gpus: tuple[Gpu, ...]
    whole_gpus: tuple[WholeGpu, ...] = ()

    @model_validator(mode="after")
    def _sources_resolve(self) -> Catalogue:
        owner: dict[str, str] = {}
        for g in self.gpus:
            cited = (
                *g.sources,
                *(k for p in g.profiles for k in p.sources),
                *(k for d in g.pci_ids for k in d.sources),
            )
            for key in cited:
                if key not in self.sources:
                    raise ValueError(f"{g.id} cites unknown source key {key!r}")
            for d in g.pci_ids:
                if d.device in owner:
                    raise ValueError(
                        f"PCI ID {d.device} is listed for both {owner[d.device]} and {g.id}"
                    )
                owner[d.device] = g.id
        return self

    def source_refs(self, keys: tuple[str, ...] | list[str]) -> list[dict[str, str | None]]:
        return [{"key": k, "url": self.sources[k].url, "text": self.sources[k].text} for k in keys]


def load_catalogue_file(path: Path) -> Catalogue:
    """Parse and validate a catalogue file; errors name the file and the failing field."""
    return load_model(path, Catalogue, error=CatalogueError, what="catalogue")


@functools.cache
def catalogue() -> Catalogue:
    """The shipped catalogue, read and validated on first use only."""
    return load_catalogue_file(CATALOGUE_PATH)


def normalise(text: str) -> str:
    """'A100-SXM4-80GB', 'a100 80gb' and 'NVIDIA A100_80GB' compare equal after this."""
    t = text.lower().strip()
    t = re.sub(r"^nvidia[\s_-]*", "", t)
    return re.sub(r"[^a-z0-9]", "", t)


@functools.cache
def _gpu_index() -> dict[str, Gpu]:
    index: dict[str, Gpu] = {}
    for g in catalogue().gpus:
        for name in (g.id, *g.aliases):
            index[normalise(name)] = g
    return index


def gpus() -> tuple[Gpu, ...]:
    return catalogue().gpus


# 0x233010DE (mig-parted's device-filter), 233010DE, or 0x2330; a subsystem after ':'
# (0x233010DE:0x16C010DE) is ignored because the catalogue keys on the device alone.
_PCI_ID = re.compile(r"^\s*(?:0x([0-9a-f]{4})(?:10de)?|([0-9a-f]{4})10de)(?::0x[0-9a-f]{8})?\s*$")


@functools.cache
def _pci_index() -> dict[str, Gpu]:
    return {d.device: g for g in catalogue().gpus for d in g.pci_ids}


def find_whole_gpu(name: str) -> WholeGpu | None:
    """A catalogued GPU without MIG, by id, alias or PCI device ID; None if not one."""
    device = pci_device(name)
    key = normalise(name)
    for w in catalogue().whole_gpus:
        if device is not None and any(d.device == device for d in w.pci_ids):
            return w
        if key in {normalise(n) for n in (w.id, *w.aliases)}:
            return w
    return None


def _no_mig(name: str) -> UnknownName | None:
    w = find_whole_gpu(name)
    if w is None:
        return None
    return UnknownName(
        f"{w.id} has no MIG: {w.notes[0] if w.notes else 'not in the MIG supported-GPU list'}; "
        "it can only be used or time-sliced as a whole GPU"
    )


def pci_device(text: str) -> str | None:
    """'0x233010de', '233010DE' or '0x2330' -> '0x233010DE'; None if it is not an ID."""
    m = _PCI_ID.match(text.lower())
    if not m:
        return None
    return f"0x{(m.group(1) or m.group(2)).upper()}10DE"


def find_gpu_by_pci(device: str) -> Gpu | None:
    key = pci_device(device)
    return _pci_index().get(key) if key else None


def find_gpu(name: str | Gpu) -> Gpu:
    """Resolve a GPU by id, alias (case, spaces and dashes ignored) or PCI device ID.

    Raises UnknownName naming the closest matches, or the candidates when ambiguous.
    """
    if isinstance(name, Gpu):
        return name
    device = pci_device(name)
    if device is not None:
        hit = _pci_index().get(device)
        no_mig = _no_mig(name) if hit is None else None
        if no_mig is not None:
            raise no_mig
        if hit is None:
            raise UnknownName(
                f"no catalogued GPU has PCI device ID {device} "
                "(`tutor mig gpus --json` lists the known IDs)"
            )
        return hit
    key = normalise(name)
    index = _gpu_index()
    if key in index:
        return index[key]
    if key:
        # "a100" or "h100" alone: several GPUs share the prefix, so ask rather than pick one.
        starts = sorted({g.id for k, g in index.items() if k.startswith(key)})
        if len(starts) == 1:
            return next(g for g in catalogue().gpus if g.id == starts[0])
        if len(starts) > 1:
            raise UnknownName(f"GPU {name!r} is ambiguous: did you mean {_or(starts)}?")
    no_mig = _no_mig(name)
    if no_mig is not None:
        raise no_mig
    close = difflib.get_close_matches(key, list(index), n=8, cutoff=0.5)
    ids: list[str] = []
    for c in close:
        if index[c].id not in ids:
            ids.append(index[c].id)
    hint = f"; closest: {', '.join(ids[:3])}" if ids else ""
    known = ", ".join(g.id for g in catalogue().gpus)
    raise UnknownName(f"unknown GPU {name!r}{hint} (known: {known})")


def _profile_key(text: str) -> str:
    """'1g.10gb', '1g10gb', '1G.10GB' -> '1g.10gb'; '+me' and '-me' suffixes are kept."""
    t = text.strip().lower().replace(" ", "")
    t = re.sub(r"^mig[-_]?", "", t)
    m = re.match(r"^(\d+)g\.?(\d+)(gb)?(.*)$", t)
    if m:
        return f"{m.group(1)}g.{m.group(2)}gb{m.group(4).replace('_', '.')}"
    # The mixed-strategy resource spells '+' as '.', e.g. mig-1g.10gb.me
    return t


def find_profile(gpu: Gpu | str, name: str) -> Profile:
    """Resolve a profile name typed loosely: '1g.10gb', '1g10gb', '1g.10gb.me', '7g'."""
    g = find_gpu(gpu)
    key = _profile_key(name)
    by_name = {p.name.lower(): p for p in g.profiles}
    if key in by_name:
        return by_name[key]
    dotted = {p.name.lower().replace("+", "."): p for p in g.profiles}
    if key in dotted:
        return dotted[key]
    bare = re.fullmatch(r"(\d+)g", key)
    if bare:
        # '7g' alone: the plain profile with that many compute slices, if exactly one.
        plain = [
            p for p in g.profiles if p.compute_slices == int(bare.group(1)) and not p.is_variant
        ]
        if len(plain) == 1:
            return plain[0]
        if len(plain) > 1:
            choices = _or([p.name for p in plain])
            raise UnknownName(f"profile {name!r} is ambiguous on {g.id}: {choices}?")
    names = [p.name for p in g.profiles]
    close = difflib.get_close_matches(key, names, n=3, cutoff=0.4)
    hint = f"; closest: {', '.join(close)}" if close else ""
    raise UnknownName(f"unknown profile {name!r} for {g.id}{hint} (valid: {', '.join(names)})")


def find_model(name: str) -> tuple[str, ModelShape]:
    models = catalogue().models
    key = normalise(name)
    for model_name, shape in models.items():
        if normalise(model_name) == key:
            return model_name, shape
    close = difflib.get_close_matches(name, list(models), n=3, cutoff=0.4)
    hint = f"; closest: {', '.join(close)}" if close else ""
    raise UnknownName(f"unknown model {name!r}{hint} (known: {', '.join(models)})")


def rule(name: str) -> Rule:
    return catalogue().rules[name]


def _or(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]
