from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutor.mig.catalogue import GIB, MigError, find_gpu
from tutor.mig.fit import custom_shape, fit, parse_count, profile_gib


def test_llama_8b_on_h100_nvl(reference: dict[str, Any]) -> None:
    ref = reference["models"]["Llama-3.1-8B"]
    res = fit("H100 NVL", "Llama-3.1-8B", context=8192)
    weights = ref["params_computed_from_config"] * 2 / GIB
    kv = ref["kv_bytes_per_token_bf16"] * 8192 / GIB
    assert res.weights_gib == pytest.approx(weights, abs=1e-3)
    assert res.kv_gib == pytest.approx(kv, abs=1e-3)
    # 1g.12gb (-lgip 10.75) is too small, 1g.24gb (-lgip 21.62) fits
    assert res.profile == "1g.24gb"
    room = res.profile_gib - weights  # type: ignore[operator]
    assert res.max_sequences == math.floor(room / kv)
    assert any("GiB = 2^30" in line for line in res.lines)
    assert any("overhead = 0.00 GiB" in line for line in res.lines)


def test_lesson_27b_needs_the_whole_h100_94gb() -> None:
    res = fit("H100-94GB", custom_shape(27_000_000_000, 62, 16, 128), context=4096)
    assert res.profile == "7g.94gb"
    assert res.weights_gib == pytest.approx(27e9 * 2 / GIB, abs=1e-3)


def test_nothing_fits() -> None:
    res = fit("A30", "Llama-3.1-70B")
    assert res.profile is None
    assert res.fits is False
    assert res.max_sequences is None
    assert "no profile on A30-24GB fits" in res.lines[-1]


def test_tie_prefers_fewer_compute_slices() -> None:
    # 1g.24gb and 2g.24gb both have 21.62 GiB on H100 NVL
    res = fit("H100 NVL", custom_shape(9_000_000_000, 32, 8, 128), context=1024)
    assert res.profile == "1g.24gb"


def test_named_profile_and_shortfall() -> None:
    res = fit("H100 NVL", "Qwen3-32B", profile="3g.47gb")
    assert res.profile == "3g.47gb"
    assert res.fits is False
    assert res.max_sequences == 0


def test_unverified_lgip_is_said_plainly() -> None:
    res = fit("A100-80GB", "Qwen2.5-7B")
    assert res.memory_basis == "nominal (unverified)"
    assert any("not verified" in line for line in res.lines)


def test_dtypes_and_overhead() -> None:
    a = fit("H100-80GB", "Qwen3-8B", weights_dtype="int4", kv_dtype="fp8", overhead_gib=2)
    b = fit("H100-80GB", "Qwen3-8B")
    assert a.weights_gib == pytest.approx(b.weights_gib / 4, abs=1e-3)
    assert a.kv_gib == pytest.approx(b.kv_gib / 2, abs=1e-3)
    assert a.total_gib == pytest.approx(a.weights_gib + a.kv_gib + 2, abs=2e-3)
    assert any("quantisation scales not counted" in line for line in a.lines)


@pytest.mark.parametrize(
    ("text", "n"), [("27B", 27_000_000_000), ("8e9", 8_000_000_000), ("350M", 350_000_000)]
)
def test_parse_count(text: str, n: int) -> None:
    assert parse_count(text) == n


@pytest.mark.parametrize("text", ["-5", "0", "1e20", "lots"])
def test_parse_count_refuses(text: str) -> None:
    with pytest.raises(MigError):
        parse_count(text)


def test_absurd_inputs_refused_with_range() -> None:
    with pytest.raises(MigError, match="between 1 and"):
        fit("H100 NVL", "Qwen3-8B", context=0)
    with pytest.raises(MigError, match="unknown dtype"):
        fit("H100 NVL", "Qwen3-8B", weights_dtype="fp7")


@settings(max_examples=150, deadline=None)
@given(
    params=st.integers(10**8, 2 * 10**11),
    layers=st.integers(1, 128),
    kv=st.integers(1, 64),
    ctx=st.integers(1, 200_000),
    gpu=st.sampled_from(["A30", "H100-80GB", "H100 NVL", "RTX PRO 6000", "B200"]),
)
def test_fit_picks_the_smallest_fitting_profile(
    params: int, layers: int, kv: int, ctx: int, gpu: str
) -> None:
    res = fit(gpu, custom_shape(params, layers, kv, 128), context=ctx)
    total = res.total_gib
    sizes = sorted(profile_gib(p)[0] for p in find_gpu(gpu).profiles)
    # total_gib is rounded to 3 decimals, so a profile within 0.001 GiB of it is borderline.
    surely_fit = [s for s in sizes if s >= total + 0.001]
    if res.profile is None:
        assert not [s for s in sizes if s >= total + 0.001]
    else:
        assert res.profile_gib is not None
        assert res.profile_gib >= total - 0.001
        if surely_fit:
            assert res.profile_gib <= surely_fit[0] + 1e-9
        assert res.max_sequences is not None and res.max_sequences >= 1


def test_json_keeps_bytes_and_unrounded_gib() -> None:
    # A tiny model: its KV bytes per token round to 0 GiB at any sensible precision.
    shape = custom_shape(params=1_000_001, layers=2, kv_heads=1, head_dim=8)
    res = fit("A30", shape, weights_dtype="int4", kv_dtype="fp16", context=3, batch=5)
    assert res.kv_bytes_per_token == 2 * 2 * 1 * 8 * 2
    assert res.kv_bytes_per_sequence == res.kv_bytes_per_token * 3
    assert res.kv_bytes == res.kv_bytes_per_sequence * 5
    # int4 packs two parameters a byte; an odd count needs the last byte whole.
    assert res.weights_bytes == 500_001
    assert res.total_bytes == res.weights_bytes + res.kv_bytes
    assert res.kv_gib == res.kv_bytes / GIB
    assert res.weights_gib == 500_000.5 / GIB
    data = res.model_dump(mode="json")
    assert data["kv_gib"] > 0
    assert data["kv_bytes_per_token"] == 64
