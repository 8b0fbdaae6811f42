"""Words of a learner answer: normalised tokens with their place in the text, and phrases.

Everything here runs in time linear in the answer: one regex with no nested quantifier
splits the text, and a phrase is matched token by token with a bounded look-ahead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# A newline, a word, an arrow, or one other mark. No quantifier is nested in another.
_TOKEN = re.compile(r"\n|[A-Za-z0-9]+|->|=>|[^\sA-Za-z0-9]")
_WORD = re.compile(r"[a-z0-9]+")
_APOSTROPHES = frozenset("'\u2019\u2018`")
_DASHES = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2015")

# "doesnt" and "doesn't" both read as "does not", so the negation reader sees "not".
_NOT_FORMS = {
    "dont": "do",
    "doesnt": "does",
    "didnt": "did",
    "isnt": "is",
    "arent": "are",
    "wasnt": "was",
    "werent": "were",
    "hasnt": "has",
    "havent": "have",
    "hadnt": "had",
    "cant": "can",
    "cannot": "can",
    "wont": "will",
    "wouldnt": "would",
    "couldnt": "could",
    "shouldnt": "should",
    "mustnt": "must",
    "aint": "is",
}
# British and American spellings and a few domain spellings become one token stream.
_SPELLINGS = {
    "neighbor": "neighbour",
    "neighbors": "neighbours",
    "neighboring": "neighbouring",
    "timeslicing": "time slicing",
    "timeslice": "time slice",
    "timesliced": "time sliced",
    "timeslices": "time slices",
    "timesharing": "time sharing",
    "multiinstance": "multi instance",
    "sms": "sm",
    "w": "with",
    "vs": "versus",
    "favor": "favour",
    "favors": "favours",
}


@dataclass
class Tokens:
    """Parallel lists: the normalised token and the span of the learner's text it came from."""

    text: str
    toks: list[str] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)

    def add(self, tok: str, span: tuple[int, int]) -> None:
        self.toks.append(tok)
        self.spans.append(span)

    def evidence(self, start: int, end: int) -> str:
        """The learner's own words from token `start` up to (not including) `end`."""
        if start >= end or end > len(self.spans):
            return ""
        return self.text[self.spans[start][0] : self.spans[end - 1][1]].strip()


def tokenize(text: str) -> Tokens:
    """Lower-case tokens of `text`: words, '=' for arrows, ';' for line breaks, other marks."""
    out = Tokens(text)
    matches = list(_TOKEN.finditer(text))
    for i, m in enumerate(matches):
        raw = m.group().lower()
        span = (m.start(), m.end())
        if raw == "\n":
            out.add(";", span)
        elif raw in ("->", "=>"):
            out.add("=", span)
        elif raw in _APOSTROPHES:
            continue
        elif raw in _DASHES:
            # A hyphen inside a word joins ("time-slicing"); a free-standing dash separates.
            joined = (
                0 < i < len(matches) - 1
                and matches[i - 1].end() == m.start()
                and matches[i + 1].start() == m.end()
            )
            if not joined:
                out.add(",", span)
        elif raw == "/":
            nxt = matches[i + 1].group().lower() if i + 1 < len(matches) else ""
            prev = matches[i - 1].group().lower() if i > 0 else ""
            if out.toks and prev == "w" and nxt == "o":
                out.toks[-1] = "without"
                continue
            out.add(",", span)
        elif raw == "t" and out.toks and out.spans[-1][1] + 1 == m.start():
            _apostrophe_t(out, span)
        elif raw == "." and _abbreviation(out, matches, i):
            continue
        elif raw in _NOT_FORMS:
            out.add(_NOT_FORMS[raw], span)
            out.add("not", span)
        elif raw in _SPELLINGS:
            for part in _SPELLINGS[raw].split():
                out.add(part, span)
        else:
            out.add(raw, span)
    # "w/o" leaves an orphan "o" after the rewrite above.
    return _drop_orphans(out)


def _apostrophe_t(out: Tokens, span: tuple[int, int]) -> None:
    """The "t" of "doesn't": rewrite "doesn" + "t" as "does" + "not"."""
    prev = out.toks[-1]
    if prev == "won":
        out.toks[-1] = "will"
    elif prev == "can":
        pass
    elif prev.endswith("n"):
        out.toks[-1] = prev[:-1]
    else:
        out.add("t", span)
        return
    out.spans[-1] = (out.spans[-1][0], span[1])
    out.add("not", span)


def _abbreviation(out: Tokens, matches: list[re.Match[str]], i: int) -> bool:
    """The dots of "e.g." and "i.e." do not end a sentence."""
    return bool(out.toks) and out.toks[-1] in ("e", "g", "i") and len(out.toks[-1]) == 1


def _drop_orphans(out: Tokens) -> Tokens:
    clean = Tokens(out.text)
    for i, tok in enumerate(out.toks):
        if tok == "o" and i > 0 and out.toks[i - 1] == "without":
            continue
        clean.add(tok, out.spans[i])
    return clean


def is_word(tok: str) -> bool:
    return bool(_WORD.fullmatch(tok))


def words(text: str) -> list[str]:
    """Only the word tokens of `text`, normalised as the reader sees them."""
    return [t for t in tokenize(text).toks if is_word(t)]


@dataclass(frozen=True)
class Term:
    word: str
    prefix: bool

    def matches(self, token: str) -> bool:
        if self.prefix:
            return token.startswith(self.word)
        if token == self.word:
            return True
        # Plurals and third-person verbs: "neighbour" matches "neighbours", "share" "shares".
        return len(self.word) > 2 and (token == self.word + "s" or token == self.word + "es")


@dataclass(frozen=True)
class Phrase:
    """A pattern like "own sm*": its words in order, up to GAP other words between them."""

    text: str
    terms: tuple[Term, ...]

    @classmethod
    def parse(cls, text: str) -> Phrase:
        terms: list[Term] = []
        for raw in text.lower().split():
            word = raw.rstrip("*")
            if not is_word(word):
                raise ValueError(f"phrase {text!r}: {raw!r} is not a plain word")
            terms.append(Term(word, raw.endswith("*")))
        if not terms:
            raise ValueError(f"phrase {text!r} has no words")
        return cls(text, tuple(terms))


# How many words may sit between the words of a phrase ("own dedicated SMs", "own slice of
# memory"). Never across a stop word such as a negation: "own, not shared" is not "own shared".
GAP = 2


def find_all(
    phrase: Phrase, toks: list[str], stops: frozenset[str], lo: int = 0, hi: int | None = None
) -> list[tuple[int, int]]:
    """Every (start, end) where `phrase` occurs in toks[lo:hi]. Linear in the range."""
    hi = len(toks) if hi is None else hi
    first = phrase.terms[0]
    found: list[tuple[int, int]] = []
    for start in range(lo, hi):
        if first.matches(toks[start]):
            end = match_at(phrase, toks, start, stops, hi)
            if end is not None:
                found.append((start, end))
    return found


def match_at(
    phrase: Phrase, toks: list[str], start: int, stops: frozenset[str], hi: int
) -> int | None:
    """Where `phrase` ends if it starts at toks[start] (its first word already matched)."""
    pos = start + 1
    for term in phrase.terms[1:]:
        hit = -1
        for j in range(pos, min(hi, pos + GAP + 1)):
            if term.matches(toks[j]):
                hit = j
                break
            if toks[j] in stops:
                break
        if hit < 0:
            return None
        pos = hit + 1
    return pos
