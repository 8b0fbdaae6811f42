#!/usr/bin/env python3
"""Smoke test: run the real app in a tmux pane, ask a question, check the tutor answers.

    python tests/tui/smoke_tmux.py            # the real engine
    TUTOR_FAKE_ENGINE=1 python tests/tui/smoke_tmux.py   # the scripted engine

The question is sent at once, while the model may still be loading, so this also
checks that early text is queued and answered. Exit status 0 on success.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
QUESTION = "What is a MIG slice?"


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


def answered(screen: str) -> bool:
    """The tutor has answered the learner: a tutor message below the learner's, and idle."""
    lines = screen.splitlines()
    you = [i for i, line in enumerate(lines) if "You · " in line]
    tutor = [i for i, line in enumerate(lines) if "Tutor · " in line]
    status_ready = any(re.search(r"│\s+ready\s*$", line) for line in lines[-3:])
    if not status_ready or "queued" in screen or "not answered" in screen:
        return False
    return bool(tutor) and (not you or tutor[-1] > you[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--timeout", type=float, default=float(os.environ.get("SMOKE_TIMEOUT", 240))
    )
    parser.add_argument(
        "--expect", default=os.environ.get("SMOKE_EXPECT", ""), help="text the reply must contain"
    )
    parser.add_argument("--python", default=str(ROOT / ".venv" / "bin" / "python"))
    args = parser.parse_args()

    session = f"tutor-smoke-{os.getpid()}"
    with tempfile.TemporaryDirectory() as home:
        env = {"TUTOR_HOME": home}
        for name in ("TUTOR_FAKE_ENGINE", "TUTOR_FAKE_DELAY", "TUTOR_FAKE_LOAD_S"):
            if os.environ.get(name):
                env[name] = os.environ[name]
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        app = f"{shlex.quote(args.python)} -m tutor.tui --fresh"
        command = f"cd {shlex.quote(str(ROOT))} && env {exports} {app}"
        tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", command)
        try:
            started = time.monotonic()
            wait_for(
                session, lambda s: "Lesson 23" in s and "Ask, answer" in s, 20, "the first frame"
            )
            print(f"interactive after {time.monotonic() - started:.2f}s")
            tmux("send-keys", "-t", session, "-l", QUESTION)
            tmux("send-keys", "-t", session, "Enter")
            wait_for(session, lambda s: QUESTION in s, 10, "the question in the chat")
            screen = wait_for(session, answered, args.timeout, "the tutor's answer")
            print(f"answered after {time.monotonic() - started:.2f}s")
            if args.expect and args.expect not in screen:
                raise AssertionError(f"the reply lacks {args.expect!r}\n{screen}")
            tmux("send-keys", "-t", session, "C-q")
            wait_for(session, lambda s: "Lesson 23" not in s, 10, "the app to quit")
        except AssertionError as exc:
            print(f"SMOKE FAILED: {exc}", file=sys.stderr)
            return 1
        finally:
            tmux("kill-session", "-t", session)
    print("smoke ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
