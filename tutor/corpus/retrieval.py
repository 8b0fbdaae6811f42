"""Hybrid retrieval: Chroma dense search and in-memory BM25, fused as a weighted sum of scores."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tutor.corpus.documents import Chunk
from tutor.settings import Settings

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from tutor.engine.events import Citation

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
_STOPWORD_TEXT = (
    "a an and are as at be but by can do does for from has have how i if in "
    "into is it its my no not of on or our so than that the their them then there "
    "these they this to was we what when where which who why will with you your"
)
# 'vs' sits in many comparison headings ("MIG vs time-slicing") and would pull those
# forward for any question phrased as a comparison, whatever it compares.
_STOPWORDS = frozenset(_STOPWORD_TEXT.split()) | {"vs", "versus"}

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

    @property
    def heading_path(self) -> str:
        return f"{self.title} > {self.section}" if self.section else self.title

    def to_citation(self) -> Citation:
        from tutor.engine.events import Citation

        return Citation(
            id=self.id,
            title=self.title,
            section=self.section,
            url=self.url,
            text=self.text,
            score=self.score,
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


class Retriever:
    """Search the corpus index. Loads the index (and, on first query, the model) lazily."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._loaded = False
        self._chunks: list[Chunk] = []
        self._position: dict[str, int] = {}
        self._bm25: Any = None
        self._collection: Any = None
        self._query_vectors: dict[str, npt.NDArray[np.float32]] = {}

    def refresh(self) -> None:
        """Forget the in-memory view so the next search re-reads the index (after a build)."""
        with self._lock:
            self._loaded = False

    def _load(self) -> None:
        with self._lock:
            if self._loaded:
                return
            from tutor.corpus.index import ensure_index, get_store

            ensure_index(self.settings)
            store = get_store(self.settings)
            got = store.collection.get(include=["documents", "metadatas"])
            chunks = [
                Chunk.from_stored(cid, text or "", dict(meta or {}))
                for cid, text, meta in zip(
                    got["ids"], got["documents"] or [], got["metadatas"] or [], strict=False
                )
            ]
            chunks.sort(key=lambda c: c.id)
            self._chunks = chunks
            self._position = {c.id: i for i, c in enumerate(chunks)}
            self._collection = store.collection
            self._bm25 = self._build_bm25(chunks) if chunks else None
            self._loaded = True

    @staticmethod
    def _build_bm25(chunks: list[Chunk]) -> Any:
        import bm25s

        # The heading path is part of what a passage is about; index it with the text.
        # The section heading counts twice: it is the author's own summary of the
        # passage, and a long passage would otherwise dilute it below a stray mention.
        corpus = [tokenize(f"{c.heading_path}\n{c.section}\n{c.text}") or [""] for c in chunks]
        bm25 = bm25s.BM25()
        bm25.index(corpus, show_progress=False)
        return bm25

    @property
    def chunk_count(self) -> int:
        self._load()
        return len(self._chunks)

    def _allowed(
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
                for c in self._chunks
            ],
            dtype=bool,
        )

    def _where(
        self, topics: list[str] | None, kinds: list[str] | None, docs: list[str] | None
    ) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        if kinds:
            clauses.append({"kind": {"$in": [k.lower() for k in kinds]}})
        if docs:
            clauses.append({"doc": {"$in": list(docs)}})
        if topics:
            ors = [{f"t_{t.lower()}": True} for t in topics]
            clauses.append(ors[0] if len(ors) == 1 else {"$or": ors})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def _sparse(self, query: str, allowed: npt.NDArray[np.bool_] | None) -> dict[str, float]:
        """BM25 score of every allowed passage that shares a term with the query."""
        import numpy as np

        if self._bm25 is None:
            return {}
        vocab = self._bm25.vocab_dict
        ids = [vocab[t] for t in tokenize(query) if t in vocab]
        if not ids:
            return {}
        scores = np.asarray(self._bm25.get_scores(ids), dtype=np.float64)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        matched = np.flatnonzero(scores > 0)
        if matched.size == 0:
            return {}
        return {self._chunks[i].id: float(scores[i]) for i in matched}

    def _dense(
        self, query: str, where: dict[str, Any] | None, allowed_count: int
    ) -> dict[str, float]:
        """Cosine similarity of the nearest allowed passages."""
        from tutor.corpus.embedding import embed_query

        n = min(DENSE_CANDIDATES, allowed_count)
        if n <= 0:
            return {}
        vector = self._query_vectors.get(query)
        if vector is None:
            vector = embed_query(query)
            # Lesson steps search the same passage queries in every session; the model
            # call is most of a query's cost, so repeats are answered from memory.
            if len(self._query_vectors) >= QUERY_CACHE:
                self._query_vectors.pop(next(iter(self._query_vectors)))
            self._query_vectors[query] = vector
        result = self._collection.query(
            query_embeddings=[vector.tolist()], n_results=n, where=where, include=["distances"]
        )
        # The collection uses cosine space: distance = 1 - cosine similarity.
        return {
            cid: 1.0 - float(distance)
            for cid, distance in zip(result["ids"][0], result["distances"][0], strict=False)
            if cid in self._position
        }

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
        self._load()
        if not query.strip() or k <= 0 or not self._chunks:
            return []
        allowed = self._allowed(topics, kinds, docs)
        allowed_count = len(self._chunks) if allowed is None else int(allowed.sum())
        if allowed_count == 0:
            return []
        dense = self._dense(query, self._where(topics, kinds, docs), allowed_count)
        sparse = self._sparse(query, allowed)
        # BM25's true floor is 0 (no shared term); scaling from the weakest match instead
        # would make a one-word match count as no match at all. The dense floor is the
        # least similar passage returned, as cosine has no such natural zero.
        fused = score_fuse(
            [min_max(dense), min_max(sparse, low=0.0)], [DENSE_WEIGHT, SPARSE_WEIGHT]
        )
        hits: list[Hit] = []
        per_section: dict[tuple[str, str], int] = {}
        for cid, score in fused:
            if len(hits) == k:
                break
            c = self._chunks[self._position[cid]]
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
                )
            )
        return hits
