"""Deterministic checks on what the model wrote: the reveal gate and grounded numbers.

Over 400 lines: every guard reads the same answer key; keeping them together keeps the
gate's rules in one place to review.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING

from tutor.engine.numbers import numbers_in

if TYPE_CHECKING:
    from tutor.engine.plan import Step


@dataclass(frozen=True)
class AnswerKey:
    """What must stay hidden until the learner commits a guess."""

    option_key: str | None = None
    option_text: str | None = None
    number: str | None = None
    phrases: tuple[str, ...] = ()
    shown_text: str = ""
    """The question and options as shown; a number or phrase already there is no leak."""
    options: tuple[tuple[str, str], ...] = ()
    """Every option as (key, text), in the order shown; read from shown_text when empty."""
    question: str = ""
    """The question alone; read from shown_text (its lines before the options) when empty."""


# An option line as the engine shows it ("- **B)** Splits it ...") or as a plan writes it.
_OPTION_LINE = re.compile(r"^[ \t]*(?:[-*][ \t]*)?\**\(?([A-Z])[).:]\**[ \t]+(\S.*)$", re.M)

_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")
_ORDINAL_DIGITS = ("1st", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th")
_CARDINALS = ("one", "two", "three", "four", "five", "six", "seven", "eight")
_OPTION_NOUN = r"(?:option|choice|answer|alternative|bullet|item|pick|one)"

# Words that point at an option without a letter: "it's B", "go for B", "option B".
_LETTER_CONTEXT = (
    r"(?i:\b(?:it'?s|it\s+is|that'?s|that\s+is|go\s+for|go\s+with|going\s+with|pick|picking"
    r"|choose|choosing|select|take|answer(?:\s+is)?|option|choice|letter|try|say|bet\s+on"
    r"|is\s+it|maybe|perhaps|how\s+about|what\s+about|consider))"
)
_VERDICT_AFTER = (
    r"(?i:\s+(?:is|'s|looks|seems)\s+(?:the\s+)?(?:right|correct|answer|one|best|it|true|"
    r"winner|way\s+to\s+go)\b|\s+wins\b|\s+all\s+the\s+way\b)"
)

# Evaluative words that make "the option that is most fair" lean toward one option.
# Correctness words (right, correct, true, best) restate the task and stay neutral.
_EVALUATIVE = re.compile(
    r"^(?:most|least|more|less|better|worse|fair\w*|safe\w*|simpl\w*|eas(?:y|ier|iest)|"
    r"obvious\w*|clear\w*|sensibl\w*|reasonabl\w*|natural\w*|intuitiv\w*|logical\w*|"
    r"flexib\w*|efficien\w*|fast\w*|balanc\w*|smart\w*|wis(?:e|er|est)|ideal\w*|strong\w*|"
    r"sound|solid|good|great|nice|appealing|tempting|promising|sensible|likeliest|"
    r"(?!(?:inter|sugg|requ|hon|lat|gu|manif|dig|cont|prot|for|inv|mod|arr|qu|harv|r|t|b|w|n|"
    r"ch|l|p|v|z|j)est$)[a-z]{2,}est)$"
)
_NEUTRAL_ONE_BEFORE = frozenset({"the", "which", "this", "that", "each", "every", "an", "a"})

_STOP = frozenset(
    re.findall(
        r"[a-z]+",
        """the and for its own you your are can not but all any one has had was get got use
        way why how who out per via yet too now new old few her his our may each with from
        that this into than then them they their there these those which what when where
        while will would could should about being very more most much many some such here
        does make makes made only just also because between every still other another same
        take moment think guess pick option options choice let like need example give
        keep want""",
    )
)

_WORD = re.compile(r"[a-z0-9]+")

# Model sentences, passages and questions are far shorter; a longer text is refused
# unread (it fails closed), which keeps every check's time bounded whatever arrives.
MAX_CHECKED_CHARS = 20_000


def _too_long(text: str) -> str | None:
    if len(text) > MAX_CHECKED_CHARS:
        return f"is too long to check ({len(text)} characters, over {MAX_CHECKED_CHARS})"
    return None


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _content(text: str) -> set[str]:
    """Content-word stems: long enough, or glued to digits (l2, 7g, 27b), and not stopwords."""
    out: set[str] = set()
    for word in _WORD.findall(text.lower()):
        if word in _STOP or (len(word) < 3 and not any(c.isdigit() for c in word)):
            continue
        if word.isdigit():
            continue  # bare numbers are the number guard's business
        stem = _stem(word)
        if stem not in _STOP:
            out.add(stem)
    return out


def step_key(step: Step, number: str | None = None) -> AnswerKey:
    """The answer key of an options step, with every option, for the guards below."""
    right = step.correct_option
    options = tuple((o.key, o.text) for o in step.options)
    shown = "\n".join([step.question, *(f"- **{k})** {t}" for k, t in options)])
    return AnswerKey(
        option_key=right.key if right else None,
        option_text=right.text if right else None,
        number=number,
        phrases=tuple(step.key_phrases),
        shown_text=shown,
        options=options,
        question=step.question,
    )


def key_options(key: AnswerKey) -> list[tuple[str, str]]:
    """The options as (key, text) in order: given, or read from the text shown."""
    if key.options:
        return list(key.options)
    found = [(m.group(1), m.group(2).strip()) for m in _OPTION_LINE.finditer(key.shown_text)]
    keys = [k for k, _ in found]
    if key.option_key and key.option_key not in keys and key.option_text:
        found.append((key.option_key, key.option_text))
    return found


def _question(key: AnswerKey) -> str:
    if key.question:
        return key.question
    first = _OPTION_LINE.search(key.shown_text)
    return key.shown_text[: first.start()] if first else key.shown_text


def distinctive_words(key: AnswerKey) -> dict[str, set[str]]:
    """For each option, the content words no other option and not the question uses.

    Echoing one of these points at that option: "fair" is option C's word at step 2.
    """
    return {k: set(v) for k, v in _distinctive(key).items()}


@lru_cache(maxsize=64)
def _distinctive(key: AnswerKey) -> dict[str, frozenset[str]]:
    options = key_options(key)
    words = {k: _content(text) for k, text in options}
    asked = _content(_question(key))
    out: dict[str, frozenset[str]] = {}
    for k, mine in words.items():
        others: set[str] = set()
        for other, theirs in words.items():
            if other != k:
                others |= theirs
        out[k] = frozenset(mine - others - asked)
    return out


def _position(key: AnswerKey, letter: str) -> tuple[int, int]:
    keys = [k for k, _ in key_options(key)]
    if letter in keys:
        return keys.index(letter), len(keys)
    return max(0, ord(letter) - ord("A")), max(len(keys), ord(letter) - ord("A") + 1)


def _names_letter(text: str, letter: str) -> bool:
    """The option's letter used as a choice, not as a word: "it's B", "**B**", "B is right"."""
    pattern = _letter_pattern(letter)
    return pattern is not None and pattern.search(text) is not None


@lru_cache(maxsize=32)
def _letter_pattern(letter: str) -> re.Pattern[str] | None:
    if not re.fullmatch(r"[A-Z]", letter):
        return None
    l_ = re.escape(letter)
    patterns = (
        rf"{_LETTER_CONTEXT}\W{{0,3}}\(?\**\(?{l_}\b(?!['’]s\b|-)",
        rf"\*\*\(?{l_}\)?[.)]?\*\*",
        rf"(?<![A-Za-z])\({l_}\)",
        rf"(?<![A-Za-z(])\(?{l_}\)\s",
        rf"\b{l_}\b\)?{_VERDICT_AFTER}",
        rf"^\W*{l_}\W*$",
    )
    return re.compile("|".join(f"(?:{p})" for p in patterns))


def _names_position(text: str, index: int, count: int) -> bool:
    """The option's place used as a choice: "the second option", "option two", "the last one"."""
    words = []
    if index < len(_ORDINALS):
        words += [_ORDINALS[index], _ORDINAL_DIGITS[index]]
    if index == 0:
        words.append("top")
    if count and index == count - 1:
        words += ["last", "final", "bottom"]
    if words:
        ordinal = "|".join(words)
        if re.search(rf"(?i)\b(?:{ordinal})\W+(?:\w+\W+)?{_OPTION_NOUN}\b", text):
            return True
    if index < len(_CARDINALS):
        cardinal = f"{_CARDINALS[index]}|{index + 1}"
        if re.search(rf"(?i)\b(?:option|choice|answer|number|no\.?)\s*#?\s*(?:{cardinal})\b", text):
            return True
    return False


def leaks(reply: str, key: AnswerKey) -> str | None:
    """Return why the reply gives the answer away, or None when it is safe.

    Used on model sentences, quoted passages and free answers alike: it cuts what names
    the right option (by letter, position or wording) or settles the option's claims.
    """
    too_long = _too_long(reply)
    if too_long:
        return too_long
    low = reply.lower()
    shown = key.shown_text.lower()
    if key.number is not None and key.number in numbers_in(reply) - numbers_in(key.shown_text):
        return f"states the answer {key.number}"
    for phrase in key.phrases:
        if phrase.lower() in low and phrase.lower() not in shown:
            return f"uses the key phrase '{phrase}'"
    if key.option_text:
        # A long enough stretch of the right option's wording singles it out.
        words = _WORD.findall(key.option_text.lower())
        said = " " + " ".join(_WORD.findall(low)) + " "
        for i in range(max(0, len(words) - 4)):
            if " " + " ".join(words[i : i + 5]) + " " in said:
                return "repeats the right option's wording"
    if key.option_key:
        if _names_letter(reply, key.option_key):
            return f"points at option {key.option_key}"
        index, count = _position(key, key.option_key)
        if _names_position(reply, index, count):
            return f"points at option {key.option_key} by its place"
        if key_options(key):
            own = _distinctive(key).get(key.option_key, frozenset())
            echoed = own & _content(reply)
            if len(echoed) >= 2:
                return f"settles option {key.option_key}'s claims ({', '.join(sorted(echoed))})"
    if re.search(r"\b(the (right|correct) answer|the answer is)\b", low):
        return "announces an answer"
    return None


def _leaning_words(sentence: str) -> str | None:
    """An option referred to with an evaluative word: "the option that is the most fair"."""
    tokens = _WORD.findall(sentence.lower())
    nouns = [
        i
        for i, t in enumerate(tokens)
        if re.fullmatch(_OPTION_NOUN, t)
        and (t != "one" or (i > 0 and tokens[i - 1] in _NEUTRAL_ONE_BEFORE))
    ]
    for i in nouns:
        for j in range(max(0, i - 4), min(len(tokens), i + 5)):
            if j != i and _EVALUATIVE.match(tokens[j]):
                return f"calls an option '{tokens[j]}'"
    return None


def leans(sentence: str, key: AnswerKey) -> str | None:
    """Why a sentence shown before a guess leans toward ANY option, right or wrong, or None.

    An invitation to guess must not point anywhere: not by letter or place, not by
    calling an option the fair or safe one, not by echoing an option's own words.
    """
    too_long = _too_long(sentence)
    if too_long:
        return too_long
    options = key_options(key)
    for letter, _text in options:
        if _names_letter(sentence, letter):
            return f"points at option {letter}"
        index, count = _position(key, letter)
        if _names_position(sentence, index, count):
            return f"points at option {letter} by its place"
    leaning = _leaning_words(sentence)
    if leaning and options:
        return leaning
    said = _content(sentence)
    for letter, words in _distinctive(key).items():
        echoed = words & said
        if echoed:
            return f"echoes option {letter}'s words ({', '.join(sorted(echoed))})"
    return None


def note_leaks(sentence: str, key: AnswerKey) -> str | None:
    """The check for a model sentence shown while a guess is pending: leaks, then leans."""
    return leaks(sentence, key) or leans(sentence, key)


def settles_pending(question: str, key: AnswerKey) -> str | None:
    """Why a free question would settle the pending step if answered now, or None.

    "Does MIG give each instance its own SMs and L2 cache?" at step 1 asks for the right
    option's claims to be confirmed, and "What does MIG do to an H100?" asks the pending
    question itself: answer them after the reveal. A question about a wrong option's
    idea does not settle which option is right, and is answered.
    """
    too_long = _too_long(question)
    if too_long:
        return too_long
    low = question.lower()
    shown = key.shown_text.lower()
    for phrase in key.phrases:
        if phrase.lower() in low and phrase.lower() not in shown:
            return f"asks about the key phrase '{phrase}'"
    said = _content(question)
    asked = _content(_question(key))
    if len(said) >= 2 and len(said & asked) >= 0.6 * len(said):
        return "asks the pending question itself"
    if key.option_key:
        echoed = _distinctive(key).get(key.option_key, frozenset()) & said
        if len(echoed) >= 2:
            return f"asks about the right option's claims ({', '.join(sorted(echoed))})"
        if _names_letter(question, key.option_key):
            return "asks about the right option by its letter"
    return None


PENDING_REPLY = "That's what you're predicting now: commit a guess first."
"""What a free question that would settle the pending step gets instead of an answer."""


def withhold_passage(
    text: str,
    key: AnswerKey | None,
    *,
    added: bool = False,
    later: tuple[AnswerKey, ...] | list[AnswerKey] = (),
) -> str | None:
    """Why a passage must not be shown, quoted or given to the model right now, or None.

    While a guess is pending nothing from a learner-added document is quoted: it is
    untrusted text that may say "it's B". Other passages are held back when they leak the
    pending answer, or the answer of any step not yet revealed (`later`, one key each).
    """
    if key is not None:
        if added:
            return "an added document is not quoted while a guess is pending"
        why = leaks(text, key)
        if why:
            return why
    for other in later:
        # a bare number (MIG's "seven") gives no later step away out of its context
        why = leaks(text, replace(other, number=None))
        if why:
            return f"a later step's answer: {why}"
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
