"""The sources: retrieval, and which passages may be shown while a guess is pending."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import Protocol

from tutor.engine.events import Citation
from tutor.engine.guards import AnswerKey, withhold_passage
from tutor.engine.plan import LessonPlan, Step
from tutor.stopwords import STOPWORDS


class Hit(Protocol):
    def to_citation(self) -> Citation: ...


class Retriever(Protocol):
    def search(
        self,
        query: str,
        k: int = 5,
        *,
        topics: list[str] | None = None,
        kinds: list[str] | None = None,
    ) -> Sequence[Hit]: ...


class Sources:
    def __init__(self, plan: LessonPlan, retriever: Retriever | None) -> None:
        self.plan = plan
        self.retriever = retriever

    async def search(self, query: str, k: int, *, revealed: int) -> list[Citation]:
        """Corpus passages, or without a corpus the plan's steps already revealed."""
        if self.retriever is None:
            return self.search_plan(query, k, revealed=revealed)
        retriever = self.retriever
        hits = await asyncio.to_thread(retriever.search, query, k)
        return [h.to_citation() for h in hits]

    async def for_step(self, step: Step, *, revealed: int) -> list[Citation]:
        """The passages a step's reveal cites; the plan itself when nothing else is found."""
        found: list[Citation] = []
        for ref in step.passages:
            for citation in await self.search(ref.query, k=2, revealed=revealed):
                if all(c.id != citation.id for c in found):
                    found.append(citation)
        return found[:3] or [self.plan_citation(step)]

    async def for_question(
        self, question: str, key: AnswerKey | None, *, revealed: int
    ) -> list[Citation]:
        """Passages for a free question. While a guess is pending, a passage that holds
        the answer, and anything from a learner-added document, is not shown, quoted or
        given to the model: the gate covers the sources as well as the model's words."""
        return [
            c
            for c in await self.search(question, k=4, revealed=revealed)
            if withhold_passage(f"{c.label}\n{c.text}", key, added=c.added) is None
        ][:3]

    @property
    def last_mode(self) -> str | None:
        """How the corpus answered the latest search: plan, keyword or hybrid (or None)."""
        mode = getattr(self.retriever, "last_mode", None)
        return mode if isinstance(mode, str) else None

    def search_plan(self, query: str, k: int, *, revealed: int) -> list[Citation]:
        """Rank the plan's revealed steps by shared words: later explanations are answers
        still to be guessed."""
        words = set(re.findall(r"[a-z0-9]{3,}", query.lower())) - STOPWORDS
        scored = []
        for step in self.plan.steps[:revealed]:
            text = f"{step.title} {step.concept} {step.explanation}".lower()
            overlap = sum(1 for w in words if w in text)
            if overlap:
                scored.append((overlap, step))
        scored.sort(key=lambda pair: -pair[0])
        return [self.plan_citation(step) for _, step in scored[:k]]

    def plan_citation(self, step: Step) -> Citation:
        # The lesson itself is a source; when retrieval is unavailable it still backs the reveal.
        return Citation(
            id=f"plan:{step.id}",
            title=self.plan.title,
            section=step.title,
            url=None,
            text=step.explanation,
        )
