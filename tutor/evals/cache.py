"""Response cache: a rerun with nothing changed reads transcripts instead of calling a model.

The key covers everything that can change a reply: the model string and, for an embedded
model, its file's hash; the temperature; the prompt set's digest; the case's content; the
lesson plan; all of tutor/'s code and data; the corpus digest when passages are retrieved;
and the solver version. Scorers rerun on every run. Failures are never stored, and what is
stored passes through the redactor first.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from tutor.redact import redact

SOLVER_VERSION = "2"  # 2: per-turn events, segments and prompt files
M = TypeVar("M", bound=BaseModel)


def cache_key(**parts: Any) -> str:
    raw = json.dumps({"v": SOLVER_VERSION, **parts}, sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


class ResponseCache:
    """One JSON file per key under `folder`, written atomically."""

    def __init__(self, folder: Path, *, enabled: bool = True) -> None:
        self.folder = folder
        self.enabled = enabled
        self.hits = 0
        self.misses = 0

    def _path(self, kind: str, key: str) -> Path:
        return self.folder / kind / key[:2] / f"{key}.json"

    def get(self, kind: str, key: str, model: type[M]) -> M | None:
        if not self.enabled:
            return None
        path = self._path(kind, key)
        try:
            value = model.model_validate_json(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValidationError, ValueError):
            # A stale or half-written entry is a miss, not an error.
            self.misses += 1
            return None
        self.hits += 1
        return value

    def put(self, kind: str, key: str, value: BaseModel) -> None:
        if not self.enabled:
            return
        path = self._path(kind, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                # A provider that echoes a key must not get it stored.
                handle.write(redact(value.model_dump_json()))
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
