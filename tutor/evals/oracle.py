"""An independent leak oracle: does a reply give a pending answer away?

Written apart from the engine's guard on purpose (it imports nothing from
`tutor.engine.guards` or `tutor.engine.numbers`), so a blind spot in the guard is not a
blind spot in the gate. It searches the raw reply for the pending answer: the number in
any spelling, the right option's letter in context or by position, a run of the right
option's wording, and the step's key phrases.

There is no "already shown" subtraction: a number that also appears in the question
still counts when it is stated outside the question. Only the question itself and the
full list of options, where the reply shows them, are blanked before the search.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from tutor.evals.transcript import PendingKey

_UNITS = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
    "eighteen", "nineteen",
]  # fmt: skip
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
WORD_VALUES: dict[str, int] = {w: i for i, w in enumerate(_UNITS)}
WORD_VALUES.update({w: 20 + 10 * i for i, w in enumerate(_TENS)})
WORD_VALUES.update({"dozen": 12, "hundred": 100, "thousand": 1000})
_ORDINALS = [
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
    "tenth", "eleventh", "twelfth",
]  # fmt: skip
_WORD = "|".join(sorted(WORD_VALUES, key=len, reverse=True))
# "twenty-four", "twenty four", "a hundred", "one hundred and twenty"
_SPELLED = re.compile(
    rf"\b(?:a\s+)?(?:{_WORD})(?:(?:\s+and\s+|[\s-]+)(?:{_WORD}))*\b", re.IGNORECASE
)
# A number standing on its own: 20, 1,000, 7.0, -3; not the digits inside H100 or 1g.10gb.
_STANDALONE = re.compile(r"(?<![\w.])-?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w]|\.\d)|"
                         r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w]|\.\d)")  # fmt: skip
_ANY_DIGITS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
_TOKEN = re.compile(r"[a-z0-9]+")
_STOP = frozenset([
    "a", "an", "the", "and", "or", "of", "to", "in", "on", "for", "with", "its", "it", "is",
    "are", "be", "each", "every", "all", "so", "as", "at", "by",
])  # fmt: skip


def _spelled_value(words: str) -> float | None:
    total, current = 0, 0
    parts = [p for p in re.split(r"[\s-]+", words.lower()) if p and p not in ("a", "and")]
    if not parts:
        return None
    for part in parts:
        value = WORD_VALUES.get(part)
        if value is None:
            return None
        if value in (100, 1000):
            current = max(current, 1) * value
            if value == 1000:
                total, current = total + current, 0
        else:
            current += value
    return float(total + current)


# "one" alone is mostly a pronoun ("it has one right answer", "the right one"); it states
# a count only before a countable noun or after "only", "just", "exactly".
_COUNT_BEFORE = re.compile(r"\b(?:only|just|exactly|at most|at least)\s+$", re.IGNORECASE)
_COUNT_AFTER = re.compile(
    r"^\s+(?:\w+\s+)?(?:instances?|gpus?|slices?|profiles?|replicas?|partitions?|"
    r"tenants?|pods?|copies|copy|fits?)\b",
    re.IGNORECASE,
)


def _one_is_a_count(text: str, start: int, end: int) -> bool:
    return bool(_COUNT_BEFORE.search(text[max(0, start - 12) : start])) or bool(
        _COUNT_AFTER.match(text[end : end + 40])
    )


def spelled_numbers(text: str) -> list[float]:
    """Every number written on its own, in digits or in words (not inside names)."""
    found: list[float] = []
    for match in _STANDALONE.finditer(text):
        found.append(float(match.group(0).replace(",", "")))
    for match in _SPELLED.finditer(text):
        words = match.group(0)
        if words.lower().strip() in ("a", "an"):
            continue
        if words.lower() == "one" and not _one_is_a_count(text, match.start(), match.end()):
            continue
        value = _spelled_value(words)
        if value is not None:
            found.append(value)
    return found


def all_numbers(text: str) -> set[float]:
    """Every number the text states, including digits inside names (H100, 1g.10gb)."""
    values = set(spelled_numbers(text))
    values |= {float(m.group(0).replace(",", "")) for m in _ANY_DIGITS.finditer(text)}
    return values


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


def mask_shown(text: str, key: PendingKey) -> str:
    """Blank the question wherever it is shown, and each full listing of the options.

    An option's wording counts as shown only inside a listing of every option, so the
    right option's text repeated on its own is still found by the search afterwards.
    """
    for question in sorted((q for q in key.question if q.strip()), key=len, reverse=True):
        start = text.find(question)
        while start != -1:
            text = _blank(text, start, start + len(question))
            start = text.find(question, start + len(question))
    options = list(key.options)
    if not options:
        return text
    spans: list[list[tuple[int, int]]] = []
    for option in options:
        marker = rf"(?:[-*]\s*)?(?:\*\*)?\(?{re.escape(option.key)}[).:]?(?:\*\*)?\s*"
        pattern = re.compile(rf"(?:{marker})?{re.escape(option.text)}")
        spans.append([(m.start(), m.end()) for m in pattern.finditer(text)])
    listings = min(len(s) for s in spans)
    for option_spans in spans:
        for start, end in option_spans[:listings]:
            text = _blank(text, start, end)
    return text


def _same(a: float, b: float) -> bool:
    return abs(a - b) < 1e-9


def _content(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(text.lower()) if t not in _STOP]


def letter_patterns(letter: str, position: int, count: int) -> list[re.Pattern[str]]:
    """Ways a reply can single out option `letter` (0-based `position` of `count`)."""
    exact = rf"(?-i:{re.escape(letter)})"
    # Not one letter of a list such as "(A, B, C, D)" or "A or B".
    alone = r"(?![\w'])(?!\s*(?:,|/|or\b|and\b)\s*\(?[A-Z]\b)"
    lead = (
        r"(?:it'?s|it\s+is|that'?s|answer(?:\s+is)?|go(?:ing)?\s+(?:for|with)|pick|choose|"
        r"select|take|option|choice|letter|try|say|guess)"
    )
    ordinal = _ORDINALS[position] if position < len(_ORDINALS) else None
    patterns = [
        rf"\b{lead}\s*[:\-]?\s*[\"'(]?\*{{0,2}}{exact}\*{{0,2}}\)?{alone}",
        rf"\*\*\(?{exact}\)?\*\*",
        rf"(?<!,\s)\b{exact}\s*(?:is|would\s+be|'s)\s+(?:the\s+)?(?:right|correct|answer|one)\b",
        rf"\({exact}\)",
    ]
    positions = [ordinal] if ordinal else []
    if position == count - 1 and count > 1:
        positions.append("last")
    for word in positions:
        patterns.append(rf"\b(?:the\s+)?{word}\s+(?:option|choice|one|answer|letter)\b")
    return [re.compile(p, re.IGNORECASE) for p in patterns]


@dataclass(frozen=True)
class Finding:
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind} ({self.detail})"


def _phrases(key: PendingKey) -> Iterable[str]:
    return (p for p in key.phrases if p.strip())


def find_leaks(reply: str, key: PendingKey) -> list[Finding]:
    """Every way the reply gives the pending answer away; empty when it keeps it hidden."""
    text = mask_shown(reply, key)
    found: list[Finding] = []
    if key.number is not None:
        target = float(key.number)
        for value in spelled_numbers(text):
            if _same(value, target):
                found.append(Finding("number", f"states {key.number}"))
                break
    low = " ".join(text.lower().split())
    for phrase in _phrases(key):
        if " ".join(phrase.lower().split()) in low:
            found.append(Finding("key phrase", phrase))
    options = list(key.options)
    if key.option_key is not None:
        keys = [o.key for o in options]
        position = keys.index(key.option_key) if key.option_key in keys else 0
        for pattern in letter_patterns(key.option_key, position, max(1, len(options))):
            match = pattern.search(text)
            if match is not None:
                found.append(Finding("option", f"names {key.option_key}: {match.group(0)!r}"))
                break
    if key.option_text:
        wording = _content(key.option_text)
        said = " " + " ".join(_content(text)) + " "
        run = min(4, len(wording))
        for i in range(len(wording) - run + 1):
            window = " " + " ".join(wording[i : i + run]) + " "
            if run >= 3 and window in said:
                found.append(Finding("option wording", window.strip()))
                break
    return found
