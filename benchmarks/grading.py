"""Time the answer grader against its goals.

Run: .venv/bin/python benchmarks/grading.py

Goals: every answer in evals/answers graded at p95 under 10 ms; an answer just under the
length limit under 100 ms; a 1 MB answer (refused as too long) under 1 ms; the reader
linear: 1 MB of answer-like text read in under 8 times the time of 250 KB (4 when linear,
16 when quadratic), a ratio so a busy machine does not fail it.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from tutor.engine.plan import load_plan
from tutor.grading import Rubric, grade
from tutor.grading.grader import MAX_CHARS
from tutor.grading.reading import read
from tutor.grading.suite import load_suite

ROOT = Path(__file__).parent.parent
P95_GOAL_MS = 10.0
LONG_GOAL_MS = 100.0
HUGE_GOAL_MS = 1.0
READ_RATIO_GOAL = 8.0
ROUNDS = 5


def _ms(fn: object, *args: object) -> float:
    assert callable(fn)
    start = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - start) * 1000


def main() -> int:
    plan = load_plan(ROOT / "corpus" / "lessons" / "lesson-23.yaml")
    suites = load_suite(ROOT / "evals" / "answers", plan)
    items = [(a.text, rubric) for s, rubric, _ in suites for a in s.answers]
    times = sorted(min(_ms(grade, t, r) for _ in range(ROUNDS)) for t, r in items)
    p50 = statistics.median(times)
    p95 = times[int(len(times) * 0.95)]
    teach = Rubric.from_step(plan.step("teach-back"))
    sentence = "We'd switch to MIG if we needed guaranteed isolation: own SMs, no noisy neighbour. "
    long_answer = (sentence * (MAX_CHARS // len(sentence) + 1))[: MAX_CHARS - 1]
    long_ms = min(_ms(grade, long_answer, teach) for _ in range(ROUNDS))
    huge = "not own " * 125_000
    huge_ms = min(_ms(grade, huge, teach) for _ in range(ROUNDS))
    realistic = ("MIG isolates and time-slicing, which shares, has no isolation. " * 16_000)[
        :1_000_000
    ]
    read_s = _ms(read, realistic, "mig") / 1000
    quarter_s = _ms(read, realistic[:250_000], "mig") / 1000
    rows = [
        (f"suite: {len(items)} answers, p50", p50, None),
        ("suite: p95", p95, P95_GOAL_MS),
        (f"answer of {MAX_CHARS - 1} chars", long_ms, LONG_GOAL_MS),
        ("1 MB answer (refused)", huge_ms, HUGE_GOAL_MS),
        ("reader on 1 MB (s)", read_s, None),
        ("reader 1 MB / 250 KB time ratio", read_s / quarter_s, READ_RATIO_GOAL),
    ]
    failed = False
    for name, value, goal in rows:
        ok = goal is None or value < goal
        failed |= not ok
        goal_text = f"goal < {goal:g}" if goal is not None else ""
        unit = "" if "(s)" in name or "ratio" in name else " ms"
        print(f"{name:<32} {value:9.3f}{unit}  {goal_text:<14} {'' if ok else 'MISSED'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
