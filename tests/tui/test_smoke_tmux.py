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
def test_app_answers_in_a_real_terminal() -> None:
    real = os.environ.get("TUTOR_SMOKE_REAL") == "1"
    command = [sys.executable, str(SCRIPT), "--python", sys.executable]
    if not real:
        command.append("--scripted")
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=900 if real else 300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "smoke ok" in done.stdout
