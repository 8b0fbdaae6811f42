"""Commands, guesses and the shape of a message: the non-calculator side of reading.

Only an explicit choice commits a guess: a letter on its own, "I think B", "option B",
"my guess is B", or the option's idea in a statement. "It's a trick question", "a hint
please" and "C.f. ..." are not choices.
"""

from __future__ import annotations

import re

from tutor.reading.types import Command
from tutor.reading.vocabulary import NUMBER, TooLarge, number_value

_COMMANDS: list[tuple[Command, re.Pattern[str]]] = [
    (
        "skip",
        re.compile(
            r"^\s*(?:/?skip|next|skip\s+(?:this|it|the\s+step|ahead)|move\s+on|"
            r"next\s+step|go\s+on)\s*[.!]*\s*$",
            re.I,
        ),
    ),
    (
        "back",
        re.compile(
            r"^\s*(?:/?back|go\s+back|previous(?:\s+step)?|back\s+to\s+the\s+lesson|"
            r"return\s+to\s+the\s+lesson)\s*[.!]*\s*$",
            re.I,
        ),
    ),
    (
        "repeat",
        re.compile(
            r"^\s*(?:/?repeat|again|say\s+(?:that|it)\s+again|what\s+was\s+the\s+"
            r"question|repeat\s+(?:the\s+)?question|come\s+again)\s*[.!?]*\s*$",
            re.I,
        ),
    ),
    (
        "hint",
        re.compile(
            r"\b(?:hint|clue|nudge|a\s+little\s+help|some\s+help|help\s+me|"
            r"i'?m\s+stuck)\b",
            re.I,
        ),
    ),
    (
        "wants_answer",
        re.compile(
            r"\b(?:just\s+tell\s+me|tell\s+me\s+the\s+answer|give\s+me\s+the\s+answer|"
            r"what'?s\s+the\s+answer|reveal|show\s+me\s+the\s+answer|i\s+(?:don'?t|do\s+not)\s+"
            r"know|idk|no\s+idea|ignore\s+(?:all\s+|the\s+)?(?:previous|prior|above)\s+"
            r"instructions|i\s+am\s+(?:the|your)\s+teacher|i'?m\s+(?:the|your)\s+teacher|"
            r"answer\s+key|sag\s+(?:es\s+)?mir|dime\s+la\s+respuesta|dis-moi)\b",
            re.I,
        ),
    ),
]

_CHOICE_LEAD = (
    r"(?:(?:i\s+(?:think|guess|pick|choose|chose|say|go\s+(?:with|for)|reckon|bet|believe|"
    r"would\s+(?:say|pick|go\s+with))|i'?ll\s+(?:go\s+(?:with|for)|pick|take|say)|"
    r"i'?m\s+going\s+(?:with|for)|going\s+with|my\s+(?:guess|answer|pick|choice|bet)\s+is|"
    r"(?:it'?s|it\s+is)|probably|maybe|definitely|guess|answer|option|choice|letter)"
    r"\s*(?::|-)?\s*)"
)
_LETTER = re.compile(
    rf"^\s*(?:{_CHOICE_LEAD}{{1,3}})?(?:option\s+|\()?([a-h])\)?"
    r"(?:\s*[.!)]?\s*$|\s*[,:;.!)-]\s*(?![a-z]\.)|\s+(?:because|since|as|cos|cuz|so|i\s+think|"
    r"probably|maybe|then|for\s+sure)\b)",
    re.I,
)
_ORDINALS = {"first": "A", "second": "B", "third": "C", "fourth": "D", "fifth": "E"}
_ORDINAL = re.compile(
    rf"^\s*(?:{_CHOICE_LEAD}{{0,3}})(?:the\s+)?(first|second|third|fourth|fifth)\s+(?:one|option)"
    r"\b",
    re.I,
)
_NUMBER_GUESS = re.compile(
    r"^\s*(?:(?:i\s+(?:think|guess|say|reckon|bet|believe)|my\s+(?:guess|answer)\s+is|maybe|"
    r"probably|about|around|roughly|approximately|perhaps|it'?s|it\s+is|guess:?|answer:?|"
    rf"i'?d\s+say|i'?ll\s+say|i'?ll\s+go\s+with|going\s+with)\s*)*(-?{NUMBER})"
    r"(?:\s*(?:instances?|gpus?|logical\s+gpus?|replicas?|sequences?|layouts?|profiles?|"
    r"slices?|of\s+them|devices?))?\s*[.!]*\s*$",
    re.I,
)
_YES = re.compile(r"^\s*(?:i\s+think\s+|probably\s+|maybe\s+)?(?:yes|yep|yeah|yup|y|valid|"
                  r"true|it\s+(?:fits|works|is\s+valid)|fits|it\s+does|sure)\b", re.I)  # fmt: skip
_NO = re.compile(r"^\s*(?:i\s+think\s+|probably\s+|maybe\s+)?(?:no|nope|nah|n|invalid|false|"
                 r"it\s+(?:doesn'?t|does\s+not|won'?t)(?:\s+fit)?|not\s+valid|won'?t\s+fit|"
                 r"doesn'?t\s+fit)\b", re.I)  # fmt: skip
_PROFILE_GUESS = re.compile(r"(?<![\w.])(\d)\s*g(?:\s*\.\s*(\d{1,3})\s*gb([+.\-]?(?:me|gfx)"
                            r"(?:\.all)?)?)?(?![\w.])", re.I)  # fmt: skip
_NONE_GUESS = re.compile(r"^\s*(?:i\s+think\s+)?(?:none|nothing|no\s+profile|it\s+won'?t\s+fit"
                         r"|doesn'?t\s+fit)\b", re.I)  # fmt: skip
_QUESTION_START = re.compile(
    r"^\s*(?:how|what|why|which|when|where|who|can|could|is|are|does|do|should|would|will|"
    r"explain|tell\s+me\s+about|describe|compare|wie|was|warum|qu[eé]|c[oó]mo|pourquoi)\b",
    re.I,
)
_HEDGED = re.compile(r"^\s*(?:i\s+think|maybe|probably|i\s+guess|my\s+guess)\b", re.I)


def command(text: str) -> Command | None:
    for name, pattern in _COMMANDS:
        if pattern.search(text):
            return name
    return None


def looks_like_question(text: str) -> bool:
    stripped = text.strip()
    return "?" in stripped or bool(_QUESTION_START.match(stripped))


def option_guess(text: str, options: list[tuple[str, list[str]]]) -> str | None:
    """The option the learner explicitly chose, or None."""
    keys = {k for k, _ in options}
    m = _LETTER.match(text)
    if m and m.group(1).upper() in keys:
        return m.group(1).upper()
    m = _ORDINAL.match(text)
    if m and _ORDINALS[m.group(1).lower()] in keys:
        return _ORDINALS[m.group(1).lower()]
    if looks_like_question(text) and not _HEDGED.match(text):
        return None
    low = text.lower()
    hits = [k for k, words in options if any(w.lower() in low for w in words if w)]
    return hits[0] if len(hits) == 1 else None


def number_guess(text: str) -> str | None:
    m = _NUMBER_GUESS.match(text)
    if m is None:
        return None
    try:
        value = number_value(m.group(1).lstrip("-"))
    except (TooLarge, ValueError):
        return None
    if m.group(1).startswith("-"):
        value = -value
    return f"{value:.2f}".rstrip("0").rstrip(".")


def yes_no_guess(text: str) -> str | None:
    if _NO.match(text):
        return "no"
    if _YES.match(text):
        return "yes"
    return None


def profile_guess(text: str) -> str | None:
    if _NONE_GUESS.match(text):
        return "none"
    m = _PROFILE_GUESS.search(text)
    if m is None:
        return None
    if m.group(2) is None:
        return f"{m.group(1)}g"
    return f"{m.group(1)}g.{m.group(2)}gb" + (m.group(3) or "").replace(".", "+", 1)


def resource_guess(text: str) -> str | None:
    m = re.search(r"(nvidia\.com/)?((?:mig-)?\d+g\.\d+gb(?:[+.\-]\w+)*|gpu(?:\.shared)?)",
                  text, re.I)  # fmt: skip
    if m is None:
        return None
    name = m.group(2).lower()
    return f"nvidia.com/{name}"
