"""Time the reader: one learner message to one Reading, over every message of the suite.

Run: .venv/bin/python benchmarks/reading.py [--rounds 5]

Goal: under 2 ms median per message, so reading never shows in the turn time. The first
read (whatever the reader builds on first use) is timed apart and left out of the median.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

GOAL_MS = 2.0
SUITE_DIR = Path(__file__).resolve().parents[1] / "evals" / "reading"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="passes over the suite")
    args = parser.parse_args()

    from tutor.reading import read
    from tutor.reading.suite import load_suite, time_reads, timed_reads
    from tutor.reading.types import Context

    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    suite = load_suite(SUITE_DIR)
    start = time.perf_counter()
    read(suite.cases[0].case.text, Context())
    first = (time.perf_counter() - start) * 1000
    calls = timed_reads(suite, read)
    times: list[float] = []
    for _ in range(args.rounds):
        times.extend(time_reads(calls, read))
    times.sort()
    median = statistics.median(times)
    p95 = times[int(len(times) * 0.95) - 1]
    verdict = "ok" if median < GOAL_MS else "MISSED"
    print(f"read(), {len(calls)} messages from {len(suite.cases)} cases x {args.rounds} rounds")
    print(f"  first read  {first:8.2f} ms   (first use of the reader; not counted)")
    print(f"  median      {median:8.3f} ms   goal < {GOAL_MS:.0f} ms   {verdict}")
    print(f"  p95         {p95:8.3f} ms")
    print(f"  slowest     {times[-1]:8.3f} ms")


if __name__ == "__main__":
    main()
