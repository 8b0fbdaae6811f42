"""Runs tests/tui/smoke_tmux.py when tmux is installed: the real app in a real terminal.

The real engine with the tests' scripted model by default (seconds); TUTOR_SMOKE_REAL=1
uses the embedded model too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("smoke_tmux.py")


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.parametrize("size", ["120x40", "80x24"])
def test_app_answers_in_a_real_terminal(size: str) -> None:
    real = os.environ.get("TUTOR_SMOKE_REAL") == "1"
    session = f"tutor-smoke-test-{os.getpid()}-{size}"
    command = [
        *(sys.executable, str(SCRIPT), "--python", sys.executable),
        *("--session", session, "--size", size),
    ]
    if not real:
        command.append("--scripted")
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=900 if real else 300,
            check=False,
        )
    finally:
        # A timed-out run is killed before it can close its session.
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "smoke ok" in done.stdout
