"""The reader as table tests: clauses, subjects, negation scope, contrast and comparison."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tutor.engine.plan import Subject
from tutor.grading.reading import read
from tutor.grading.text import Phrase, find_all, tokenize


def clauses(text: str, default: Subject | None = None) -> list[str]:
    r = read(text, default)
    return [r.evidence(c).rstrip(",").strip() for c in r.clauses]


def subjects(text: str, default: Subject | None = None) -> list[str]:
    return [c.subject for c in read(text, default).clauses]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("MIG isolates. Time-slicing takes turns.", ["MIG isolates", "Time-slicing takes turns"]),
        ("MIG: isolated; time-slicing: shared", ["MIG", "isolated", "time-slicing", "shared"]),
        ("MIG isolates, time-slicing takes turns", ["MIG isolates", "time-slicing takes turns"]),
        ("MIG isolates but is rigid", ["MIG isolates", "is rigid"]),
        ("MIG isolates whereas time-slicing shares", ["MIG isolates", "time-slicing shares"]),
        ("MIG and time-slicing both share one GPU", ["MIG and time-slicing both share one GPU"]),
        ("MIG isolates and time-slicing shares", ["MIG isolates", "time-slicing shares"]),
        ("own SMs, memory and L2", ["own SMs, memory and L2"]),
        ("MIG = hardware partition -> guaranteed", ["MIG", "hardware partition", "guaranteed"]),
        ("MIG (own SMs) is rigid", ["MIG", "own SMs", "is rigid"]),
        ("first line\nsecond line", ["first line", "second line"]),
        ("e.g. MIG isolates", ["e.g. MIG isolates"]),
    ],
)
def test_clause_splitting(text: str, expected: list[str]) -> None:
    assert clauses(text) == expected


@pytest.mark.parametrize(
    ("text", "default", "expected"),
    [
        ("MIG isolates. It is rigid.", None, ["mig", "mig"]),
        ("Time-slicing shares the GPU and it has no isolation", None,
         ["time-slicing", "time-slicing"]),
        ("MIG is isolated, while the other one takes turns", None, ["mig", "time-slicing"]),
        ("Time-slicing takes turns; the other one partitions", None, ["time-slicing", "mig"]),
        ("MIG and time-slicing differ. The former isolates, the latter shares.", None,
         ["mig", "mig", "time-slicing"]),
        ("its own SMs and memory", "mig", ["mig"]),
        ("its own SMs and memory", None, ["cluster"]),
        ("isolated in hardware", None, ["answer"]),
        ("Time-slicing, which has no isolation", None, ["time-slicing", "time-slicing"]),
        ("MIG isolates better than time-slicing, which takes turns", None,
         ["mig", "time-slicing"]),
        ("Unlike time-slicing, MIG isolates", None, ["mig"]),
        ("We would switch from time-slicing to MIG", None, ["mig"]),
        ("we need guaranteed latency", None, ["cluster"]),
        ("each replica shares the GPU", None, ["time-slicing"]),
        ("each instance has its own L2", None, ["mig"]),
        ("latency SLOs -> MIG", None, ["mig", "mig"]),
        ("If it's bursty, time-slice.", None, ["time-slicing", "time-slicing"]),
    ],
)  # fmt: skip
def test_subject_resolution(text: str, default: Subject | None, expected: list[str]) -> None:
    assert subjects(text, default) == expected


def signs(text: str, phrase: str, default: Subject | None = None) -> list[int]:
    """The sign of every occurrence of `phrase` in `text`, clause by clause."""
    r = read(text, default)
    toks = r.tokens.toks
    pattern = Phrase.parse(phrase)
    out = []
    for c in r.clauses:
        for start, end in find_all(pattern, toks, frozenset(), c.start, c.end):
            out.append(c.sign_of(toks, start, end))
    return out


@pytest.mark.parametrize(
    ("text", "phrase", "expected"),
    [
        ("time-slicing has isolation", "isolat*", [1]),
        ("time-slicing has no isolation", "isolat*", [-1]),
        ("time-slicing doesn't isolate", "isolat*", [-1]),
        ("time-slicing doesnt isolate", "isolat*", [-1]),
        ("time-slicing does not isolate", "isolat*", [-1]),
        ("time-slicing works without isolation", "isolat*", [-1]),
        ("nothing isolates the tenants", "isolat*", [-1]),
        ("neither isolation nor guarantees", "guarantee*", [-1]),
        ("it lacks isolation", "isolat*", [-1]),
        ("it takes turns instead of isolating", "isolat*", [-1]),
        ("you give up isolation", "isolat*", [-1]),
        ("it has weaker isolation", "isolat*", [-1]),
        ("isolation is lost", "isolat*", [-1]),
        ("a noisy neighbour can't touch them", "noisy*", [-1]),
        ("no isolation, but flexible", "flexib*", [1]),
        ("no isolation and takes turns", "turn*", [1]),
        ("no isolation, flexible", "flexib*", [1]),
        ("doesn't isolate memory or compute", "compute", [-1]),
        ("not only isolated but guaranteed", "isolat*", [1]),
        ("it can't keep a heavy job from hurting others", "hurt* other*", [1]),
        ("MIG prevents noisy neighbours", "noisy*", [-1]),
        ("MIG protects tenants from noisy neighbours", "noisy*", [-1]),
        ("it's not shared, it's isolated", "isolat*", [1]),
        ("own SMs not shared with others", "own sm", [1]),
        ("it is not sharing SMs with anyone", "sm", [1]),
        ("it doesn't share memory", "memory", [1]),
        ("it shares memory", "memory", [1]),
    ],
)
def test_negation_scope(text: str, phrase: str, expected: list[int]) -> None:
    assert signs(text, phrase) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("MIG isolates better than time-slicing", [("mig", 1), ("time-slicing", -1)]),
        ("time-slicing has less isolation than MIG", [("time-slicing", 1), ("mig", -1)]),
        ("time-slicing isolates just as well as MIG", [("time-slicing", 1), ("mig", 1)]),
        ("time-slicing isolates like MIG", [("time-slicing", 1), ("mig", 1)]),
        ("both MIG and time-slicing isolate", [("mig", 1), ("time-slicing", 1)]),
        ("MIG, unlike time-slicing, isolates", [("mig", 1), ("time-slicing", -1)]),
        ("MIG rather than time-slicing isolates", [("mig", 1), ("time-slicing", -1)]),
        ("MIG instead of time-slicing", [("mig", 1), ("time-slicing", -1)]),
        ("MIG over time-slicing for isolation", [("mig", 1), ("time-slicing", -1)]),
    ],
)
def test_comparison_and_contrast(text: str, expected: list[tuple[str, int]]) -> None:
    (clause,) = read(text).clauses
    assert clause.assertions == expected


def test_a_topic_then_yes_or_no_per_name() -> None:
    r = read("Isolation: MIG yes, time-slicing no.")
    assert r.clauses[0].assertions == [("answer", 1), ("mig", 1), ("time-slicing", -1)]


@pytest.mark.parametrize(
    ("text", "reported"),
    [
        ("People think instances share SMs", True),
        ("It's a myth that MIG takes turns", True),
        ("I used to think MIG takes turns", True),
        ("Some say time-slicing isolates", True),
        ("MIG takes turns", False),
        ("some instances are bigger", False),
    ],
)
def test_reported_beliefs_are_not_claims(text: str, reported: bool) -> None:
    assert [c.reported for c in read(text).clauses] == [reported]


def test_comparison_sign_reaches_the_other_side() -> None:
    # "less isolation than MIG": denied of time-slicing, and so affirmed of MIG.
    r = read("time-slicing has less isolation than MIG")
    (clause,) = r.clauses
    toks = r.tokens.toks
    start = toks.index("isolation")
    sign = clause.sign_of(toks, start, start + 1)
    assert [(s, sign * rel) for s, rel in clause.assertions] == [
        ("time-slicing", -1),
        ("mig", 1),
    ]


@pytest.mark.parametrize(
    ("text", "toks"),
    [
        ("Time-slicing doesn't", ["time", "slicing", "does", "not"]),
        ("can't won't isn't", ["can", "not", "will", "not", "is", "not"]),
        ("SMs/HBM/L2", ["sm", ",", "hbm", ",", "l2"]),
        ("neighbors w/o isolation", ["neighbours", "without", "isolation"]),
        ("MIG -> isolated", ["mig", "=", "isolated"]),
        ("timeslicing vs MIG", ["time", "slicing", "versus", "mig"]),
    ],
)
def test_tokens_are_normalised(text: str, toks: list[str]) -> None:
    assert tokenize(text).toks == toks


def test_evidence_is_the_learners_own_words() -> None:
    r = read("MIG isolates. Time-slicing doesn't!")
    assert [r.evidence(c) for c in r.clauses] == ["MIG isolates", "Time-slicing doesn't"]


def _seconds(fn: Callable[[str], object], text: str) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        fn(text)
        best = min(best, time.perf_counter() - started)
    return best


def _reading_cost(text: str) -> float:
    """Reading time per unit of tokenizing time: flat when reading is linear."""
    return _seconds(lambda t: read(t, "mig"), text) / _seconds(tokenize, text)


@pytest.mark.parametrize(
    "unit",
    [
        "a" * 50 + " ",  # one long word
        "not " * 10,  # a run of negations
        "own own own ",  # almost-matching phrases
        "-/" * 10,  # a run of separators
        "MIG isolates and time-slicing, which shares, has no isolation. ",
        "it the other one they the former ",  # references with nothing to resolve
    ],
)
def test_reading_is_linear_in_the_answer(unit: str) -> None:
    # More text costs proportionally more to read, as it does to tokenize (one
    # regex pass): the ratio between the two stays flat. A reader that rescanned or
    # backtracked would make it grow with the length. Measured against tokenizing, so a
    # machine busy with other work, or caches, slow both alike.
    size = 10_000
    small = unit * (size // len(unit) + 1)
    while _seconds(tokenize, small) < 0.01 and len(small) < 400_000:
        small *= 2
    # Eight times the text: a quadratic reader's ratio would grow about x8, a linear one's
    # stays near x1; x3 leaves room for a busy machine without hiding a rescan.
    growth = _reading_cost(small * 8) / _reading_cost(small)
    assert growth < 3.0, f"reading cost grew x{growth:.1f} for x8 text"
