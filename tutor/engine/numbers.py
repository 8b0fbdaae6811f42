"""Finding the numbers a text states, so replies can be checked against their sources."""

from __future__ import annotations

import re

_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15,
    "sixteen": 16, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "hundred": 100,
}  # fmt: skip
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:[.,]\d+)?|\b(?:" + "|".join(_WORDS) + r")\b", re.I)
_DIGITS = re.compile(r"\d+(?:\.\d+)?")


def normalise(value: float) -> str:
    """One spelling per value: 7, 7.0 and 7.00 are the same number."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def numbers_in(text: str) -> set[str]:
    """Every number in the text, including those inside names like 1g.10gb or H100."""
    found: set[str] = set()
    for match in _NUMBER.finditer(text):
        token = match.group(0).lower().replace(",", "")
        if token in _WORDS:
            found.add(normalise(_WORDS[token]))
            continue
        try:
            found.add(normalise(float(token)))
        except ValueError:
            continue
    # Digits glued to letters (1g.10gb, H100, 94GB) are still numbers a source must hold.
    for match in _DIGITS.finditer(text):
        found.add(normalise(float(match.group(0))))
    return found


def first_number(text: str) -> float | None:
    match = _NUMBER.search(text)
    if match is None:
        return None
    token = match.group(0).lower().replace(",", ".")
    if token in _WORDS:
        return float(_WORDS[token])
    try:
        return float(token)
    except ValueError:
        return None
