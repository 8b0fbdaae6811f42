#!/usr/bin/env python3
"""Start-up benchmark: how soon a new learner sees the lesson's first question.

For the app (`python -m tutor.tui --bench`, headless) and for `tutor chat --plain
--jsonl`, each run a few times in one go, it reports the median, from process start, of:
  - the first lesson question on screen,
  - the model ready (loaded in the background),
  - the first answer to a free question (asked as soon as the question is shown),
and the peak RSS of the process once the model and the embedding model have loaded.

Beside them it prints the floor: a bare Python process that reads the lesson plan and
prints its first question. Goals: first question under 1.5 s and within 8x the floor;
peak RSS under 1.2 GB.

    .venv/bin/python benchmarks/startup.py               # both faces, 3 runs each
    .venv/bin/python benchmarks/startup.py --cold        # the first run builds the index
    .venv/bin/python benchmarks/startup.py --faces plain --runs 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GOAL_FIRST_QUESTION_S = 1.5
GOAL_FLOOR_RATIO = 8.0
GOAL_PEAK_RSS_MB = 1200.0
TRACE_ENV = "TUTOR_STARTUP_TRACE"  # tutor.engine.factory.TRACE_ENV, without importing it
FLOOR_SCRIPT = """
import sys, yaml
with open(sys.argv[1], encoding="utf-8") as fh:
    plan = yaml.safe_load(fh)
print(plan["steps"][0]["question"])
"""


def _env(home: str, trace: Path) -> dict[str, str]:
    env = dict(os.environ, TUTOR_HOME=home)
    env[TRACE_ENV] = str(trace)
    env.update(LITELLM_OFFLINE_MODE="true", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    for key in ("TUTOR_FAKE_ENGINE", "TUTOR_TUI_BENCH", "TUTOR_TUI_BENCH_QUESTION"):
        env.pop(key, None)
    return env


def _tutor(python: str) -> str:
    """The `tutor` command installed beside that Python."""
    return str(Path(python).parent / "tutor")


def _vm_hwm_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _trace_marks(trace: Path, started_epoch: float) -> dict[str, float]:
    """Seconds from start of the loading steps the factory's progress reported."""
    marks: dict[str, float] = {}
    try:
        lines = trace.read_text(encoding="utf-8").splitlines()
    except OSError:
        return marks
    for line in lines:
        stamp, _, message = line.partition(" ")
        at = float(stamp) - started_epoch
        if message.startswith("model ") and message.endswith(" ready"):
            marks.setdefault("model_ready", at)
        elif message == "corpus search ready":
            marks.setdefault("search_ready", at)
        elif message.startswith("updating the corpus index"):
            marks.setdefault("build_started", at)
    return marks


def _wait_for(trace: Path, started_epoch: float, keys: tuple[str, ...], deadline: float) -> None:
    while time.monotonic() < deadline:
        marks = _trace_marks(trace, started_epoch)
        if all(k in marks for k in keys):
            return
        time.sleep(0.05)


def run_plain(python: str, home: str, question: str, timeout: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as scratch:
        trace = Path(scratch) / "trace"
        epoch, start = time.time(), time.monotonic()
        proc = subprocess.Popen(
            [_tutor(python), "chat", "--plain", "--jsonl"],
            cwd=ROOT,
            env=_env(home, trace),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert proc.stdin is not None and proc.stdout is not None
        marks: dict[str, float] = {}
        deadline = start + timeout
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            turns = 0
            for line in proc.stdout:
                if not line.startswith("{"):
                    continue
                kind = json.loads(line).get("type")
                if kind == "prediction_requested" and "first_question" not in marks:
                    marks["first_question"] = time.monotonic() - start
                elif kind == "turn_done":
                    turns += 1
                    if turns == 1:
                        proc.stdin.write(question + "\n")
                        proc.stdin.flush()
                    else:
                        marks["free_answer"] = time.monotonic() - start
                        break
            _wait_for(trace, epoch, ("model_ready", "search_ready"), deadline)
            rss = _vm_hwm_mb(proc.pid)
            if rss is not None:
                marks["peak_rss_mb"] = rss
            marks.update(_trace_marks(trace, epoch))
            proc.stdin.close()
            proc.wait(timeout=30)
        finally:
            timer.cancel()
            if proc.poll() is None:
                proc.kill()
        if "first_question" not in marks:
            raise SystemExit(f"tutor chat --plain exited with {proc.returncode} before asking")
        return marks


def run_tui(python: str, home: str, question: str, timeout: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as scratch:
        trace = Path(scratch) / "trace"
        env = _env(home, trace)
        env.update(TUTOR_TUI_BENCH="1", TUTOR_TUI_BENCH_QUESTION=question)
        epoch, start = time.time(), time.monotonic()
        proc = subprocess.Popen(
            [python, "-m", "tutor.tui", "--bench", "--fresh"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stderr is not None
        marks: dict[str, float] = {}
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            for line in proc.stderr:
                if not line.startswith("TUTOR_BENCH "):
                    continue
                parts = line.split()
                name = parts[1]
                at = time.monotonic() - start
                if name == "question":
                    marks["first_question"] = at
                elif name == "answered":
                    marks["free_answer"] = at
                elif name == "interactive":
                    marks["first_frame"] = at
                for item in parts[2:]:
                    key, _, value = item.partition("=")
                    if key == "peak_rss_kb" and value.isdigit() and name == "loaded":
                        marks["peak_rss_mb"] = int(value) / 1024
            proc.wait(timeout=30)
        finally:
            timer.cancel()
            if proc.poll() is None:
                proc.kill()
        marks.update(_trace_marks(trace, epoch))
        if "first_question" not in marks:
            raise SystemExit(f"the app exited with {proc.returncode} before asking")
        return marks


def stale_bytecode() -> int:
    """Modules of tutor/ without up-to-date cached bytecode: each start compiles them."""
    import importlib.util

    stale = 0
    for source in (ROOT / "tutor").rglob("*.py"):
        cached = Path(importlib.util.cache_from_source(str(source)))
        if not cached.exists() or cached.stat().st_mtime < source.stat().st_mtime:
            stale += 1
    return stale


def floor_s(python: str, runs: int) -> float:
    plan = sorted((ROOT / "corpus" / "lessons").glob("*.yaml"))[0]
    times = []
    for _ in range(runs):
        start = time.monotonic()
        subprocess.run(
            [python, "-c", FLOOR_SCRIPT, str(plan)], check=True, capture_output=True, cwd=ROOT
        )
        times.append(time.monotonic() - start)
    return statistics.median(times)


def _median(results: list[dict[str, float]], key: str) -> float | None:
    values = [r[key] for r in results if key in r]
    return statistics.median(values) if values else None


def _line(
    label: str, value: float | None, unit: str, goal: str = "", ok: bool | None = None
) -> str:
    shown = "     -" if value is None else (f"{value:6.0f}" if unit == "MB" else f"{value:6.2f}")
    verdict = "" if ok is None else ("ok" if ok else "OVER")
    return f"  {label:<38}{shown} {unit:<3} {goal:<28}{verdict}"


def report(face: str, results: list[dict[str, float]], floor: float) -> None:
    first = _median(results, "first_question")
    rss = max((r.get("peak_rss_mb", 0.0) for r in results), default=0.0) or None
    print(f"\n{face} (median of {len(results)})")
    print(
        _line(
            "first lesson question on screen",
            first,
            "s",
            f"goal < {GOAL_FIRST_QUESTION_S} s",
            None if first is None else first < GOAL_FIRST_QUESTION_S,
        )
    )
    if first is not None:
        ratio = first / floor
        print(
            f"  {'  ... times the floor':<38}{ratio:6.1f} x   "
            f"{f'goal < {GOAL_FLOOR_RATIO:.0f}x':<28}{'ok' if ratio < GOAL_FLOOR_RATIO else 'OVER'}"
        )
    if face == "tui":
        print(_line("first frame taking input", _median(results, "first_frame"), "s"))
    print(_line("model ready (background)", _median(results, "model_ready"), "s"))
    print(_line("corpus search ready (hybrid)", _median(results, "search_ready"), "s"))
    print(_line("first answer to a free question", _median(results, "free_answer"), "s"))
    print(
        _line(
            "peak RSS, both models loaded (max)",
            rss,
            "MB",
            f"goal < {GOAL_PEAK_RSS_MB:.0f} MB",
            None if rss is None else rss < GOAL_PEAK_RSS_MB,
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--faces", default="tui,plain", help="comma list: tui, plain")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--python", default=str(ROOT / ".venv" / "bin" / "python"))
    parser.add_argument("--question", default="What is a MIG slice?")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="start from an empty data folder: the first run also builds the index",
    )
    args = parser.parse_args()
    faces = [f.strip() for f in args.faces.split(",") if f.strip()]
    unknown = set(faces) - {"tui", "plain"}
    if unknown:
        parser.error(f"unknown face {sorted(unknown)[0]!r}; use tui and/or plain")

    load = os.getloadavg()
    print(f"{os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    stale = stale_bytecode()
    if stale:
        print(f"note: {stale} modules of tutor/ have no cached bytecode, so every start "
              "compiles them (run `make bytecode`); the figures below include that")  # fmt: skip
    floor = floor_s(args.python, max(3, args.runs))
    print(f"floor (bare Python reads the plan, prints the question): {floor:.2f} s")
    results: dict[str, list[dict[str, float]]] = {face: [] for face in faces}
    with tempfile.TemporaryDirectory() as scratch:
        home = scratch if args.cold else os.environ.get("TUTOR_HOME", scratch)
        if not args.cold and home == scratch:
            # A new learner's second start: the index exists, nothing else is warm.
            subprocess.run(
                [_tutor(args.python), "corpus", "build"],
                cwd=ROOT,
                env=_env(home, Path(scratch) / "build-trace"),
                check=True,
                capture_output=True,
            )
        runners: dict[str, Any] = {"tui": run_tui, "plain": run_plain}
        for n in range(args.runs):
            for face in faces:
                marks = runners[face](args.python, home, args.question, args.timeout)
                results[face].append(marks)
                shown = ", ".join(f"{k}={v:.2f}" for k, v in sorted(marks.items()))
                print(f"{face} run {n + 1}: {shown}", flush=True)
    for face in faces:
        report(face, results[face], floor)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
