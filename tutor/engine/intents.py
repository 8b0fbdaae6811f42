"""What a learner's message is: a guess, a request for the answer, a question, or chat.

Plain pattern matching on purpose: the gate must not depend on a model's reading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from tutor.engine.numbers import first_number, normalise
from tutor.engine.plan import PlanOption

Kind = Literal["guess", "wants_answer", "question", "other"]

_WANTS_ANSWER = re.compile(
    r"\b(just tell me|tell me the answer|give me the answer|what'?s the answer|reveal|"
    r"skip|i (don'?t|do not) know|idk|no idea|show me the answer|ignore (all |the )?"
    r"(previous|prior|above) instructions|i am (the|your) teacher|i'?m (the|your) teacher|"
    r"answer key|sag (es )?mir|dime la respuesta|dis-moi)\b",
    re.I,
)
_QUESTION_START = re.compile(
    r"^\s*(how|what|why|which|when|where|who|can|could|is|are|does|do|should|would|will|"
    r"explain|tell me about|wie|was|warum|qu[eé]|c[oó]mo|pourquoi)\b",
    re.I,
)
_LETTER = re.compile(
    r"^\s*(?:(?:i\s+(?:think|guess|pick|choose|say|go\s+with)|my\s+(?:guess|answer)\s+is|"
    r"(?:it'?s|it\s+is)|option|answer|guess)\s*:?\s*)*\(?([a-d])\)?(?:[\s.,!:)]|$)",
    re.I,
)
_NUMERIC_GUESS = re.compile(
    r"^\s*(?:(?:i\s+(?:think|guess|say|reckon|bet)|my\s+(?:guess|answer)\s+is|maybe|probably|"
    r"about|around|it'?s|guess:?)\s*)*(-?\d+(?:[.,]\d+)?|[a-z]+)\b",
    re.I,
)


@dataclass(frozen=True)
class Reading:
    kind: Kind
    guess: str | None = None


def _option_by_words(text: str, options: list[PlanOption]) -> str | None:
    low = text.lower()
    hits = [o.key for o in options if any(a.lower() in low for a in o.aliases)]
    return hits[0] if len(hits) == 1 else None


def read_message(
    text: str, *, options: list[PlanOption] | None = None, numeric: bool = False
) -> Reading:
    """Classify a message sent while a prediction is pending."""
    stripped = text.strip()
    if not stripped:
        return Reading("other")
    if options:
        letter = _LETTER.match(stripped)
        if letter and letter.group(1).upper() in {o.key for o in options}:
            return Reading("guess", letter.group(1).upper())
    if numeric:
        match = _NUMERIC_GUESS.match(stripped)
        if match:
            value = first_number(match.group(1)) if match.group(1) else None
            if value is not None and "?" not in stripped:
                return Reading("guess", normalise(value))
    if _WANTS_ANSWER.search(stripped):
        return Reading("wants_answer")
    if stripped.endswith("?") or _QUESTION_START.match(stripped):
        return Reading("question")
    if options:
        by_words = _option_by_words(stripped, options)
        if by_words:
            return Reading("guess", by_words)
    if numeric:
        value = first_number(stripped)
        if value is not None:
            return Reading("guess", normalise(value))
    return Reading("other")


def is_question(text: str) -> bool:
    stripped = text.strip()
    return "?" in stripped or bool(_QUESTION_START.match(stripped))


def wants_answer(text: str) -> bool:
    return bool(_WANTS_ANSWER.search(text))


def points_named(answer: str, points: list[list[str]]) -> list[bool]:
    """Which rubric points a free-text answer names (any synonym, case-insensitive)."""
    low = answer.lower()
    return [any(s.lower() in low for s in synonyms) for synonyms in points]
