"""Bounded work on any input: 1 MB of adversarial text through every guard and the redactor."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tutor.engine.guards import (
    MAX_CHECKED_CHARS,
    AnswerKey,
    is_meta,
    leaks,
    note_leaks,
    settles_pending,
    step_key,
    supported,
    ungrounded_numbers,
    withhold_passage,
)
from tutor.engine.plan import load_plan
from tutor.redact import redact, strip_controls
from tutor.settings import load_settings

MB = 1_000_000
# Fragments that make backtracking patterns blow up: unclosed brackets and escapes,
# long runs of one class, the letters and words the gate looks for, key prefixes.
FRAGMENTS = [
    "option ", "**B", "(B", "B) ", "it's ", "the second ", "9", "1g.10gb ", "sk-", "sk-ant-",
    "Bearer ", "\x1b[", "\x1b]", "most fair ", "<learner>", "a" * 50 + " ", "-", ". ", "\n",
    "seven isolated ", "1" * 40, "api_key=", "\u202e",
]  # fmt: skip
# A linear check of 1 MB takes well under a second even on a busy 2-core machine; the
# quadratic patterns this guards against took minutes.
BOUND_S = 2.0


@pytest.fixture(scope="module")
def key() -> AnswerKey:
    return step_key(load_plan(load_settings().lesson_plan_file).steps[0])


def adversarial(parts: list[str]) -> str:
    unit = "".join(parts)
    return (unit * (MB // len(unit) + 1))[:MB]


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(parts=st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=4))
def test_every_guard_is_bounded_on_a_megabyte(key: AnswerKey, parts: list[str]) -> None:
    text = adversarial(parts)
    checks: list[Callable[[], object]] = [
        lambda: leaks(text, key),
        lambda: note_leaks(text, key),
        lambda: settles_pending(text, key),
        lambda: withhold_passage(text, key),
        lambda: is_meta(text),
        lambda: supported(text, [text[:5000]]),
        lambda: ungrounded_numbers(text, ["7"]),
        lambda: redact(text),
        lambda: strip_controls(text),
    ]
    for check in checks:
        assert timed(check) < BOUND_S


def test_overlong_text_fails_closed(key: AnswerKey) -> None:
    text = "Take a moment. " * (MAX_CHECKED_CHARS // 10)
    assert leaks(text, key) is not None and note_leaks(text, key) is not None


@pytest.mark.parametrize("fragment", FRAGMENTS)
def test_checked_length_scales_linearly(key: AnswerKey, fragment: str) -> None:
    # four times the text at most about four times the time: a quadratic check would take
    # sixteen; the absolute slack absorbs a busy machine's noise on millisecond timings
    def sized(n: int) -> str:
        return (fragment * (n // len(fragment) + 1))[:n]

    small, large = sized(MAX_CHECKED_CHARS // 4), sized(MAX_CHECKED_CHARS)
    t_small = min(timed(lambda: note_leaks(small, key)) for _ in range(3))
    t_large = min(timed(lambda: note_leaks(large, key)) for _ in range(3))
    assert t_large < 8 * t_small + 0.05
