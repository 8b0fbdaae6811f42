"""Reference facts are read from the verified JSON at test time, never retyped."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tutor.mig.build_catalogue import DEFAULT_REFERENCE

# The verified reference ships in the repository (tutor/mig/reference/), so these tests
# run on every clone; MIG_REFERENCE points them at another copy.
REFERENCE = Path(os.environ.get("MIG_REFERENCE", str(DEFAULT_REFERENCE)))
FIXTURES = Path(__file__).with_name("fixtures")


@pytest.fixture(scope="session")
def reference() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(REFERENCE.read_text())
    return data


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES
