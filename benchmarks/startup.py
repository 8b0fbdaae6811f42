#!/usr/bin/env python3
"""Start-up benchmark of the learner's app.

Runs `python -m tutor.tui --bench` (headless; prints timing markers and exits once the
engine is built) a few times and reports, from process start:
  - time to the first frame that accepts input ("interactive"),
  - time until the model and the embedding model are loaded ("ready"),
  - peak RSS of the app with both models loaded.

    .venv/bin/python benchmarks/startup.py            # the real engine
    .venv/bin/python benchmarks/startup.py --fake     # the scripted engine (app cost only)
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_INTERACTIVE_S = 1.0
GOAL_PEAK_RSS_MB = 1200.0


def run_once(python: str, fake: bool, home: str, timeout: float, question: str) -> dict[str, float]:
    env = dict(os.environ, TUTOR_HOME=home, TUTOR_TUI_BENCH="1")
    if question:
        env["TUTOR_TUI_BENCH_QUESTION"] = question
    if fake:
        env.update(TUTOR_FAKE_ENGINE="1", TUTOR_FAKE_LOAD_S="0", TUTOR_FAKE_DELAY="0")
    else:
        env.pop("TUTOR_FAKE_ENGINE", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.Popen(
        [python, "-m", "tutor.tui", "--bench"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    marks: dict[str, float] = {}
    assert proc.stderr is not None
    deadline = start + timeout
    for line in proc.stderr:
        if line.startswith("TUTOR_BENCH "):
            parts = line.split()
            marks[parts[1]] = time.perf_counter() - start
            for item in parts[2:]:
                key, _, value = item.partition("=")
                if key == "peak_rss_kb" and value.isdigit():
                    marks["child_peak_rss_mb"] = int(value) / 1024
                elif key == "cpu_s":
                    # CPU the app spent before its first frame: what the wall time
                    # would be on an idle machine, minus interpreter start-up.
                    marks[f"{parts[1]}_cpu_s"] = float(value)
        if time.perf_counter() > deadline:
            proc.kill()
            break
    proc.wait(timeout=30)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the largest child so far; only trust a new maximum.
    if after > before:
        marks["rusage_peak_rss_mb"] = after / 1024
    marks["exit_s"] = time.perf_counter() - start
    if proc.returncode != 0 and "ready" not in marks:
        raise SystemExit(f"the app exited with {proc.returncode} before it was ready")
    return marks


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--fake", action="store_true", help="scripted engine: the app alone")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--python", default=str(ROOT / ".venv" / "bin" / "python"))
    parser.add_argument(
        "--question",
        default="What is a MIG slice?",
        help="asked once the lesson opens, so retrieval loads the embedding model before "
        "the peak RSS is read ('' to stop at 'ready')",
    )
    args = parser.parse_args()

    results = []
    with tempfile.TemporaryDirectory() as scratch:
        # The same home every run: an index built by the first run is reused, as in real use.
        home = os.environ.get("TUTOR_HOME", scratch)
        for n in range(args.runs):
            marks = run_once(args.python, args.fake, home, args.timeout, args.question)
            results.append(marks)
            shown = ", ".join(f"{k}={v:.2f}" for k, v in marks.items())
            print(f"run {n + 1}: {shown}", flush=True)

    def median(key: str) -> float | None:
        values = [r[key] for r in results if key in r]
        return statistics.median(values) if values else None

    interactive = median("interactive")
    interactive_cpu = median("interactive_cpu_s")
    ready = median("ready")
    answered = median("answered")
    rss = max(
        (r.get("child_peak_rss_mb", 0.0) for r in results),
        default=0.0,
    ) or max((r.get("rusage_peak_rss_mb", 0.0) for r in results), default=0.0)
    engine = "scripted engine" if args.fake else "real engine"
    print(
        f"\nstart-up of the tutor app ({engine}, {os.cpu_count()} cores, median of {len(results)})"
    )
    if interactive is not None:
        verdict = "ok" if interactive < GOAL_INTERACTIVE_S else "OVER"
        print(
            f"  interactive (first frame taking input): {interactive:6.2f} s   "
            f"goal < {GOAL_INTERACTIVE_S:.1f} s  {verdict}"
        )
    if interactive_cpu is not None:
        print(f"  CPU used by the app before that frame:  {interactive_cpu:6.2f} s")
    if ready is not None:
        print(f"  engine built (model loaded):            {ready:6.2f} s")
    if answered is not None:
        print(f"  first answer (embedding model in use):  {answered:6.2f} s")
    if rss:
        verdict = "ok" if rss < GOAL_PEAK_RSS_MB else "OVER"
        print(
            f"  peak RSS with models loaded:            {rss:6.0f} MB  "
            f"goal < {GOAL_PEAK_RSS_MB:.0f} MB  {verdict}"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
