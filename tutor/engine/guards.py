"""Deterministic checks on what the model wrote: the reveal gate and grounded numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tutor.engine.numbers import numbers_in


@dataclass(frozen=True)
class AnswerKey:
    """What must stay hidden until the learner commits a guess."""

    option_key: str | None = None
    option_text: str | None = None
    number: str | None = None
    phrases: tuple[str, ...] = ()
    shown_text: str = ""
    """The question and options as shown; a number or phrase already there is no leak."""


def leaks(reply: str, key: AnswerKey) -> str | None:
    """Return why the reply gives the answer away, or None when it is safe."""
    low = reply.lower()
    shown = key.shown_text.lower()
    if key.number is not None and key.number in numbers_in(reply) - numbers_in(key.shown_text):
        return f"states the answer {key.number}"
    for phrase in key.phrases:
        if phrase.lower() in low and phrase.lower() not in shown:
            return f"uses the key phrase '{phrase}'"
    if key.option_text:
        # A long enough stretch of the right option's wording singles it out.
        words = re.findall(r"[a-z0-9]+", key.option_text.lower())
        for i in range(max(0, len(words) - 4)):
            if " ".join(words[i : i + 5]) in " ".join(re.findall(r"[a-z0-9]+", low)):
                return "repeats the right option's wording"
    if key.option_key:
        letter = re.escape(key.option_key)
        pattern = (
            rf"\b(answer|correct|right|option|choice|pick|choose|go with)\b\W{{0,12}}"
            rf"(is\W+|would be\W+)?\(?{letter}\b"
        )
        if re.search(pattern, reply, re.I) or re.search(rf"(?<![A-Za-z])\(?{letter}\)\s", reply):
            return f"points at option {key.option_key}"
    if re.search(r"\b(the (right|correct) answer|the answer is)\b", low):
        return "announces an answer"
    return None


def ungrounded_numbers(reply: str, allowed_texts: list[str]) -> set[str]:
    """Numbers the reply states that no calculator result, passage or fact contains."""
    allowed: set[str] = set()
    for text in allowed_texts:
        allowed |= numbers_in(text)
    return numbers_in(reply) - allowed


_META = re.compile(
    r"\b(the learner|the user|learner'?s|the student|they (named|missed|guessed|made)|"
    r"facts given|this conversation|sources only|in plain words|two or three sentences|"
    r"as an ai|language model|system prompt|instructions?|ignore (all|previous))\b",
    re.I,
)


_ECHO_START = re.compile(
    r"^\s*(the (right |correct )?answer is|a (good|strong) (answer|explanation)|the learner|"
    r"question:|answer:|sources?:)",
    re.I,
)


def is_meta(sentence: str) -> bool:
    """A sentence that talks about the prompt instead of to the learner (small models echo)."""
    return (
        bool(_META.search(sentence))
        or bool(_ECHO_START.search(sentence))
        or bool(re.search(r"</?\w+>", sentence))
        or "\n" in sentence.strip()
    )


_CONTENT_WORD = re.compile(r"[a-z][a-z0-9-]{3,}")
_COMMON = frozenset(
    [
        "that",
        "this",
        "with",
        "from",
        "have",
        "will",
        "would",
        "could",
        "should",
        "about",
        "their",
        "there",
        "these",
        "those",
        "which",
        "what",
        "when",
        "where",
        "your",
        "they",
        "them",
        "than",
        "then",
        "into",
        "each",
        "also",
        "only",
        "just",
        "because",
        "while",
        "being",
        "very",
        "more",
        "most",
        "much",
        "many",
        "some",
        "such",
        "here",
        "does",
        "make",
        "makes",
        "made",
        "good",
        "right",
        "answer",
        "question",
        "think",
        "learner",
        "explain",
        "means",
        "mean",
    ]
)


def supported(sentence: str, sources: list[str], threshold: float = 0.75) -> bool:
    """Most of the sentence's content words appear in the sources (a small model's tether)."""
    words = [w for w in _CONTENT_WORD.findall(sentence.lower()) if w not in _COMMON]
    if not words:
        return True
    pool = " ".join(sources).lower()
    found = sum(1 for w in words if w in pool or w.rstrip("s") in pool)
    return found / len(words) >= threshold
