"""Reference facts are read from the verified JSON at test time, never retyped."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tutor.mig.build_catalogue import DEFAULT_REFERENCE, DEFAULT_SHIPPED

# The verified reference ships in the repository (tutor/mig/reference/), so these tests
# run on every clone; MIG_REFERENCE points them at another copy.
REFERENCE = Path(os.environ.get("MIG_REFERENCE", str(DEFAULT_REFERENCE)))
SHIPPED = DEFAULT_SHIPPED
FIXTURES = Path(__file__).with_name("fixtures")


@pytest.fixture(scope="session")
def shipped() -> dict[str, Any]:
    """The GPUs and PCI IDs read from NVIDIA's shipped mig-parted config and driver README."""
    data: dict[str, Any] = json.loads(SHIPPED.read_text())
    return data


@pytest.fixture(scope="session")
def reference(shipped: dict[str, Any]) -> dict[str, Any]:
    """Both reference files as one: the catalogue is built from their union."""
    data: dict[str, Any] = json.loads(REFERENCE.read_text())
    data["_meta"]["sources"] = {**data["_meta"]["sources"], **shipped["_meta"]["sources"]}
    data["gpus"] = {**data["gpus"], **shipped["gpus"]}
    return data


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES
