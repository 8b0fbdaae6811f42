"""Reference facts are read from the verified JSON at test time, never retyped."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

REFERENCE = Path(os.environ.get("MIG_REFERENCE", "/work/shared/reference/mig-profiles.json"))
FIXTURES = Path(__file__).with_name("fixtures")


@pytest.fixture(scope="session")
def reference() -> dict[str, Any]:
    if not REFERENCE.exists():
        pytest.skip(f"reference file {REFERENCE} not present (set MIG_REFERENCE)")
    data: dict[str, Any] = json.loads(REFERENCE.read_text())
    return data


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES
