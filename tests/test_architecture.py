"""The import boundaries hold: only the app imports Textual, only the gateway imports
litellm, and the engine reaches neither (contracts in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tutor.settings import PROJECT_ROOT


def test_import_contracts_are_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    assert lint.is_file(), "import-linter is a dev dependency: pip install -e '.[dev]'"
    result = subprocess.run([str(lint)], cwd=PROJECT_ROOT, capture_output=True, text=True,
                            timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout
