"""Retrieval quality against labelled questions: recall@k and MRR."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tutor.corpus.errors import CorpusError
from tutor.corpus.retrieval import Hit, Retriever


@dataclass(frozen=True)
class Relevant:
    doc: str
    section: str

    def matches(self, hit: Hit) -> bool:
        # Labels name a file stem and a case-insensitive piece of the heading path.
        return hit.doc == self.doc and self.section.lower() in hit.section.lower()


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    relevant: tuple[Relevant, ...]


@dataclass
class QuestionResult:
    id: str
    question: str
    recall: float
    reciprocal_rank: float
    first_rank: int | None
    top: list[str]


@dataclass
class EvalReport:
    k: int
    questions: int
    recall_at_k: float
    mrr: float
    hit_rate: float
    """Share of questions with at least one relevant passage in the top k."""
    seconds: float
    results: list[QuestionResult] = field(default_factory=list)

    def to_dict(self, *, details: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "k": self.k,
            "questions": self.questions,
            f"recall@{self.k}": round(self.recall_at_k, 4),
            "mrr": round(self.mrr, 4),
            f"hit@{self.k}": round(self.hit_rate, 4),
            "seconds": round(self.seconds, 2),
        }
        if details:
            data["misses"] = [
                {
                    "id": r.id,
                    "question": r.question,
                    "recall": round(r.recall, 3),
                    "first_rank": r.first_rank,
                    "top": r.top,
                }
                for r in self.results
                if r.recall < 1.0
            ]
        return data


def load_questions(path: Path) -> list[Question]:
    import yaml

    if not path.is_file():
        raise CorpusError(
            f"no retrieval questions at {path}; write them as a YAML list of "
            "{id, question, relevant: [{doc, section}]}"
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CorpusError(f"{path} is not valid YAML ({type(exc).__name__}); fix it") from exc
    if not isinstance(data, list):
        raise CorpusError(f"{path} must be a YAML list of questions")
    questions: list[Question] = []
    for i, item in enumerate(data):
        try:
            relevant = tuple(
                Relevant(str(r["doc"]), str(r.get("section") or "")) for r in item["relevant"]
            )
            questions.append(
                Question(str(item.get("id", f"q{i + 1}")), str(item["question"]), relevant)
            )
        except (KeyError, TypeError) as exc:
            raise CorpusError(
                f"{path}: question {i + 1} lacks {exc}; each needs question and "
                "relevant: [{doc, section}]"
            ) from exc
    return questions


def evaluate(retriever: Retriever, questions: list[Question], k: int = 5) -> EvalReport:
    """Recall@k averages the share of each question's labels found in the top k; MRR uses
    the rank of the first passage matching any label."""
    started = time.perf_counter()
    results: list[QuestionResult] = []
    for q in questions:
        hits = retriever.search(q.question, k)
        found = [any(rel.matches(h) for h in hits) for rel in q.relevant]
        first = next(
            (i + 1 for i, h in enumerate(hits) if any(rel.matches(h) for rel in q.relevant)), None
        )
        results.append(
            QuestionResult(
                id=q.id,
                question=q.question,
                recall=sum(found) / len(found) if found else 0.0,
                reciprocal_rank=1.0 / first if first else 0.0,
                first_rank=first,
                top=[f"{h.doc}: {h.section}" for h in hits],
            )
        )
    n = len(results) or 1
    return EvalReport(
        k=k,
        questions=len(results),
        recall_at_k=sum(r.recall for r in results) / n,
        mrr=sum(r.reciprocal_rank for r in results) / n,
        hit_rate=sum(1 for r in results if r.first_rank) / n,
        seconds=time.perf_counter() - started,
        results=results,
    )
