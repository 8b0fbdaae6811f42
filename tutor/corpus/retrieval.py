"""Hybrid retrieval: dense search over the index's vectors and BM25, fused as a weighted sum.

Over 400 lines: the retriever, its background loading and its score fusion share one
index snapshot.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from tutor.corpus.documents import Chunk
from tutor.settings import Settings
from tutor.stopwords import STOPWORDS

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from tutor.corpus.snapshot import Snapshot
    from tutor.engine.events import Citation

Progress = Callable[[str, float | None], None]
log = logging.getLogger(__name__)

# Each retriever's scores are min-max scaled to [0, 1] and summed with these weights.
# Score fusion beat reciprocal rank fusion on the labelled questions (recall@5 0.92 vs
# 0.88 at the best RRF k): ranks throw away how far ahead a clear winner is, so a
# passage one retriever is sure of lost to passages both ranked middling. A dense
# share anywhere in 0.55-0.65 measured about the same; 0.5 and below lost recall.
DENSE_WEIGHT = 0.6
SPARSE_WEIGHT = 0.4
# How deep the dense list goes. Scaling needs a floor, so the list should reach well
# past the k results; on the shipped corpus (~130 passages) it covers every passage.
DENSE_CANDIDATES = 200
MAX_PER_SECTION = 1
QUERY_CACHE = 256

_TOKEN = re.compile(r"[a-z0-9]+(?:[.\-][a-z0-9]+)*")
_STOPWORDS = STOPWORDS

# Spellings that mean the same thing in this domain, folded before tokenizing so the
# query and the passages agree: 'time slicing' / 'timeslicing' / 'time-slicing', and the
# long name of MIG. "what's" loses its "'s" rather than leaving a stray 's' token.
_SYNONYMS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\btime[\s-]?(slic\w*)"), r"time-\1"),
    (re.compile(r"\bmulti[\s-]?instance\b"), "multi-instance mig"),
    (re.compile(r"(?<=\w)['\u2019]s\b"), ""),
)


def _stem(word: str) -> str:
    # Suffix stripping then truncation to six letters: crude, but it joins
    # 'combine'/'combination', 'isolate'/'isolation', 'slice'/'slicing' without a
    # stemming library, and truncation stemmers do about as well as Porter for retrieval.
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix in ("ies", "es", "s", "ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            word = word[: len(word) - len(suffix)] + ("y" if suffix == "ies" else "")
            break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word[:6]


def tokenize(text: str) -> list[str]:
    """Lowercase words; dotted/hyphenated names ('1g.5gb', 'nvidia-smi') also split apart."""
    out: list[str] = []
    text = text.lower()
    for pattern, replacement in _SYNONYMS:
        text = pattern.sub(replacement, text)
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        parts = re.split(r"[.\-]", token)
        if len(parts) > 1:
            out.append(token)
        for part in parts:
            if part and part not in _STOPWORDS:
                out.append(_stem(part))
    return out


Mode = Literal["plan", "keyword", "hybrid"]
"""How a search was answered: the plan's stored passages, keywords only, or hybrid."""


@dataclass(frozen=True)
class Hit:
    id: str
    text: str
    title: str
    section: str
    url: str | None
    score: float
    doc: str
    topics: list[str] = field(default_factory=list)
    kind: str = ""
    mode: Mode = "hybrid"
    """Which search found it: 'plan' (stored at build time), 'keyword' or 'hybrid'."""

    @property
    def heading_path(self) -> str:
        return f"{self.title} > {self.section}" if self.section else self.title

    def to_citation(self) -> Citation:
        from tutor.corpus.documents import is_added
        from tutor.engine.events import Citation

        return Citation(
            id=self.id,
            title=self.title,
            section=self.section,
            url=self.url,
            text=self.text,
            score=self.score,
            added=is_added(self.doc),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "title": self.title,
            "section": self.section,
            "url": self.url,
            "score": round(self.score, 6),
        }

    def to_stored(self) -> dict[str, Any]:
        return {**self.to_dict(), "score": self.score, "doc": self.doc, "topics": self.topics,
                "kind": self.kind}  # fmt: skip

    @classmethod
    def from_stored(cls, data: dict[str, Any], mode: Mode) -> Hit:
        return cls(
            id=str(data["id"]),
            text=str(data["text"]),
            title=str(data["title"]),
            section=str(data["section"]),
            url=data.get("url") or None,
            score=float(data["score"]),
            doc=str(data["doc"]),
            topics=[str(t) for t in data.get("topics", [])],
            kind=str(data.get("kind", "")),
            mode=mode,
        )


def min_max(scores: dict[str, float], low: float | None = None) -> dict[str, float]:
    """Scale to [0, 1] between `low` (default: the lowest score) and the highest; a list
    whose scores are all equal scales to 1."""
    if not scores:
        return {}
    low = min(scores.values()) if low is None else low
    high = max(scores.values())
    if high <= low:
        return dict.fromkeys(scores, 1.0)
    return {item: (score - low) / (high - low) for item, score in scores.items()}


def score_fuse(
    scored: Sequence[dict[str, float]], weights: Sequence[float] | None = None
) -> list[tuple[str, float]]:
    """Weighted sum of already scaled scores; an item missing from a list gets 0 from it.
    Ties keep first-seen order."""
    weights = weights or [1.0] * len(scored)
    fused: dict[str, float] = {}
    for scores, weight in zip(scored, weights, strict=True):
        for item, value in scores.items():
            fused[item] = fused.get(item, 0.0) + weight * value
    return sorted(fused.items(), key=lambda kv: kv[1], reverse=True)


Embedder = Callable[[str], "npt.NDArray[np.float32]"]


class SearchIndex:
    """The passages in memory: BM25 over their text and, with vectors, exact cosine search.

    The corpus is small (hundreds to a few thousand passages), so a matrix product over
    every vector is both exact and faster than a round trip through Chroma's HNSW index.
    """

    def __init__(self, chunks: list[Chunk], vectors: npt.NDArray[np.float32] | None) -> None:
        order = sorted(range(len(chunks)), key=lambda i: chunks[i].id)
        self.chunks = [chunks[i] for i in order]
        self.vectors = vectors[order] if vectors is not None and len(chunks) else None
        self.position = {c.id: i for i, c in enumerate(self.chunks)}
        self.bm25 = _build_bm25(self.chunks) if self.chunks else None

    @classmethod
    def from_snapshot(cls, snapshot: Snapshot) -> SearchIndex:
        chunks = [
            Chunk.from_stored(cid, text, meta)
            for cid, text, meta in zip(snapshot.ids, snapshot.texts, snapshot.metas, strict=True)
        ]
        return cls(chunks, snapshot.vectors)

    def allowed(
        self, topics: list[str] | None, kinds: list[str] | None, docs: list[str] | None
    ) -> npt.NDArray[np.bool_] | None:
        import numpy as np

        if not (topics or kinds or docs):
            return None
        topic_set = {t.lower() for t in topics or []}
        kind_set = {k.lower() for k in kinds or []}
        doc_set = set(docs or [])
        return np.array(
            [
                (not topic_set or bool(topic_set.intersection(c.topics)))
                and (not kind_set or c.kind in kind_set)
                and (not doc_set or c.doc in doc_set)
                for c in self.chunks
            ],
            dtype=bool,
        )

    def sparse(self, query: str, allowed: npt.NDArray[np.bool_] | None) -> dict[str, float]:
        """BM25 score of every allowed passage that shares a term with the query."""
        import numpy as np

        if self.bm25 is None:
            return {}
        vocab = self.bm25.vocab_dict
        ids = [vocab[t] for t in tokenize(query) if t in vocab]
        if not ids:
            return {}
        scores = np.asarray(self.bm25.get_scores(ids), dtype=np.float64)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        matched = np.flatnonzero(scores > 0)
        if matched.size == 0:
            return {}
        return {self.chunks[i].id: float(scores[i]) for i in matched}

    def dense(
        self, vector: npt.NDArray[np.float32], allowed: npt.NDArray[np.bool_] | None
    ) -> dict[str, float]:
        """Cosine similarity of the nearest allowed passages (vectors are unit length)."""
        import numpy as np

        if self.vectors is None:
            return {}
        sims = self.vectors @ vector
        if allowed is not None:
            sims = np.where(allowed, sims, -np.inf)
        count = len(self.chunks) if allowed is None else int(allowed.sum())
        n = min(DENSE_CANDIDATES, count)
        if n <= 0:
            return {}
        top = np.argpartition(-sims, n - 1)[:n] if n < len(sims) else np.arange(len(sims))
        return {self.chunks[i].id: float(sims[i]) for i in top if np.isfinite(sims[i])}

    def search(
        self,
        query: str,
        k: int,
        *,
        topics: list[str] | None = None,
        kinds: list[str] | None = None,
        docs: list[str] | None = None,
        embed: Embedder | None = None,
        dense: bool = False,
    ) -> list[Hit]:
        """Hybrid when `dense` and the vectors are there (`embed` makes the query's vector,
        the shared model by default); keywords alone otherwise."""
        if not query.strip() or k <= 0 or not self.chunks:
            return []
        allowed = self.allowed(topics, kinds, docs)
        if allowed is not None and not allowed.any():
            return []
        sparse = self.sparse(query, allowed)
        mode: Mode = "keyword"
        if dense and self.vectors is not None:
            if embed is None:
                from tutor.corpus.embedding import embed_query

                embed = embed_query
            close = self.dense(embed(query), allowed)
            mode = "hybrid"
            # BM25's true floor is 0 (no shared term); scaling from the weakest match
            # instead would make a one-word match count as no match at all. The dense
            # floor is the least similar passage returned: cosine has no natural zero.
            fused = score_fuse(
                [min_max(close), min_max(sparse, low=0.0)], [DENSE_WEIGHT, SPARSE_WEIGHT]
            )
        else:
            fused = score_fuse([min_max(sparse, low=0.0)], [SPARSE_WEIGHT])
        hits: list[Hit] = []
        per_section: dict[tuple[str, str], int] = {}
        for cid, score in fused:
            if len(hits) == k:
                break
            c = self.chunks[self.position[cid]]
            # Several passages of one long section crowd out other sources; the best one
            # stands for the section so the k results cite k different places.
            key = (c.doc, c.section)
            if per_section.get(key, 0) >= MAX_PER_SECTION:
                continue
            per_section[key] = per_section.get(key, 0) + 1
            hits.append(
                Hit(
                    id=c.id,
                    text=c.text,
                    title=c.title,
                    section=c.section,
                    url=c.url,
                    score=score,
                    doc=c.doc,
                    topics=list(c.topics),
                    kind=c.kind,
                    mode=mode,
                )
            )
        return hits


def _build_bm25(chunks: list[Chunk]) -> Any:
    import bm25s

    # The heading path is part of what a passage is about; index it with the text.
    # The section heading counts twice: it is the author's own summary of the
    # passage, and a long passage would otherwise dilute it below a stray mention.
    corpus = [tokenize(f"{c.heading_path}\n{c.section}\n{c.text}") or [""] for c in chunks]
    bm25 = bm25s.BM25()
    bm25.index(corpus, show_progress=False)
    return bm25


def _quiet(_message: str, _fraction: float | None) -> None:
    return None


class Retriever:
    """Search the corpus index.

    By default the first search loads everything it needs, building the index if it is
    stale (blocking, as scripts and evals want). With `background=True`, `start()` loads
    in stages on a thread and searches never wait for the embedding model:

    1. the lesson's own passage queries are answered from the table stored at build time;
    2. other queries use the keyword index as soon as it is read (a fraction of a second);
    3. once the embedding model has loaded, they use the hybrid search.

    A stale index is rebuilt behind all that; the new passages join when it is done.
    `last_mode` says how the latest search was answered.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        background: bool = False,
        progress: Progress | None = None,
        plan_queries: list[str] | None = None,
        build: Callable[[Settings, Progress], object] | None = None,
    ) -> None:
        self.settings = settings
        self.background = background
        self.progress = progress or _quiet
        self._plan_queries = plan_queries
        self._build = build
        self._lock = threading.Lock()
        self._loaded = False
        self._index: SearchIndex | None = None
        self._table: dict[str, list[dict[str, Any]]] = {}
        self._query_vectors: dict[str, npt.NDArray[np.float32]] = {}
        self._keyword_ready = threading.Event()
        self._dense_ready = threading.Event()
        self._settled = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None
        """Why the background load failed, if it did (searches then return nothing)."""
        self.last_mode: Mode | None = None

    # ------------------------------------------------------------------ state

    @property
    def keyword_ready(self) -> bool:
        return self._keyword_ready.is_set()

    @property
    def dense_ready(self) -> bool:
        return self._dense_ready.is_set()

    def wait_settled(self, timeout: float | None = None) -> bool:
        """Wait until the background load (and any rebuild) has finished or failed."""
        return self._settled.wait(timeout)

    def refresh(self) -> None:
        """Forget the in-memory view so the next search re-reads the index (after a build)."""
        with self._lock:
            self._loaded = False

    # ------------------------------------------------------------------ loading

    def _install(self, index: SearchIndex, digest: str | None) -> None:
        from tutor.corpus.snapshot import plan_queries, read_plan_table

        queries = self._plan_queries
        if queries is None:
            queries = plan_queries(self.settings) or []
        table = read_plan_table(self.settings, queries, digest) if digest and queries else None
        with self._lock:
            self._index = index
            self._table = table or {}

    def _current_digest(self) -> str | None:
        from tutor.corpus.index import index_digest, load_manifest

        manifest = load_manifest(self.settings)
        return index_digest(manifest) if manifest else None

    def _load_snapshot(self, *, current_only: bool) -> bool:
        """Install the build's snapshot; with `current_only`, only if it matches the manifest."""
        from tutor.corpus.snapshot import read_snapshot

        snapshot = read_snapshot(self.settings)
        if snapshot is None:
            return False
        digest = self._current_digest()
        if current_only and snapshot.digest != digest:
            return False
        self._install(SearchIndex.from_snapshot(snapshot), snapshot.digest)
        return True

    def _load_from_store(self) -> None:
        """Without a snapshot (an index built elsewhere), read the passages from Chroma."""
        from tutor.corpus.index import get_store
        from tutor.corpus.snapshot import as_matrix

        store = get_store(self.settings)
        got = store.collection.get(include=["documents", "metadatas", "embeddings"])
        chunks = [
            Chunk.from_stored(cid, text or "", dict(meta or {}))
            for cid, text, meta in zip(
                got["ids"], got["documents"] or [], got["metadatas"] or [], strict=False
            )
        ]
        embeddings = got["embeddings"]
        vectors = as_matrix(embeddings, len(chunks)) if embeddings is not None else None
        self._install(SearchIndex(chunks, vectors), self._current_digest())

    def _load_from_sources(self) -> None:
        """First run, before any build: chunk the files themselves for the keyword index."""
        from tutor.corpus.documents import DocumentError, chunk_document, load_document
        from tutor.corpus.index import discover

        warnings: list[str] = []
        chunks: list[Chunk] = []
        for source in discover(self.settings, warnings):
            try:
                document = load_document(
                    source.path, source=source.key, doc=source.doc,
                    default_kind=source.default_kind, warnings=warnings,
                    max_passages=self.settings.max_doc_passages,
                )  # fmt: skip
            except (DocumentError, OSError):
                continue  # the build reports it; a keyword index without it is still useful
            chunks.extend(chunk_document(document))
        self._install(SearchIndex(chunks, None), None)

    def _load(self) -> None:
        """The blocking path: bring the index up to date, then read it."""
        if self._loaded:
            return
        from tutor.corpus.index import ensure_index

        ensure_index(self.settings)
        if not self._load_snapshot(current_only=True):
            self._load_from_store()
        self._loaded = True
        self._keyword_ready.set()
        self._dense_ready.set()
        self._settled.set()

    def start(self) -> Retriever:
        """Begin the staged background load (background mode); a second call does nothing."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._load_in_background, name="tutor-corpus-load", daemon=True
            )
            self._thread.start()
        return self

    def _load_in_background(self) -> None:
        from tutor.corpus.build_worker import build_in_subprocess
        from tutor.corpus.index import index_current

        try:
            had_snapshot = self._load_snapshot(current_only=False)
            if not had_snapshot:
                self._load_from_sources()
            self._keyword_ready.set()
            stale = not index_current(self.settings)
            if had_snapshot:
                # An index from an earlier run: dense search on it first, rebuild after.
                self._warm_model()
            if stale:
                self.progress("updating the corpus index in the background", None)
                # In a child process: the build's memory (Chroma, embedding batches)
                # must not add to the app's, which holds both models by then.
                build = self._build or build_in_subprocess
                build(self.settings, self.progress)
                if not self._load_snapshot(current_only=True):
                    self._load_from_store()
                with self._lock:
                    self._query_vectors.clear()
            self._warm_model()
            self.progress("corpus search ready", None)
        except Exception as exc:  # the lesson goes on; reveals then cite the plan itself
            self.error = exc
            log.warning("corpus unavailable: %s", exc)
            self.progress(f"corpus unavailable: {exc}", None)
        finally:
            self._keyword_ready.set()
            self._settled.set()

    def _warm_model(self) -> None:
        index = self._index
        if index is None or index.vectors is None or self._dense_ready.is_set():
            return
        from tutor.corpus.embedding import embed_query

        embed_query("warm up")  # the first call pays the model load and its lazy setup
        self._dense_ready.set()

    # ------------------------------------------------------------------ search

    @property
    def chunk_count(self) -> int:
        if not self.background:
            self._load()
        else:
            self.start()
            self._keyword_ready.wait()
        return len(self._index.chunks) if self._index else 0

    def _embed(self, query: str) -> npt.NDArray[np.float32]:
        from tutor.corpus.embedding import embed_query

        vector = self._query_vectors.get(query)
        if vector is None:
            vector = embed_query(query)
            # Free questions repeat across sessions; the model call is most of a
            # query's cost, so repeats are answered from memory.
            if len(self._query_vectors) >= QUERY_CACHE:
                self._query_vectors.pop(next(iter(self._query_vectors)))
            self._query_vectors[query] = vector
        return vector

    def search(
        self,
        query: str,
        k: int = 5,
        *,
        topics: list[str] | None = None,
        kinds: list[str] | None = None,
        docs: list[str] | None = None,
    ) -> list[Hit]:
        """The k best passages for `query`, optionally limited to topics, kinds or docs."""
        from tutor.corpus.snapshot import PLAN_TABLE_K

        if self.background:
            # Reading the keyword index takes a fraction of a second; never the model.
            self.start()
            self._keyword_ready.wait()
        else:
            self._load()
        stored = self._table.get(query)
        if stored is not None and not (topics or kinds or docs) and 0 < k <= PLAN_TABLE_K:
            self.last_mode = "plan"
            return [Hit.from_stored(item, "plan") for item in stored[:k]]
        index = self._index
        if index is None:
            self.last_mode = None
            return []
        dense = self._dense_ready.is_set() and index.vectors is not None
        hits = index.search(
            query, k, topics=topics, kinds=kinds, docs=docs, embed=self._embed, dense=dense
        )
        self.last_mode = "hybrid" if dense else "keyword"
        return hits
