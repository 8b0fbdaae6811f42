"""CI runs `bash .ci/run` (= make test) on a clean clone: it must fail when any test or
gate fails, and it must keep the tutor's data in a temporary folder."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from tutor.settings import PROJECT_ROOT

# A stand-in for .venv/bin/{python,tutor}: logs the command and where the tutor's data
# would go, and fails when told to, so the test sees what make runs and when it stops.
STUB = """#!/bin/sh
echo "$(basename "$0") $* | home=$TUTOR_HOME | data=$XDG_DATA_HOME" >> "$CI_LOG"
mkdir -p "$TUTOR_HOME" && touch "$TUTOR_HOME/written-by-$(basename "$0")"
case " $(basename "$0") $* " in *" $CI_FAIL "*) exit 1 ;; esac
exit 0
"""


def _fake_venv(tmp_path: Path) -> Path:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    for name in ("python", "tutor", "pip"):
        path = venv / "bin" / name
        path.write_text(STUB)
        path.chmod(0o755)
    stamp = venv / ".installed"
    stamp.touch()
    # Newer than pyproject.toml and the Makefile, so make sees setup as done.
    future = time.time() + 3600
    os.utime(stamp, (future, future))
    return venv


def _ci(tmp_path: Path, fail: str = "never-fails") -> tuple[int, list[str], Path]:
    venv = _fake_venv(tmp_path)
    user_home = tmp_path / "user"
    user_home.mkdir()
    log = tmp_path / "ci.log"
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(user_home),
        "VENV": str(venv),
        "CI_LOG": str(log),
        "CI_FAIL": fail,
    }
    done = subprocess.run(
        ["bash", str(PROJECT_ROOT / ".ci" / "run")], env=env, capture_output=True, text=True
    )
    lines = log.read_text().splitlines() if log.exists() else []
    return done.returncode, lines, user_home


def test_ci_runs_the_tests_and_every_gate_under_a_temporary_home(tmp_path: Path) -> None:
    code, lines, user_home = _ci(tmp_path)
    assert code == 0, lines
    commands = [line.split(" | ")[0] for line in lines]
    assert commands[0].startswith("python -m pytest")
    assert "tutor eval run --ci" in commands
    homes = {line.split(" | ")[1] for line in lines}
    assert len(homes) == 1
    home = Path(homes.pop().removeprefix("home="))
    # Not the user's data folder, and gone when CI ends.
    assert not home.is_relative_to(user_home)
    assert not home.exists()
    assert not any(user_home.iterdir())


@pytest.mark.parametrize("fail", ["pytest", "--ci"])
def test_ci_fails_when_a_test_or_a_gate_fails(tmp_path: Path, fail: str) -> None:
    code, lines, _ = _ci(tmp_path, fail=fail)
    assert code != 0
    if fail == "pytest":
        assert not any("eval run --ci" in line for line in lines)
