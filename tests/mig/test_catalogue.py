from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tutor.mig.catalogue import (
    CATALOGUE_PATH,
    CatalogueError,
    UnknownName,
    catalogue,
    find_gpu,
    find_model,
    find_profile,
    load_catalogue_file,
)


def test_every_reference_gpu_is_catalogued(reference: dict[str, Any]) -> None:
    assert {g.id for g in catalogue().gpus} == set(reference["gpus"])


def test_profiles_match_reference_exactly(reference: dict[str, Any]) -> None:
    for gpu_id, ref in reference["gpus"].items():
        g = find_gpu(gpu_id)
        assert g.memory_gb == ref["memory_gb"]
        assert g.memory_slices == ref["memory_slices"]
        assert g.max_instances == ref["max_instances"]
        assert [p.name for p in g.profiles] == [p["name"] for p in ref["profiles"]]
        for p, r in zip(g.profiles, ref["profiles"], strict=True):
            where = f"{gpu_id} {p.name}"
            assert p.id == r["id"], where
            assert p.memory_gb == r["memory_gb"], where
            assert p.memory_gib == r["memory_gib_lgip"], where
            assert p.compute_slices == r["compute_slices"], where
            assert p.memory_slices == (r["memory_slices"] or r["placement_size"]), where
            assert p.max_instances == r["max_instances"], where
            expected = tuple(r["placements"]) if r["placements"] is not None else None
            assert p.placements == expected, where
            assert p.media_extensions == r["media_ext"], where
            assert set(p.sources) == set(r["source"]), where


def test_nulls_stay_unknown(reference: dict[str, Any]) -> None:
    unknown_ids = [
        (gid, p["name"])
        for gid, g in reference["gpus"].items()
        for p in g["profiles"]
        if p["id"] is None
    ]
    assert unknown_ids, "the reference has unverified IDs; the test would be vacuous"
    for gid, name in unknown_ids:
        assert find_profile(gid, name).id is None


def test_inferred_placements_only_where_reference_states_the_family(
    reference: dict[str, Any],
) -> None:
    for g in catalogue().gpus:
        note = reference["gpus"][g.id].get("geometry_family_inferred") or ""
        has = any(p.inferred_placements is not None for p in g.profiles)
        assert has == ("same as " in note), g.id
        if has:
            assert g.inferred_from is not None and f"same as {g.inferred_from}" in note
        for p in g.profiles:
            if p.placements is not None:
                assert p.inferred_placements is None
                assert p.inferred_memory_slices is None
            if p.inferred_memory_slices is not None:
                # A borrowed slot size comes with the same-named profile of the donor.
                twin = find_gpu(g.inferred_from or "").profile(p.name)
                assert p.inferred_memory_slices == twin.memory_slices
                assert p.inferred_placements == twin.placements


def test_source_keys_resolve_to_urls_or_text(reference: dict[str, Any]) -> None:
    cat = catalogue()
    for key in reference["_meta"]["sources"]:
        assert cat.sources[key].text == reference["_meta"]["sources"][key]


@pytest.mark.parametrize(
    ("typed", "gpu_id"),
    [
        ("A100-80GB", "A100-80GB"),
        ("A100-SXM4-80GB", "A100-80GB"),
        ("a100 80gb", "A100-80GB"),
        ("NVIDIA A100-PCIE-40GB", "A100-40GB"),
        ("H100 NVL", "H100-94GB"),
        ("h100-94gb", "H100-94GB"),
        ("H100 80GB HBM3", "H100-80GB"),
        ("a30", "A30-24GB"),
        ("RTX PRO 6000", "RTX-PRO-6000-Blackwell"),
        ("rtx-pro-5000", "RTX-PRO-5000-Blackwell"),
        ("h200 nvl", "H200-141GB"),
        ("GB200", "GB200"),
        ("gh200", "H100-96GB-GH200"),
    ],
)
def test_aliases(typed: str, gpu_id: str) -> None:
    assert find_gpu(typed).id == gpu_id


def test_ambiguous_and_unknown_gpu_messages() -> None:
    with pytest.raises(UnknownName, match=r"ambiguous.*A100-40GB or A100-80GB"):
        find_gpu("A100")
    with pytest.raises(UnknownName, match="closest: A100-80GB"):
        find_gpu("A100-81GB")


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("1g.10gb", "1g.10gb"),
        ("1g10gb", "1g.10gb"),
        ("7g", "7g.80gb"),
        ("1G.10GB+ME", "1g.10gb+me"),
        ("1g.10gb.me", "1g.10gb+me"),
        ("mig-3g.40gb", "3g.40gb"),
    ],
)
def test_loose_profile_names(typed: str, name: str) -> None:
    assert find_profile("A100-80GB", typed).name == name


def test_unknown_profile_names_closest() -> None:
    with pytest.raises(UnknownName, match=r"closest: 3g\.40gb"):
        find_profile("A100-80GB", "3g.41gb")
    with pytest.raises(UnknownName, match="ambiguous"):
        find_profile("A100-80GB", "1g")


def test_models_match_reference(reference: dict[str, Any]) -> None:
    for name, ref in reference["models"].items():
        _, shape = find_model(name)
        assert shape.params == ref["params_computed_from_config"]
        assert shape.layers == ref["layers"]
        assert shape.kv_heads == ref["kv"]
        assert shape.head_dim == ref["head_dim"]
        per_token = 2 * shape.layers * shape.kv_heads * shape.head_dim * 2
        assert per_token == ref["kv_bytes_per_token_bf16"]


def test_bad_catalogue_names_file_and_field(tmp_path: Path) -> None:
    data = json.loads(CATALOGUE_PATH.read_text())
    h100 = next(g for g in data["gpus"] if g["id"] == "H100-94GB")
    h100["profiles"][4]["compute_slices"] = "three"
    bad = tmp_path / "catalogue.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(CatalogueError) as err:
        load_catalogue_file(bad)
    msg = str(err.value)
    assert str(bad) in msg
    assert "gpus[H100-94GB].profiles[3g.47gb].compute_slices" in msg


def test_placements_outside_grid_rejected(tmp_path: Path) -> None:
    data = json.loads(CATALOGUE_PATH.read_text())
    a30 = next(g for g in data["gpus"] if g["id"] == "A30-24GB")
    a30["profiles"][0]["placements"] = [0, 1, 2, 3, 4]
    bad = tmp_path / "c.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(CatalogueError, match="leave the grid"):
        load_catalogue_file(bad)


def test_broken_json_names_file(tmp_path: Path) -> None:
    bad = tmp_path / "c.json"
    bad.write_text("{")
    with pytest.raises(CatalogueError, match=str(bad)):
        load_catalogue_file(bad)
