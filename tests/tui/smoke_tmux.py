#!/usr/bin/env python3
"""Smoke test: run the real app in a tmux pane, ask a question, check the tutor answers.

    python tests/tui/smoke_tmux.py              # the real app, engine and model
    python tests/tui/smoke_tmux.py --scripted   # the real engine, a scripted model

The question is sent at once, while the model may still be loading, so this also
checks that early text is queued and answered. The app is started with stale COLUMNS and
LINES in its environment, as some shells and CI runners export them: it must still fill
the pane. `--size 80x24` tries the smallest common terminal. Exit status 0 on success.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
QUESTION = "What is a MIG slice?"
SECOND = "And what does time-slicing do?"
STALE_SIZE = {"COLUMNS": "100", "LINES": "30"}
"""What a shell might have exported: neither size the smoke run uses."""


def tmux(*args: str) -> str:
    done = subprocess.run(["tmux", *args], capture_output=True, text=True, check=False)
    return done.stdout


def capture(session: str) -> str:
    return tmux("capture-pane", "-p", "-t", session)


def wait_for(session: str, check: object, timeout: float, what: str) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = capture(session)
        if callable(check) and check(screen):
            return screen
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{screen}")


def fills_the_pane(screen: str, height: int) -> bool:
    """The footer is on the pane's last row: the app measured the pane, not the environment."""
    rows = screen.split("\n")[:height]
    return len(rows) == height and "Help" in rows[-1]


def status(screen: str) -> str:
    """The app's activity, from the status line (just above the footer)."""
    # tmux may pad the capture with blank rows below the app, so look above those.
    lines = screen.rstrip("\n ").splitlines()
    for line in reversed(lines[-3:]):
        if "│" in line and ("local" in line or "remote" in line):
            return line.rsplit("│", 1)[1].strip()
    return ""


def settled(session: str, timeout: float, what: str) -> str:
    """Wait until the status reads "ready" twice in a row, a second apart."""
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = capture(session)
        if status(screen) == "ready":
            time.sleep(1.0)
            again = capture(session)
            if status(again) == "ready":
                return again
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{screen}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--timeout", type=float, default=float(os.environ.get("SMOKE_TIMEOUT", 240))
    )
    parser.add_argument(
        "--expect", default=os.environ.get("SMOKE_EXPECT", ""), help="text the reply must contain"
    )
    parser.add_argument("--python", default=str(ROOT / ".venv" / "bin" / "python"))
    parser.add_argument(
        "--scripted",
        action="store_true",
        help="the real engine with the tests' scripted model (tests/tui/scripted.py): seconds",
    )
    parser.add_argument(
        "--home",
        default=os.environ.get("SMOKE_HOME"),
        help="TUTOR_HOME to use (default: a fresh temporary one)",
    )
    parser.add_argument("--session", default=f"tutor-smoke-{os.getpid()}", help="tmux session")
    parser.add_argument("--size", default="120x40", help="the pane, WIDTHxHEIGHT")
    args = parser.parse_args()
    try:
        width, height = (int(part) for part in args.size.lower().split("x"))
    except ValueError:
        parser.error(f"--size {args.size!r}: write WIDTHxHEIGHT, for example 80x24")
    # A timeout's SIGTERM must still run the cleanup below, or the tmux session outlives us.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    session = args.session
    with tempfile.TemporaryDirectory() as scratch:
        env = {"TUTOR_HOME": args.home or scratch, **STALE_SIZE}
        for name in ("TUTOR_LESSON_PLAN", "TUTOR_SCRIPTED_DELAY", "TUTOR_SCRIPTED_LOAD_S"):
            if os.environ.get(name):
                env[name] = os.environ[name]
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        module = "tests.tui.scripted" if args.scripted else "tutor.tui"
        app = f"{shlex.quote(args.python)} -m {module} --fresh"
        command = f"cd {shlex.quote(str(ROOT))} && env {exports} {app}"
        tmux("new-session", "-d", "-s", session, "-x", str(width), "-y", str(height), command)
        try:
            started = time.monotonic()
            wait_for(session, lambda s: "Ask, answer" in s, 20, "the first frame")
            print(f"interactive after {time.monotonic() - started:.2f}s")
            fill = f"the app to fill {args.size}"
            wait_for(session, lambda s: fills_the_pane(s, height), 5, fill)
            # Typed at once, probably while the model loads: it must be queued, not lost.
            tmux("send-keys", "-t", session, "-l", QUESTION)
            tmux("send-keys", "-t", session, "Enter")
            wait_for(session, lambda s: QUESTION in s, 10, "the question in the chat")
            settled(session, args.timeout, "the engine to load and open the lesson")
            print(f"ready after {time.monotonic() - started:.2f}s")
            screen = settled(session, args.timeout, "the answer to the queued question")
            print(f"answered after {time.monotonic() - started:.2f}s")
            if "not answered" in screen or "queued" in screen or "Tutor error" in screen:
                raise AssertionError(f"the question was not answered\n{screen}")
            # A second question, sent to a ready engine, must change the conversation.
            before = screen
            tmux("send-keys", "-t", session, "-l", SECOND)
            tmux("send-keys", "-t", session, "Enter")
            wait_for(session, lambda s: s != before, 30, "the screen to change")
            screen = settled(session, args.timeout, "the second answer")
            # However short the screen, the learner sees what they asked and the reply's
            # start, not only the prediction card posted again below it.
            if SECOND not in screen or "Tutor" not in screen.split(SECOND, 1)[1]:
                raise AssertionError(f"the second question and its reply are not in view\n{screen}")
            if "not answered" in screen or "Tutor error" in screen:
                raise AssertionError(f"the second question failed\n{screen}")
            print(f"second answer after {time.monotonic() - started:.2f}s")
            if args.expect and args.expect not in screen:
                raise AssertionError(f"the reply lacks {args.expect!r}\n{screen}")
            tmux("send-keys", "-t", session, "C-q")
            wait_for(session, lambda s: "Ask, answer" not in s, 10, "the app to quit")
        except AssertionError as exc:
            print(f"SMOKE FAILED: {exc}", file=sys.stderr)
            return 1
        finally:
            tmux("kill-session", "-t", session)
    print("smoke ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
