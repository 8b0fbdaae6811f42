"""Does a model fit a MIG profile? Weights + KV cache + stated overhead, all in GiB (2^30 B).

weights = params x bytes/param; KV = 2 (K and V) x layers x KV heads x head_dim x bytes x
tokens x batch, the same product vLLM's page_size_bytes uses per layer. Profile sizes are
the 'Memory GiB' column of `nvidia-smi mig -lgip`; where that column was never seen for a
GPU the nominal name size is used and every answer says so.
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from tutor.mig.catalogue import (
    GB,
    GIB,
    Gpu,
    MigError,
    ModelShape,
    Profile,
    find_gpu,
    find_model,
    find_profile,
)

Dtype = Literal["fp32", "bf16", "fp16", "fp8", "int8", "int4"]
DTYPE_BYTES: dict[str, float] = {
    "fp32": 4,
    "bf16": 2,
    "fp16": 2,
    "fp8": 1,
    "int8": 1,
    "int4": 0.5,
}
DTYPE_ALIASES = {"float32": "fp32", "bfloat16": "bf16", "float16": "fp16", "half": "fp16"}

MAX_PARAMS = 10**13
MAX_CONTEXT = 10_000_000
MAX_BATCH = 100_000


def dtype_name(text: str) -> Dtype:
    key = text.strip().lower()
    key = DTYPE_ALIASES.get(key, key)
    if key not in DTYPE_BYTES:
        raise MigError(f"unknown dtype {text!r}; valid: {', '.join(DTYPE_BYTES)}")
    return key  # type: ignore[return-value]


def parse_count(text: str | int | float) -> int:
    """'27B', '8e9', '70.6b', '350M', 8030261248 -> a whole number of parameters."""
    if isinstance(text, int | float):
        value = float(text)
    else:
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([kmbt]?)\s*", text.lower())
        if text.strip().startswith("-"):
            raise MigError(f"parameter count must be between 1 and {MAX_PARAMS:.0e}, got {text}")
        if not m:
            raise MigError(f"cannot read a parameter count from {text!r} (try 27B or 8e9)")
        scale = {"": 1, "k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}[m.group(2)]
        value = float(m.group(1)) * scale
    if not 1 <= value <= MAX_PARAMS:
        raise MigError(f"parameter count must be between 1 and {MAX_PARAMS:.0e}, got {text}")
    return round(value)


class FitRequest(BaseModel):
    """Everything a fit question needs; the Field bounds are the accepted ranges."""

    gpu: str = Field(description="GPU name, e.g. 'H100-94GB', 'A100 80GB', 'H100 NVL'")
    model: str | None = Field(
        default=None,
        description="catalogued model: Llama-3.1-8B, Llama-3.1-70B, Qwen2.5-7B, "
        "Qwen2.5-32B, Qwen3-8B, Qwen3-32B; or give params/layers/kv_heads/head_dim",
    )
    params: int | None = Field(default=None, ge=1, le=MAX_PARAMS, description="parameter count")
    layers: int | None = Field(default=None, ge=1, le=1000, description="transformer layers")
    kv_heads: int | None = Field(default=None, ge=1, le=1024, description="key/value heads (GQA)")
    head_dim: int | None = Field(default=None, ge=1, le=4096, description="dimension per head")
    weights_dtype: Dtype = Field(default="bf16", description="fp32, bf16, fp16, fp8, int8 or int4")
    kv_dtype: Dtype = Field(default="bf16", description="KV cache dtype")
    context: int = Field(default=4096, ge=1, le=MAX_CONTEXT, description="tokens per sequence")
    batch: int = Field(default=1, ge=1, le=MAX_BATCH, description="concurrent sequences to hold")
    profile: str | None = Field(
        default=None, description="evaluate this profile instead of choosing"
    )
    overhead_gib: float = Field(
        default=0.0,
        ge=0,
        le=10_000,
        description="extra GiB for activations/CUDA context (default 0)",
    )

    @model_validator(mode="after")
    def _model_or_shape(self) -> FitRequest:
        shape = (self.params, self.layers, self.kv_heads, self.head_dim)
        if self.model is None and any(v is None for v in shape):
            raise ValueError("give model, or all of params, layers, kv_heads and head_dim")
        return self


class Candidate(BaseModel):
    profile: str
    memory_gib: float
    compute_slices: int
    fits: bool


class FitResult(BaseModel):
    gpu: str
    model: str
    profile: str | None = Field(description="smallest profile that fits; None if none does")
    profile_gib: float | None = None
    memory_basis: str = Field(description="'-lgip' or 'nominal (unverified)'")
    weights_dtype: str
    kv_dtype: str
    context: int
    batch: int
    weights_gib: float
    kv_gib: float = Field(description="KV cache for batch x context tokens")
    kv_per_sequence_gib: float
    overhead_gib: float
    total_gib: float
    # Bytes beside GiB: a script asking for KV bytes per token of a small model would get
    # 0 from any rounded GiB figure.
    weights_bytes: int = Field(description="params x bytes per parameter (int4 rounded up)")
    kv_bytes_per_token: int = Field(description="2 x layers x KV heads x head_dim x bytes")
    kv_bytes_per_sequence: int = Field(description="kv_bytes_per_token x context")
    kv_bytes: int = Field(description="kv_bytes_per_sequence x batch")
    total_bytes: int = Field(description="weights + KV + overhead")
    fits: bool
    free_gib: float | None = Field(default=None, description="profile GiB minus total")
    max_sequences: int | None = Field(
        default=None, description="sequences of `context` tokens that fit beside the weights"
    )
    lines: list[str]
    candidates: list[Candidate]


def custom_shape(params: int, layers: int, kv_heads: int, head_dim: int) -> ModelShape:
    return ModelShape(params=params, layers=layers, kv_heads=kv_heads, head_dim=head_dim)


def profile_gib(p: Profile) -> tuple[float, bool]:
    """Usable GiB of a profile and whether it is the measured -lgip value."""
    if p.memory_gib is not None:
        return p.memory_gib, True
    return p.memory_gb * GB / GIB, False


def _gib(n: float) -> str:
    return f"{n / GIB:,.2f} GiB"


def fit(
    gpu: Gpu | str,
    model: str | ModelShape,
    *,
    weights_dtype: str = "bf16",
    kv_dtype: str = "bf16",
    context: int = 4096,
    batch: int = 1,
    profile: str | None = None,
    overhead_gib: float = 0.0,
) -> FitResult:
    """The smallest profile (by -lgip GiB, ties -> fewer compute slices) that holds the model.

    Returns the arithmetic as text lines and how many sequences of `context` tokens fit in
    what is left of that profile (or of `profile`, if named).
    """
    g = find_gpu(gpu)
    if isinstance(model, str):
        model_name, shape = find_model(model)
    else:
        model_name, shape = "custom model", model
    wd, kd = dtype_name(weights_dtype), dtype_name(kv_dtype)
    for label, value, top in (("context", context, MAX_CONTEXT), ("batch", batch, MAX_BATCH)):
        if not 1 <= value <= top:
            raise MigError(f"{label} must be between 1 and {top:,}, got {value}")
    if not 0 <= overhead_gib <= 10_000:
        raise MigError(f"overhead_gib must be between 0 and 10000, got {overhead_gib}")

    wb, kb = DTYPE_BYTES[wd], DTYPE_BYTES[kd]
    weights = shape.params * wb
    kv_token = 2 * shape.layers * shape.kv_heads * shape.head_dim * kb
    kv_seq = kv_token * context
    kv = kv_seq * batch
    overhead = overhead_gib * GIB
    total = weights + kv + overhead

    quant = " (quantisation scales not counted)" if wd in ("fp8", "int8", "int4") else ""
    lines = [
        "units: GiB = 2^30 bytes; profile sizes are nvidia-smi mig -lgip 'Memory GiB'",
        f"weights = {shape.params:,} params x {wb:g} B ({wd}) = {weights:,.0f} B = "
        f"{_gib(weights)}{quant}",
        f"KV per token = 2 (K and V) x {shape.layers} layers x {shape.kv_heads} KV heads x "
        f"{shape.head_dim} head_dim x {kb:g} B ({kd}) = {kv_token:,.0f} B",
        f"KV cache = {kv_token:,.0f} B x {context:,} tokens x {batch} "
        f"sequence{'s' if batch != 1 else ''} = {kv:,.0f} B = {_gib(kv)}",
        f"overhead = {overhead_gib:.2f} GiB"
        + (
            " (activations, CUDA context, framework buffers not counted)"
            if not overhead_gib
            else ""
        ),
        f"total = {weights / GIB:.2f} + {kv / GIB:.2f} + {overhead_gib:.2f} = {_gib(total)}",
    ]

    ordered = sorted(
        g.profiles,
        key=lambda p: (profile_gib(p)[0], p.compute_slices, p.is_variant, p.name),
    )
    candidates = [
        Candidate(
            profile=p.name,
            memory_gib=profile_gib(p)[0],
            compute_slices=p.compute_slices,
            fits=profile_gib(p)[0] * GIB >= total,
        )
        for p in ordered
        if not p.is_variant
    ]
    # The arithmetic is the same whether or not a profile fits; only the verdict differs.
    shared: dict[str, Any] = {
        "gpu": g.id,
        "model": model_name,
        "weights_dtype": wd,
        "kv_dtype": kd,
        "context": context,
        "batch": batch,
        "weights_gib": weights / GIB,
        "kv_gib": kv / GIB,
        "kv_per_sequence_gib": kv_seq / GIB,
        "overhead_gib": overhead_gib,
        "total_gib": total / GIB,
        "weights_bytes": math.ceil(weights),
        "kv_bytes_per_token": math.ceil(kv_token),
        "kv_bytes_per_sequence": math.ceil(kv_seq),
        "kv_bytes": math.ceil(kv),
        "total_bytes": math.ceil(total),
    }
    if profile is not None:
        chosen: Profile | None = find_profile(g, profile)
    else:
        chosen = next((p for p in ordered if profile_gib(p)[0] * GIB >= total), None)

    if chosen is None:
        biggest = ordered[-1]
        size, measured = profile_gib(biggest)
        lines.append(
            f"no profile on {g.id} fits: the largest, {biggest.name}, has {size:.2f} GiB"
            f"{'' if measured else ' (nominal, -lgip not verified)'}, "
            f"{total / GIB - size:.2f} GiB short"
        )
        return FitResult(
            **shared,
            profile=None,
            memory_basis="-lgip" if measured else "nominal (unverified)",
            fits=False,
            max_sequences=None,
            lines=lines,
            candidates=candidates,
        )

    size, measured = profile_gib(chosen)
    basis = "-lgip" if measured else "nominal (unverified)"
    if not measured:
        lines.append(
            f"{chosen.name} usable memory is not verified (no -lgip seen for {g.id}); using the "
            f"nominal {chosen.memory_gb:g} GB = {size:.2f} GiB; real usable memory can differ "
            "by several percent"
        )
    fits = size * GIB >= total
    slices = f"{chosen.compute_slices} compute slice{'s' if chosen.compute_slices > 1 else ''}"
    if profile is None:
        smaller = [p for p in ordered if profile_gib(p)[0] < size and not p.is_variant]
        note = (
            f"; {smaller[-1].name} ({profile_gib(smaller[-1])[0]:.2f} GiB) is too small"
            if (smaller)
            else ""
        )
        lines.append(
            f"smallest profile that fits on {g.id}: {chosen.name} ({size:.2f} GiB, {slices}){note}"
        )
    else:
        verdict = "fits" if fits else f"does not fit ({total / GIB - size:.2f} GiB short)"
        lines.append(f"{chosen.name} on {g.id} has {size:.2f} GiB ({slices}): {verdict}")
    room = size * GIB - weights - overhead
    max_seq = max(0, math.floor(room / kv_seq)) if kv_seq else 0
    lines.append(
        f"left for KV beside the weights: {size:.2f} - {weights / GIB:.2f} - {overhead_gib:.2f} = "
        f"{room / GIB:.2f} GiB -> {max_seq} sequence{'s' if max_seq != 1 else ''} of "
        f"{context:,} tokens ({kv_seq / GIB:.3f} GiB each)"
    )
    return FitResult(
        **shared,
        profile=chosen.name,
        profile_gib=size,
        memory_basis=basis,
        fits=fits,
        free_gib=(size * GIB - total) / GIB,
        max_sequences=max_seq,
        lines=lines,
        candidates=candidates,
    )


def fit_request(req: FitRequest) -> FitResult:
    if req.model is not None:
        model: str | ModelShape = req.model
    else:
        assert req.params and req.layers and req.kv_heads and req.head_dim
        model = custom_shape(req.params, req.layers, req.kv_heads, req.head_dim)
    return fit(
        req.gpu,
        model,
        weights_dtype=req.weights_dtype,
        kv_dtype=req.kv_dtype,
        context=req.context,
        batch=req.batch,
        profile=req.profile,
        overhead_gib=req.overhead_gib,
    )
