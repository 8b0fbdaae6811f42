"""Hypothesis: the engine agrees with independent brute force on every verified GPU."""

from __future__ import annotations

import itertools
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tutor.mig.catalogue import Gpu, catalogue
from tutor.mig.placement import (
    Placement,
    brute_force_valid,
    capacity,
    check,
    enumerate_partitions,
)

KNOWN: list[Gpu] = [g for g in catalogue().gpus if g.placements_known]
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Gpu, list[str], list[tuple[str, int]]]:
    g = draw(st.sampled_from(KNOWN))
    names = [p.name for p in g.profiles]
    free = draw(st.lists(st.sampled_from(names), max_size=6))
    width = g.memory_slices or 1
    pins = draw(st.lists(st.tuples(st.sampled_from(names), st.integers(0, width - 1)), max_size=2))
    return g, free, pins


def _assert_sound(g: Gpu, placements: list[Placement]) -> None:
    used: set[int] = set()
    media = 0
    for q in placements:
        p = g.profile(q.profile)
        assert p.placements is not None
        assert q.start in p.placements, "start slot must be one -lgipp lists"
        assert q.size == p.memory_slices
        cells = set(range(q.start, q.start + q.size))
        assert q.start >= 0 and max(cells) < (g.memory_slices or 0), "in bounds"
        assert not cells & used, "no overlap"
        used |= cells
        media += p.media_extensions
    assert media <= 1
    counts = Counter(q.profile for q in placements)
    for name, n in counts.items():
        limit = g.profile(name).max_instances
        assert limit is None or n <= limit
    if g.max_instances is not None:
        assert len(placements) <= g.max_instances


@FAST
@given(scenarios())
def test_check_agrees_with_brute_force(case: tuple[Gpu, list[str], list[tuple[str, int]]]) -> None:
    g, free, pins = case
    res = check(g, free, pins)
    assert res.valid == brute_force_valid(g, free, pins)
    if res.valid:
        _assert_sound(g, res.placements)
        assert Counter(q.profile for q in res.placements) == Counter(free + [n for n, _ in pins])
        for name, slot in pins:
            assert any(q.profile == name and q.start == slot for q in res.placements)
    else:
        assert res.reason


@FAST
@given(scenarios(), st.data())
def test_capacity_is_the_brute_force_maximum(
    case: tuple[Gpu, list[str], list[tuple[str, int]]], data: st.DataObject
) -> None:
    g, free, pins = case
    free = free[:3]
    target = data.draw(st.sampled_from([p.name for p in g.profiles]))
    res = capacity(g, target, pins, free)
    if not brute_force_valid(g, free, pins):
        assert res.count is None
        return
    best = 0
    for k in range(1, 9):
        if brute_force_valid(g, free + [target] * k, pins):
            best = k
    assert res.count == best
    _assert_sound(g, res.placements)


def _brute_maximal(g: Gpu) -> set[frozenset[tuple[str, int]]]:
    """All maximal partitions by include/exclude over every (profile, start) candidate."""
    cands = [(p.name, s, p.memory_slices or 0) for p in g.profiles for s in p.placements or ()]

    def ok(chosen: list[tuple[str, int, int]]) -> bool:
        return bool(brute_force_valid(g, [], [(n, s) for n, s, _ in chosen]))

    found: list[list[tuple[str, int, int]]] = []

    def rec(i: int, chosen: list[tuple[str, int, int]], cells: set[int]) -> None:
        if i == len(cands):
            if chosen:
                found.append(list(chosen))
            return
        rec(i + 1, chosen, cells)
        _name, s, size = cands[i]
        span = set(range(s, s + size))
        if span & cells:
            return
        chosen.append(cands[i])
        if ok(chosen):
            rec(i + 1, chosen, cells | span)
        chosen.pop()

    rec(0, [], set())
    maximal = set()
    for part in found:
        if not any(ok([*part, c]) for c in cands if c not in part):
            maximal.add(frozenset((n, s) for n, s, _ in part))
    return maximal


def test_enumeration_is_complete_and_duplicate_free() -> None:
    for g in KNOWN:
        got = [frozenset((q.profile, q.start) for q in part) for part in enumerate_partitions(g)]
        assert len(got) == len(set(got)), f"duplicates on {g.id}"
        assert set(got) == _brute_maximal(g), g.id


def test_enumerated_partitions_are_sound_and_sorted() -> None:
    for g in KNOWN:
        for part in enumerate_partitions(g):
            _assert_sound(g, list(part))
            assert [q.start for q in part] == sorted(q.start for q in part)


def test_brute_force_itself_on_a_known_case() -> None:
    g = next(g for g in KNOWN if g.id == "A100-40GB")
    assert brute_force_valid(g, ["3g.20gb", "2g.10gb", "1g.5gb", "1g.5gb"]) is True
    assert brute_force_valid(g, ["3g.20gb"] * 2 + ["1g.5gb"]) is False
    # product over starts is exhaustive; sanity-check the size of that space
    starts = [g.profile("1g.5gb").placements or ()] * 2
    assert len(list(itertools.product(*starts))) == 49
