"""What a build leaves beside the Chroma index for fast starts.

- `snapshot.npz`: every passage (text and metadata) and its vector, in the index's order.
  Searching loads this one file instead of opening Chroma: the keyword index is ready
  as soon as it is read, and the dense search is a matrix product once the embedding
  model has loaded.
- `plan-passages.json`: the passages each lesson step cites, resolved at build time by
  the same hybrid search and keyed by the digests of the plan's queries and of the
  index, so a lesson reveal needs no query embedding at all.

Both carry the digest of the index they were made from; a mismatch means "stale" and
the reader falls back to the slower path, never to wrong passages.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutor.settings import Settings

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

SNAPSHOT_FORMAT = 1
PLAN_TABLE_FORMAT = 1
PLAN_TABLE_K = 5
"""Passages stored per plan query; a search for fewer is a prefix of the same ranking."""


@dataclass
class Snapshot:
    digest: str
    ids: list[str]
    texts: list[str]
    metas: list[dict[str, Any]]
    vectors: npt.NDArray[np.float32] | None


def snapshot_path(settings: Settings) -> Path:
    return settings.index_dir / "snapshot.npz"


def plan_table_path(settings: Settings) -> Path:
    return settings.index_dir / "plan-passages.json"


def as_matrix(vectors: Any, rows: int) -> npt.NDArray[np.float32]:
    """Vectors as a float32 (rows, dimensions) matrix; an empty index has 0 rows."""
    import numpy as np

    from tutor.corpus.embedding import DIMENSIONS

    if rows == 0:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    return np.asarray(vectors, dtype=np.float32).reshape(rows, -1)


def write_snapshot(
    settings: Settings,
    digest: str,
    ids: Sequence[str],
    texts: Sequence[str],
    metas: Sequence[dict[str, Any]],
    vectors: Any,
) -> None:
    import numpy as np

    header = {
        "format": SNAPSHOT_FORMAT,
        "digest": digest,
        "ids": list(ids),
        "texts": list(texts),
        "metas": list(metas),
    }
    meta = json.dumps(header, ensure_ascii=False).encode("utf-8")
    matrix = as_matrix(vectors, len(ids))
    path = snapshot_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as fh:
        # Bytes, not a str array: numpy stores str as UTF-32, four times the size.
        np.savez(fh, meta=np.frombuffer(meta, dtype=np.uint8), vectors=matrix)
    os.replace(tmp, path)


def snapshot_digest(settings: Settings) -> str | None:
    """The digest the snapshot was made from, reading only its small header member."""
    meta = _read_meta(settings)
    return str(meta["digest"]) if meta else None


def _read_meta(settings: Settings) -> dict[str, Any] | None:
    import numpy as np

    try:
        with np.load(snapshot_path(settings), allow_pickle=False) as data:
            meta = json.loads(bytes(data["meta"]).decode("utf-8"))
    except (OSError, ValueError, KeyError):
        return None
    if not isinstance(meta, dict) or meta.get("format") != SNAPSHOT_FORMAT:
        return None
    return meta


def read_snapshot(settings: Settings, *, vectors: bool = True) -> Snapshot | None:
    """The stored passages (and vectors), or None if the file is missing or damaged."""
    import numpy as np

    try:
        with np.load(snapshot_path(settings), allow_pickle=False) as data:
            meta = json.loads(bytes(data["meta"]).decode("utf-8"))
            matrix = np.asarray(data["vectors"], dtype=np.float32) if vectors else None
    except (OSError, ValueError, KeyError):
        return None
    if not isinstance(meta, dict) or meta.get("format") != SNAPSHOT_FORMAT:
        return None
    ids, texts, metas = meta.get("ids"), meta.get("texts"), meta.get("metas")
    if not (isinstance(ids, list) and isinstance(texts, list) and isinstance(metas, list)):
        return None
    if not len(ids) == len(texts) == len(metas):
        return None
    if matrix is not None and matrix.shape[0] != len(ids):
        return None
    return Snapshot(str(meta.get("digest")), ids, texts, metas, matrix)


# ---------------------------------------------------------------- plan passages


def plan_queries(settings: Settings) -> list[str] | None:
    """The passage queries of the lesson plan's steps, in order; None if it cannot load."""
    from tutor.engine.plan import PlanError, load_plan

    try:
        plan = load_plan(settings.lesson_plan_file)
    except (PlanError, OSError):
        return None
    return queries_of(plan)


def queries_of(plan: Any) -> list[str]:
    seen: dict[str, None] = {}
    for step in plan.steps:
        for ref in step.passages:
            seen.setdefault(ref.query, None)
    return list(seen)


def plan_digest(queries: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(queries).encode()).hexdigest()[:32]


def write_plan_table(
    settings: Settings, queries: Sequence[str], corpus_digest: str, table: dict[str, Any]
) -> None:
    path = plan_table_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    data = {
        "format": PLAN_TABLE_FORMAT,
        "plan_digest": plan_digest(queries),
        "corpus_digest": corpus_digest,
        "k": PLAN_TABLE_K,
        "passages": table,
    }
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def read_plan_table(
    settings: Settings, queries: Sequence[str], corpus_digest: str
) -> dict[str, list[dict[str, Any]]] | None:
    """query -> the stored hits, if the table matches this plan and this index."""
    try:
        data = json.loads(plan_table_path(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != PLAN_TABLE_FORMAT:
        return None
    if data.get("plan_digest") != plan_digest(queries):
        return None
    if data.get("corpus_digest") != corpus_digest:
        return None
    passages = data.get("passages")
    return passages if isinstance(passages, dict) else None


def plan_table_current(settings: Settings, corpus_digest: str) -> bool:
    queries = plan_queries(settings)
    if not queries:
        return True  # no plan or no cited passages: nothing to store
    return read_plan_table(settings, queries, corpus_digest) is not None
