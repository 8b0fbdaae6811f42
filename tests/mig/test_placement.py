from __future__ import annotations

import re
from typing import Any

import pytest

from tutor.mig.catalogue import Gpu, catalogue, find_gpu
from tutor.mig.placement import (
    PlacementsUnknown,
    capacity,
    check,
    distinct_layouts,
    enumerate_partitions,
)

KNOWN = [g.id for g in catalogue().gpus if g.placements_known]
UNKNOWN = [g.id for g in catalogue().gpus if not g.placements_known]


def test_known_and_unknown_split_follows_reference(reference: dict[str, Any]) -> None:
    for gid, g in reference["gpus"].items():
        known = all(p["placements"] is not None for p in g["profiles"])
        assert (gid in KNOWN) == known


def _profile_cases(reference: dict[str, Any]) -> list[tuple[str, str, int]]:
    return [
        (gid, p["name"], p["max_instances"])
        for gid, g in reference["gpus"].items()
        for p in g["profiles"]
        if p["placements"] is not None
    ]


def test_capacity_alone_equals_reference_instance_count(reference: dict[str, Any]) -> None:
    cases = _profile_cases(reference)
    assert ("A100-80GB", "1g.10gb", 7) in cases
    for gid, name, expected in cases:
        res = capacity(gid, name)
        assert res.count == expected, (gid, name, res)
        assert len(res.placements) == expected


def test_h100_94gb_3g_47gb(reference: dict[str, Any]) -> None:
    ref = next(p for p in reference["gpus"]["H100-94GB"]["profiles"] if p["name"] == "3g.47gb")
    res = check("H100 NVL", ["3g.47gb"] * ref["max_instances"])
    assert res.valid is True
    assert sorted(p.start for p in res.placements) == ref["placements"]
    too_many = check("H100 NVL", ["3g.47gb"] * (ref["max_instances"] + 1))
    assert too_many.valid is False


def _balanced(reference: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """Parse the mig-parted all-balanced fact into (gpu label, profiles)."""
    fact = reference["rules"]["all_balanced"]["fact"].split(":", 1)[1]
    out = []
    for entry in fact.strip().rstrip(".").split(";"):
        m = re.match(r"\s*(.+?)\s+((?:\d+g\.\d+gb(?: x\d)?\+?)+)$", entry.strip())
        assert m, entry
        profiles: list[str] = []
        for part in m.group(2).split("+"):
            name, _, n = part.partition(" x")
            profiles += [name] * (int(n) if n else 1)
        for label in m.group(1).split("/"):
            out.append((label, profiles))
    return out


def test_mig_parted_all_balanced_layouts_are_valid(reference: dict[str, Any]) -> None:
    checked = 0
    for label, profiles in _balanced(reference):
        try:
            g = find_gpu(label)
        except Exception:
            continue  # e.g. GH200-144G is not in the catalogue
        if not g.placements_known or not all(
            any(p.name == name for p in g.profiles) for name in profiles
        ):
            continue
        res = check(g, profiles)
        assert res.valid is True, (label, profiles, res.reason)
        checked += 1
    assert checked >= 5


def test_four_plus_three_is_allowed_on_new_drivers() -> None:
    assert check("A100-40GB", ["4g.20gb", "3g.20gb"]).valid is True


def test_invalid_reason_names_allowed_slots() -> None:
    res = check("A100-80GB", ["3g.40gb"], [("1g.10gb", 2), ("1g.10gb", 5)])
    assert res.valid is False
    assert res.reason is not None
    assert "3g.40gb can start only at slot 0 or 4" in res.reason
    assert "1g.10gb@2" in res.reason and "1g.10gb@5" in res.reason


def test_pin_at_disallowed_slot() -> None:
    res = check("A100-80GB", [], [("3g.40gb", 2)])
    assert res.valid is False
    assert res.reason == "3g.40gb can start only at slot 0 or 4, not slot 2"


def test_pins_overlap() -> None:
    res = check("H100-94GB", [], [("3g.47gb", 4), ("2g.24gb", 4)])
    assert res.valid is False
    assert "overlaps" in (res.reason or "")


def test_media_extension_limit() -> None:
    res = check("H100-80GB", ["1g.10gb+me", "1g.10gb+me"])
    assert res.valid is False
    res = check("RTX PRO 6000", ["1g.24gb+me", "2g.48gb+me.all"])
    assert res.valid is False
    assert "media-extension" in (res.reason or "")


def test_slot_seven_unusable_by_1g() -> None:
    # 1g.10gb may start at 0-6 only, so 7 of them fit but 3g@4 + 1g x4 do not.
    assert check("A100-80GB", ["1g.10gb"] * 7).valid is True
    res = check("A100-80GB", ["1g.10gb"] * 4, [("3g.40gb", 0)])
    assert res.valid is False
    assert "slot 7" in (res.reason or "")


def _smallest_mix(g: Gpu) -> tuple[str, str]:
    """Two different profiles that the instance counts and slice totals allow together."""
    names = [p.name for p in g.profiles if not p.media_extensions]
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if check(g, [a, b]).valid is not False:
                return a, b
    raise AssertionError(f"{g.id}: no two profiles may share the GPU")


@pytest.mark.parametrize("gpu", UNKNOWN)
def test_unverified_placements_answer_unknown_for_mixed_layouts(gpu: str) -> None:
    g = find_gpu(gpu)
    a, b = _smallest_mix(g)
    res = check(g, [a, b])
    assert res.valid is None
    assert res.reason is not None
    assert res.reason.startswith(f"unknown: placements for {g.id} are not verified")
    cap = capacity(g, a, existing=[b])
    assert cap.count is None
    assert cap.reason is not None and cap.reason.startswith("unknown:")
    with pytest.raises(PlacementsUnknown):
        enumerate_partitions(g)


HOMOGENEOUS = [
    (g.id, p.name, p.max_instances)
    for g in catalogue().gpus
    for p in g.profiles
    if p.max_instances is not None
]


@pytest.mark.parametrize(("gpu", "profile", "count"), HOMOGENEOUS)
def test_one_profile_layouts_follow_the_instance_count(gpu: str, profile: str, count: int) -> None:
    g = find_gpu(gpu)
    full = check(g, [profile] * count)
    assert full.valid is True, full.reason
    over = check(g, [profile] * (count + 1))
    assert over.valid is False
    if not g.placements_known:
        assert full.decided_by == "instance-count"
        plural = "s" if count > 1 else ""
        assert full.basis.endswith(
            f"allows {count} instance{plural} of {profile}; start slots not needed"
        )
        cap = capacity(g, profile)
        assert cap.count == count
        assert cap.decided_by == "instance-count"
        # A pinned instance needs its start slot, which is not verified here.
        assert check(g, [profile] * (count - 1), [(profile, 0)]).valid is None


def test_unverified_gpu_still_refutes_by_instance_limits() -> None:
    res = check("H200", ["4g.71gb", "4g.71gb"])
    assert res.valid is False
    assert "at most 1" in (res.reason or "")


def test_inferred_geometry_is_labelled() -> None:
    res = check("H200", ["3g.71gb", "3g.71gb"], allow_inferred=True)
    assert res.valid is True
    assert res.inferred is True
    assert "INFERRED" in res.basis
    mixed = ["3g.71gb", "2g.35gb", "1g.18gb", "1g.18gb"]
    assert check("H200", mixed).valid is None
    inferred = check("H200", mixed, allow_inferred=True)
    assert inferred.valid is True and inferred.inferred is True


def test_enumeration_examples() -> None:
    a30 = {tuple(sorted(d.items())) for d in distinct_layouts("A30")}
    assert (("4g.24gb", 1),) in a30
    assert (("2g.12gb", 2),) in a30
    assert (("1g.6gb", 4),) in a30
    # 1g.6gb x3 + 1g.6gb+me is maximal, 1g.6gb x3 alone is not.
    assert (("1g.6gb", 3),) not in a30
    assert enumerate_partitions("A30") is enumerate_partitions("a30-24gb")


def _geometry_ok(g: Gpu, placements: list[Any]) -> bool:
    used: set[int] = set()
    for q in placements:
        p = g.profile(q.profile)
        assert p.placements is not None and q.start in p.placements
        assert q.size == p.memory_slices
        cells = set(range(q.start, q.start + q.size))
        assert max(cells) < (g.memory_slices or 0)
        assert not cells & used
        used |= cells
    return True


@pytest.mark.parametrize("gpu", KNOWN)
def test_every_enumerated_partition_is_valid(gpu: str) -> None:
    g = find_gpu(gpu)
    for part in enumerate_partitions(g):
        assert _geometry_ok(g, list(part))
        res = check(g, [], [(q.profile, q.start) for q in part])
        assert res.valid is True
