"""Runs tests/tui/smoke_tmux.py when tmux is installed: the real app in a real terminal.

With the scripted engine by default (seconds); TUTOR_SMOKE_REAL=1 uses the real engine.
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
    env = dict(os.environ)
    real = os.environ.get("TUTOR_SMOKE_REAL") == "1"
    if not real:
        env.update(TUTOR_FAKE_ENGINE="1", SMOKE_EXPECT="MIG gives each tenant")
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--python", sys.executable],
        env=env,
        capture_output=True,
        text=True,
        timeout=900 if real else 120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "smoke ok" in done.stdout
