"""The words a learner uses for the calculator's arguments, found with their spans.

Every pattern here is linear in the message length: no nested quantifiers over free
text, and each scan is one pass of `finditer`. Spans matter because a number inside a
name ("A100", "1g.10gb", "Qwen2.5-7B") is part of that name, never a count.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

from tutor.mig.catalogue import Gpu, catalogue, gpus, normalise

MAX_DIGITS = 12
"""Longer runs of digits are refused before int(): nothing the calculator takes is that big."""

_WORD_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "single": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "sixteen": 16, "twenty": 20, "thirty": 30, "sixty-four": 64, "hundred": 100,
    "a couple of": 2, "a pair of": 2, "a dozen": 12, "dozen": 12,
}  # fmt: skip
_NUMBER_WORD = "|".join(sorted((w for w in _WORD_NUMBERS if w not in ("a", "an")), key=len,
                               reverse=True))  # fmt: skip
NUMBER = rf"(?:\d[\d,]*(?:\.\d+)?(?:e\d{{1,3}})?|{_NUMBER_WORD})"


class TooLarge(ValueError):
    """A number past anything the calculator accepts; the message names the range."""


def number_value(token: str) -> float:
    """'32,768' -> 32768, 'seven' -> 7, '1e12' -> 1e12; refuses absurd digit runs."""
    t = token.strip().lower()
    if t in _WORD_NUMBERS:
        return float(_WORD_NUMBERS[t])
    digits = t.replace(",", "")
    mantissa = digits.split("e", 1)[0]
    if len(mantissa.replace(".", "")) > MAX_DIGITS:
        raise TooLarge(f"{len(mantissa)}-digit number")
    return float(digits)


@dataclass(frozen=True)
class Mention:
    kind: str
    value: Any
    start: int
    end: int
    words: str


@dataclass
class Found:
    """What the scan found in one message, by kind, in order of appearance."""

    text: str
    mentions: list[Mention] = field(default_factory=list)

    def of(self, kind: str) -> list[Mention]:
        return [m for m in self.mentions if m.kind == kind]

    def first(self, kind: str) -> Mention | None:
        return next((m for m in self.mentions if m.kind == kind), None)

    def covered(self, start: int, end: int) -> bool:
        return any(m.start <= start and end <= m.end for m in self.mentions)

    def overlaps(self, start: int, end: int) -> bool:
        return any(m.start < end and start < m.end for m in self.mentions)

    def add(self, mention: Mention) -> bool:
        if self.overlaps(mention.start, mention.end):
            return False
        self.mentions.append(mention)
        self.mentions.sort(key=lambda m: m.start)
        return True


# ---------------------------------------------------------------- GPUs


def _flexible(name: str) -> str:
    """A catalogue name as a pattern that allows any spacing, dash or underscore between
    its letter and digit runs: 'H100-80GB' matches 'h100 80gb', 'H100 80 GB', 'h10080gb'."""
    chunks = re.findall(r"[a-z]+|\d+", name.lower())
    return r"[\s_\-/().]*".join(re.escape(c) for c in chunks)


_VARIANT_WORD = re.compile(
    r"^(?:\d+gb|sxm\d*|pcie|nvl|hbm\d*e?|blackwell|server|workstation|max|"
    r"edition|\d+gb.*)$"
)


def _family(name: str) -> str:
    """'H100-96GB-GH200' -> 'h100', 'RTX PRO 6000 Blackwell' -> 'rtxpro6000'."""
    words = [w for w in re.split(r"[\s_\-]+", name.lower()) if w and w not in ("nvidia", "hgx")]
    kept: list[str] = []
    for w in words:
        if _VARIANT_WORD.match(w):
            break
        kept.append(w)
    return normalise("".join(kept))


@functools.cache
def _gpu_patterns() -> tuple[
    re.Pattern[str], dict[str, str], re.Pattern[str], dict[str, list[str]]
]:
    """One alternation of every alias (longest first) and one of the bare family names."""
    alias_to_id: dict[str, str] = {}
    families: dict[str, list[str]] = {}
    for g in gpus():
        for name in (g.id, *g.aliases):
            key = normalise(name)
            alias_to_id.setdefault(key, g.id)
            fam = _family(name)
            if len(fam) >= 2 and re.search(r"\d", fam):
                ids = families.setdefault(fam, [])
                if g.id not in ids:
                    ids.append(g.id)
    bare = (
        re.sub(r"^nvidia[\s_-]*", "", n, flags=re.I) for g in gpus() for n in (g.id, *g.aliases)
    )
    aliases = sorted({normalise(n): n for n in bare}.values(),
                     key=lambda n: -len(normalise(n)))  # fmt: skip
    alias_re = re.compile(
        r"(?<![a-z0-9])(?:nvidia[\s_-]*)?(?:" + "|".join(_flexible(a) for a in aliases)
        + r")(?:s\b|(?![a-z0-9]))", re.I,
    )  # fmt: skip
    fams = sorted(families, key=len, reverse=True)
    family_re = re.compile(
        r"(?<![a-z0-9])(?:nvidia[\s_-]*)?(" + "|".join(_flexible(f) for f in fams)
        + r")(?:s\b|(?![a-z0-9]))", re.I,
    )  # fmt: skip
    return alias_re, alias_to_id, family_re, families


# GPUs a learner may name that the catalogue has no MIG data for.
NO_MIG = re.compile(
    r"(?<![a-z0-9])(t4|v100|p100|p40|k80|l4|l40s?|a10g?|a16|a40|a2|a6000|rtx\s*a6000|"
    r"rtx\s*[2-5]0[6-9]0(?:\s*ti)?|rtx\s*6000\s*ada|mi300x?|mi250x?|gaudi\s*\d?|tpu\s*v?\d*)"
    r"(?:s\b|(?![a-z0-9]))",
    re.I,
)
_MEMORY = re.compile(
    r"(?<![\w.])(\d{2,3})\s*(?:gb|gib|gigs?|gigabytes?|g)\b(?!\s*(?:of|per|each|for)\b)", re.I
)


def find_gpus(found: Found) -> None:
    """GPU names, family names and stray memory sizes ('the 94GB one')."""
    alias_re, alias_to_id, family_re, families = _gpu_patterns()
    text = found.text
    for m in alias_re.finditer(text):
        key = normalise(m.group(0))
        # "A100s": the plural s is not part of the name.
        gpu_id = alias_to_id.get(key) or alias_to_id.get(key[:-1])
        if gpu_id is not None:
            found.add(Mention("gpu", gpu_id, m.start(), m.end(), m.group(0).strip()))
    for m in family_re.finditer(text):
        if found.overlaps(m.start(), m.end()):
            continue
        fam = normalise(m.group(1))
        ids = families.get(fam)
        if ids:
            found.add(Mention("family", tuple(ids), m.start(), m.end(), m.group(0).strip()))
    for m in NO_MIG.finditer(text):
        if not found.overlaps(m.start(), m.end()):
            found.add(Mention("no_mig", m.group(1).upper(), m.start(), m.end(), m.group(0)))


def find_memory_sizes(found: Found) -> None:
    for m in _MEMORY.finditer(found.text):
        if not found.overlaps(m.start(), m.end()):
            found.add(Mention("memory", int(m.group(1)), m.start(), m.end(), m.group(0)))


def resolve_family(ids: tuple[str, ...], memory: int | None) -> list[Gpu]:
    cands = [g for g in gpus() if g.id in ids]
    if memory is not None:
        sized = [g for g in cands if g.memory_gb is not None and round(g.memory_gb) == memory]
        if sized:
            return sized
    return cands


# ---------------------------------------------------------------- profiles

_PROFILE = re.compile(
    r"(?<![\w.])(\d)\s*g(?:\s*\.\s*|\s+)?(\d{1,3})\s*gb((?:\s*[+.\-]\s*(?:me|gfx|all))*)"
    r"|(?<![\w.])(\d)g(?![\w.])",
    re.I,
)


def find_profiles(found: Found) -> None:
    for m in _PROFILE.finditer(found.text):
        if found.overlaps(m.start(), m.end()):
            continue
        if m.group(4):
            raw = f"{m.group(4)}g"
        else:
            suffix = re.sub(r"\s+", "", m.group(3) or "").lower()
            raw = f"{m.group(1)}g.{m.group(2)}gb{suffix}"
        found.add(Mention("profile", raw, m.start(), m.end(), m.group(0).strip()))


# ---------------------------------------------------------------- models


@functools.cache
def _model_pattern() -> tuple[re.Pattern[str], dict[str, str]]:
    names = sorted(catalogue().models, key=len, reverse=True)
    by_key = {normalise(n): n for n in names}
    pattern = re.compile(
        r"(?<![a-z0-9])(?:meta[\s_-]*)?(" + "|".join(_flexible(n) for n in names) + r")"
        r"(?:[\s_-]*(?:instruct|chat|base|it))?(?![a-z0-9])",
        re.I,
    )
    return pattern, by_key


def find_models(found: Found) -> None:
    pattern, by_key = _model_pattern()
    for m in pattern.finditer(found.text):
        name = by_key.get(normalise(m.group(1)))
        if name and not found.overlaps(m.start(), m.end()):
            found.add(Mention("model", name, m.start(), m.end(), m.group(0).strip()))


# ---------------------------------------------------------------- precisions

_DTYPE = re.compile(
    r"(?<![\w.])(fp32|float32|full\s+precision|bf16|bfloat16|fp16|float16|half[\s-]*precision|"
    r"fp8|float8|e4m3|int8|w8a8|8[\s-]*bits?|q8(?:_0)?|int4|w4a16|4[\s-]*bits?|awq|gptq|nf4|"
    r"q4(?:_k(?:_[ms])?|_0)?)(?![\w])",
    re.I,
)
_DTYPE_MAP = {
    "fp32": "fp32", "float32": "fp32", "fullprecision": "fp32", "bf16": "bf16",
    "bfloat16": "bf16", "fp16": "fp16", "float16": "fp16", "halfprecision": "fp16",
    "fp8": "fp8", "float8": "fp8", "e4m3": "fp8", "int8": "int8", "w8a8": "int8",
    "8bit": "int8", "8bits": "int8", "q8": "int8", "q80": "int8", "int4": "int4",
    "w4a16": "int4", "4bit": "int4", "4bits": "int4", "awq": "int4", "gptq": "int4",
    "nf4": "int4",
}  # fmt: skip


def dtype_of(word: str) -> str:
    key = re.sub(r"[\s_-]", "", word.lower())
    if key.startswith("q4"):
        return "int4"
    return _DTYPE_MAP[key]


_KV_WORD = re.compile(r"\b(kv|k/v|key[\s-]*value|cache)\b", re.I)
_KV_AFTER = re.compile(r"^\s*(?:kv|k/v|key[\s-]*value)\b|^\s*(?:kv\s*)?cache\b", re.I)
_KV_BEFORE = re.compile(r"(?:kv|k/v|key[\s-]*value)(?:[\s-]*cache)?\s*"
                        r"(?:in|at|as|of|=|:|is|dtype)?\s*$|"
                        r"cache\s*(?:in|at|as|of|=|:|is|dtype)\s*$", re.I)  # fmt: skip
_WEIGHT_WORD = re.compile(r"\b(weights?|model|quanti[sz]ed|params?|parameters)\b", re.I)


def find_dtypes(found: Found) -> None:
    text = found.text
    [m.start() for m in _KV_WORD.finditer(text)]
    [m.start() for m in _WEIGHT_WORD.finditer(text)]
    for m in _DTYPE.finditer(text):
        if found.overlaps(m.start(), m.end()):
            continue
        value = dtype_of(m.group(1))
        after = text[m.end() : m.end() + 16]
        before = text[max(0, m.start() - 24) : m.start()]
        # A precision belongs to the KV cache only when it labels it: "fp8 KV cache",
        # "KV cache in fp8", "kv=fp8". Anything else is the weights'.
        kv = bool(_KV_AFTER.match(after) or _KV_BEFORE.search(before))
        kind = "kv_dtype" if kv else "weights_dtype"
        found.add(Mention(kind, value, m.start(), m.end(), m.group(0)))
