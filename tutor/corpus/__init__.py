"""Corpus ingestion and hybrid retrieval with citations.

Importing this package is cheap: the embedding model, Chroma and BM25 load on first use.
"""

from __future__ import annotations

from tutor.corpus.errors import CorpusError
from tutor.corpus.index import (
    AddResult,
    BuildStats,
    add_documents,
    build_index,
    ensure_index,
)
from tutor.corpus.retrieval import Hit, Retriever
from tutor.corpus.store import StoreError, StoreUnavailable

__all__ = [
    "AddResult",
    "BuildStats",
    "CorpusError",
    "Hit",
    "Retriever",
    "StoreError",
    "StoreUnavailable",
    "add_documents",
    "build_index",
    "ensure_index",
]
