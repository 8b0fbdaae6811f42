"""Counts and sizes in a learner's words: context, batch, GPUs, replicas, slots, tenants.

Each finder claims the span of the words it used, so a number is read once and a number
nobody claimed can be named back to the learner as not used. Linear-time patterns only.
"""

from __future__ import annotations

import re

from tutor.reading.vocabulary import NUMBER, Found, Mention, number_value

_K = r"(?:\s*(k|m)\b)?"

_CONTEXT = [
    # "32k context", "32K tokens", "a 128k context window", "8192-token context"
    re.compile(
        rf"(?<![\w.])({NUMBER}){_K}[\s-]*(?:tokens?\s*(?:of\s+)?)?"
        r"(?:context(?:\s+(?:window|length))?|ctx|tokens?|token\s+context|seq(?:uence)?"
        r"\s+len(?:gth)?|prompt)",
        re.I,
    ),
    # "context of 32k", "context length 32,768", "with a context window of 8k tokens"
    re.compile(
        rf"(?:context|ctx|seq(?:uence)?\s+len(?:gth)?)(?:\s+(?:window|length|size))?"
        rf"\s*(?:of|=|:|is|at)?\s*({NUMBER}){_K}(?:\s*tokens?)?",
        re.I,
    ),
]
_BARE_K = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*(k)\b(?!\s*(?:gpus?|nodes?|tenants?))", re.I)
_PER_NODE = re.compile(rf"(?<![\w.])({NUMBER})\s*(?:x\s*)?(?:[a-z]+\d+[a-z0-9-]*\s+)?"
                       r"(?:gpus?|cards?)?\s*"
                       r"(?:per|each|on\s+each|in\s+each|a)\s+(?:node|server|machine|host|box)\b",
                       re.I)  # fmt: skip
_NODE_COUNT = re.compile(
    rf"(?<![\w.])({NUMBER})\s*(?:nodes?|servers?|machines?|hosts?|boxes)\b", re.I
)
_BATCH = [
    re.compile(
        rf"(?<![\w.])({NUMBER})\s*(?:concurrent\s+|simultaneous\s+|parallel\s+)?"
        r"(?:users|requests|sequences|seqs|streams|clients|sessions|prompts|"
        r"conversations|chats)\b",
        re.I,
    ),
    re.compile(rf"batch(?:\s+size)?\s*(?:of|=|:|is)?\s*({NUMBER})\b", re.I),
    re.compile(rf"(?<![\w.])({NUMBER})\s*(?:at\s+once|concurrently|in\s+parallel)", re.I),
]
_NODES = re.compile(
    rf"(?<![\w.])({NUMBER})\s*(?:nodes?|servers?|machines?|hosts?|boxes)\s*"
    rf"(?:with|of|each\s+with|x|×|,\s*each\s+with|having)?\s*({NUMBER})\s*(?:x\s*)?"
    r"(?:[a-z0-9-]+\s+)?(?:gpus?\b|[a-z]+\d+[a-z0-9-]*)",
    re.I,
)
_GPU_COUNT = re.compile(
    rf"(?<![\w.])({NUMBER})\s*(?:x\s*|×\s*)?(?:physical\s+|nvidia\s+|whole\s+)?(?:gpus?|cards?)\b",
    re.I,
)
_REPLICAS = [
    re.compile(rf"(?<![\w.])({NUMBER})\s*(?:time[\s-]*slic(?:ing|ed)\s+)?replicas?\b", re.I),
    re.compile(
        rf"replicas?\s*(?:of|=|:|to|set\s+to|per\s+gpu\s*(?:of|=|:)?)?\s*({NUMBER})\b", re.I
    ),
    re.compile(
        rf"(?:slic(?:ed|e|ing)|split|shared|divided|cut)\s+(?:it\s+|them\s+|each\s+)?"
        rf"(?:in\s*to\s+|into\s+|in\s+)?({NUMBER})\s*(?:ways?|replicas?|slices?|pieces?|"
        r"parts?)?\b",
        re.I,
    ),
    re.compile(rf"(?<![\w.])({NUMBER})[\s-]*ways?\b", re.I),
    re.compile(r"(?<![\w.])(?:x|×)\s*(\d+)\b", re.I),
    re.compile(
        r"time[\s-]*slic\w*\s+(?:at\s+|of\s+|by\s+)?(\d{1,4})\s*(?:x|×|[\s-]*ways?)(?![\w.])",
        re.I,
    ),
    re.compile(
        rf"(?:shared\s+by|between|among)\s+({NUMBER})\s*(?:pods?|tenants?|users|"
        r"workloads?|teams?|containers?)\b",
        re.I,
    ),
]
_SLOT = re.compile(
    r"(?:(?:at|in|on|from)\s+)?(?:start(?:ing)?\s+)?(?:slot|position|index|offset)\s*"
    r"(?:#|no\.?|number)?\s*(\d{1,2})\b|(?:start(?:ing|s)?|placed|sits?|sitting)\s+(?:at|in|on|from)\s+"
    r"(?:slot\s*)?(\d{1,2})\b|@\s*(\d{1,2})\b",
    re.I,
)


def _value(token: str, scale: str | None = None, *, k: int = 1024) -> float:
    value = number_value(token)
    if scale and scale.lower() == "k":
        value *= k
    elif scale and scale.lower() == "m":
        value *= k * k
    return value


def _claim(found: Found, kind: str, value: object, m: re.Match[str]) -> bool:
    return found.add(Mention(kind, value, m.start(), m.end(), m.group(0).strip()))


def find_context(found: Found, fit_like: bool) -> None:
    for pattern in _CONTEXT:
        for m in pattern.finditer(found.text):
            _claim(found, "context", _value(m.group(1), m.group(2)), m)
    if fit_like and not found.of("context"):
        # In a fit question, "32k" on its own is a context length.
        for m in _BARE_K.finditer(found.text):
            _claim(found, "context", _value(m.group(1), m.group(2)), m)


def find_batch(found: Found) -> None:
    for pattern in _BATCH:
        for m in pattern.finditer(found.text):
            _claim(found, "batch", number_value(m.group(1)), m)


def find_gpu_counts(found: Found) -> None:
    per = _PER_NODE.search(found.text)
    nodes = _NODE_COUNT.search(found.text)
    if per and nodes and not (per.start() <= nodes.start() < per.end()):
        total = number_value(per.group(1)) * number_value(nodes.group(1))
        found.add(Mention("gpu_count", total, per.start(), per.end(), per.group(0).strip()))
        found.add(Mention("nodes", 0, nodes.start(), nodes.end(), nodes.group(0)))
    for m in _NODES.finditer(found.text):
        total = number_value(m.group(1)) * number_value(m.group(2))
        # The span stops at the second count: the GPU name after it is its own mention.
        found.add(Mention("gpu_count", total, m.start(), m.end(2), m.group(0).strip()))
    for m in _GPU_COUNT.finditer(found.text):
        _claim(found, "gpu_count", number_value(m.group(1)), m)


def gpu_count_before(found: Found, mention: Mention) -> Mention | None:
    """'4 A30s', '4x H100', 'eight H100 GPUs': a count written just before a GPU name."""
    head = found.text[max(0, mention.start - 24) : mention.start]
    m = re.search(rf"(?<![\w.])({NUMBER})\s*(?:x|×)?\s*(?:nvidia\s+)?$", head, re.I)
    if m is None:
        return None
    start = mention.start - len(head) + m.start()
    end = start + len(m.group(0).rstrip())
    if found.overlaps(start, end):
        return None
    tail = re.match(r"\s*(?:gpus?|cards?)?", found.text[mention.end : mention.end + 8], re.I)
    words = found.text[start : mention.end + (tail.end() if tail else 0)].strip()
    return Mention("gpu_count", number_value(m.group(1)), start, end, words)


def find_replicas(found: Found) -> None:
    for pattern in _REPLICAS:
        for m in pattern.finditer(found.text):
            _claim(found, "replicas", number_value(m.group(1)), m)


def find_slots(found: Found) -> None:
    for m in _SLOT.finditer(found.text):
        raw = next(g for g in m.groups() if g)
        _claim(found, "slot", int(raw), m)


_UNIT = r"\s*(?:gib|gb|g)\b"
_SIZE = re.compile(rf"(?<![\w.])({NUMBER}){_UNIT}", re.I)
_LIST = re.compile(
    rf"(?<![\w.])((?:{NUMBER}(?:{_UNIT})?\s*(?:,\s*(?:and\s+)?|\s+and\s+)){{1,20}}{NUMBER}{_UNIT})",
    re.I,
)
# An item may carry its own unit: "10gb, 20gb and 40gb" as well as "10, 20 and 40 GiB".
_LIST_ITEM = re.compile(rf"(?<![\w.])({NUMBER})(?:{_UNIT})?(?![\w.])", re.I)
_SLICES_AFTER = re.compile(rf"^\s*(?:and|with|,)?\s*({NUMBER})\s*compute\s+slices?", re.I)
_COUNT_HEAD = re.compile(
    rf"(?<![\w.])({NUMBER}|the\s+others?|the\s+rest|others)\s+(?:more\s+|other\s+)?"
    r"(?:[a-z]+\s+){0,2}?(?:(?:that\s+)?(?:each\s+)?(?:needs?|needing|of|with|using|"
    r"requiring|require|at|get|getting|want|wanting)\s+)?(?:about\s+)?$",
    re.I,
)
_TOTAL = re.compile(rf"(?<![\w.])({NUMBER})\s+(?:tenants?|workloads?|teams?|jobs?|users|pods)\b",
                    re.I)  # fmt: skip


def _slices_after(text: str, end: int) -> int | None:
    m = _SLICES_AFTER.match(text[end : end + 40])
    return int(number_value(m.group(1))) if m else None


def find_tenant_sizes(found: Found) -> list[Mention]:
    """Tenants' memory sizes, in the order stated: lists ("10, 20 and 35 GiB"), counts
    ("two tenants of 30 GiB and one of 60 GiB", "6 tenants with 40 GiB each") and
    compute slices ("20 GiB and 2 compute slices")."""
    text = found.text
    out: list[Mention] = []
    taken: list[tuple[int, int]] = []
    for m in _LIST.finditer(text):
        unit = re.search(r"(gib|gb|g)\b", m.group(0)[::-1][::-1].split()[-1], re.I)
        for item in _LIST_ITEM.finditer(m.group(0)):
            start = m.start() + item.start()
            end = m.start() + item.end()
            slices = (
                _slices_after(text, m.end())
                if end == m.start() + len(m.group(0).rstrip("gGiBb "))
                else None
            )
            out.append(Mention("tenant", (number_value(item.group(1)),
                                          unit.group(1).lower() if unit else "gib", slices),
                               start, end, item.group(0)))  # fmt: skip
        taken.append((m.start(), m.end()))
    total_m = _TOTAL.search(text)
    total = int(number_value(total_m.group(1))) if total_m else None
    singles: list[tuple[Mention, str | None]] = []
    previous_end = 0
    for m in _SIZE.finditer(text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        if any(x.kind in ("gpu", "profile", "family") and x.start <= m.start() < x.end
               for x in found.mentions):  # fmt: skip
            continue
        head = text[previous_end : m.start()]
        head = re.split(r"[,;:.]\s|\band\b", head)[-1] if head else head
        cm = _COUNT_HEAD.search(head)
        count_word = cm.group(1) if cm else None
        slices = _slices_after(text, m.end())
        unit_name = "gib" if "i" in m.group(0).lower() else "gb"
        size = (number_value(m.group(1)), unit_name, slices)
        mention = Mention("tenant", size, m.start(), m.end(), m.group(0))
        singles.append((mention, count_word))
        previous_end = m.end()
    counted = 0
    for _mention, word in singles:
        if word is None or not re.match(r"the|other", word, re.I):
            n = int(number_value(word)) if word else 1
            if word and total and n > total:
                n = 1
            counted += n if word else 1
    for mention, word in singles:
        if word is not None and re.match(r"the|other", word, re.I):
            n = max(1, (total or 0) - counted) if total else 1
        elif word is not None:
            n = int(number_value(word))
        else:
            n = 1
        out.extend([mention] * max(1, min(n, 64)))
    out.sort(key=lambda x: x.start)
    return out


_ANY_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")


def free_numbers(found: Found) -> list[str]:
    """Numbers in the message that no finder claimed (and that are not inside a name)."""
    out: list[str] = []
    for m in _ANY_DIGITS.finditer(found.text):
        if not found.overlaps(m.start(), m.end()):
            out.append(m.group(0))
    return out
