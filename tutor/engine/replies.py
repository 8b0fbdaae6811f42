"""The replies' bodies, composed from the plan, the calculator and the sources.

Pure functions: no model, no state. What a verdict, an outcome, a sources line or a
quoted passage says is decided here, so the wording of the truth lives in one place.
"""

from __future__ import annotations

import re
from typing import Any

from tutor.engine.events import Citation, ReadingArgument, ReadingShown, ToolRecord
from tutor.engine.numbers import first_number, normalise
from tutor.engine.plan import CalculatorKey, Step
from tutor.engine.prompts import escape_data
from tutor.reading import Reading, describe
from tutor.stopwords import STOPWORDS

SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
NUMERIC_FIELDS = frozenset(
    {"count", "max_sequences", "max_instances", "profiles", "layouts", "gpus_needed"}
)
"""Calculator answer fields whose guess is a number."""
INVITATION_WORDS = (
    "guess predict commit pick choose option letter think moment first reveal wrong fine "
    "stick learn hunch try take ready"
)
"""Words an invitation to guess may use beyond the step's own."""


MAX_MESSAGE_CHARS = 4000
MAX_MESSAGE_LINES = 100


def too_long(text: str) -> str:
    if len(text) > MAX_MESSAGE_CHARS:
        return (f"That message is {len(text):,} characters; the tutor reads at most "
                f"{MAX_MESSAGE_CHARS:,}. Shorten it and send it again.")  # fmt: skip
    lines = text.count("\n") + 1
    if lines > MAX_MESSAGE_LINES:
        return (f"That message has {lines:,} lines; the tutor reads at most {MAX_MESSAGE_LINES}. "
                "Shorten it and send it again.")  # fmt: skip
    return ""


def options_text(step: Step) -> str:
    return "\n".join(f"- **{o.key})** {o.text}" for o in step.options)


def options_hint(step: Step | None) -> str:
    if step is None or step.kind != "step":
        return ""
    if step.options:
        keys = ", ".join(o.key for o in step.options)
        return f"Commit your guess: reply with a letter ({keys})."
    return "Commit your guess: reply with a number."


def guess_hint(key: CalculatorKey) -> str:
    if key.field in ("valid", "fits"):
        return "Commit your guess: reply yes or no."
    if key.field == "profile":
        return "Commit your guess: reply with a profile name, like 2g.20gb (or none)."
    if key.field == "resource":
        return "Commit your guess: reply with a resource name, like nvidia.com/gpu."
    return "Commit your guess: reply with a number."


def reading_event(reading: Reading) -> ReadingShown | None:
    """The reading as a typed event; for calculator questions it carries the shown line."""
    call = reading.call
    return ReadingShown(
        kind=reading.kind,
        text=describe(reading) if call is not None else reading.question,
        tool=call.tool if call else None,
        arguments=call.arguments if call else {},
        stated=[ReadingArgument.model_validate(a.model_dump()) for a in reading.stated],
        assumed=[ReadingArgument.model_validate(a.model_dump()) for a in reading.assumed],
        unused=reading.unused,
        guess=reading.guess,
        command=reading.command,
        correction=reading.correction,
    )


def field_value(record: ToolRecord, field: str) -> Any:
    result = record.result
    if not isinstance(result, dict) or ("error" in result and len(result) == 1):
        return None
    if field == "max_instances" and result.get("max_instances") is None:
        counts = [p.get("max_instances") for p in result.get("profiles", [])]
        known = [c for c in counts if isinstance(c, int)]
        return max(known) if known else None
    if field in ("profiles", "layouts") and isinstance(result.get(field), list):
        return len(result[field])
    return result.get(field)


class CalcOutcome:
    def __init__(self, text: str = "", unknown: bool = False) -> None:
        self.text = text
        self.unknown = unknown


def outcome_text(key: CalculatorKey, record: ToolRecord) -> CalcOutcome:
    """What actually happened, in words: nothing fits, not valid, or not verified."""
    result = record.result if isinstance(record.result, dict) else {}
    if not result or ("error" in result and len(result) == 1):
        error = result.get("error") if result else None
        return CalcOutcome(f"The calculator could not answer this: {error or 'no result'}.", True)
    reason = result.get("reason")
    reason_text = f" {reason[0].upper()}{reason[1:]}".rstrip(".") + "." if reason else ""
    if key.tool == "mig_fit":
        if key.field == "profile" and result.get("profile") is None:
            total = result.get("total_gib")
            sizes = [c.get("memory_gib") for c in result.get("candidates", [])
                     if isinstance(c.get("memory_gib"), int | float)]  # fmt: skip
            if sizes and isinstance(total, int | float):
                short = total - max(sizes)
                return CalcOutcome(
                    f"Nothing fits: it needs {total:.2f} GiB and the largest profile has "
                    f"{max(sizes):.2f} GiB, {short:.2f} GiB short."
                )
            return CalcOutcome("Nothing fits on this GPU.")
        if key.field == "fits" and result.get("fits") is False:
            free = result.get("free_gib")
            short = f", {-free:.2f} GiB short" if isinstance(free, int | float) else ""
            return CalcOutcome(f"It does not fit: it needs {result.get('total_gib', 0):.2f} GiB"
                            f"{short}.")  # fmt: skip
        return CalcOutcome()
    value = field_value(record, key.field)
    if value is None:
        return CalcOutcome("That is not verified for this GPU, so I won't guess it." + reason_text,
                        True)  # fmt: skip
    if key.tool == "mig_check" and value is False:
        return CalcOutcome("Not valid:" + (reason_text or " the profiles cannot all be placed."))
    if key.tool == "mig_capacity" and value == 0:
        limit = result.get("limit")
        return CalcOutcome(f"None fit: {limit}." if limit else "None fit." + reason_text)
    return CalcOutcome()


def display(value: Any, unit: str, field: str = "valid") -> str:
    if isinstance(value, bool):
        # A yes/no answer in the words of its question: a layout is valid, a model fits.
        if field == "fits":
            return "yes, it fits" if value else "no, it does not fit"
        return "yes, valid" if value else "no, not valid"
    if isinstance(value, float):
        value = normalise(value)
    if value is None:
        return "none fits"
    return f"{value} {unit}".strip()


def same_answer(guess: str, value: Any, tolerance: float) -> bool:
    if isinstance(value, bool):
        return (guess == "yes") == value
    if isinstance(value, int | float):
        number = first_number(guess)
        return number is not None and abs(number - float(value)) <= tolerance
    if value is None:
        return guess == "none"
    text = str(value).lower()
    low = guess.lower()
    if text.startswith("nvidia.com/"):
        return low.removeprefix("nvidia.com/") == text.removeprefix("nvidia.com/")
    return text.split("+")[0] == low.split("+")[0] or (
        low.endswith("g") and text.startswith(low + ".")
    )


def numeric_misconception(guess: str, value: Any) -> str | None:
    number = first_number(guess)
    if not isinstance(value, int | float) or isinstance(value, bool) or number is None:
        return None
    if number < float(value):
        return "Your guess is too low."
    return "Your guess is too high."


def facts_text(record: ToolRecord) -> str:
    result = record.result
    if not isinstance(result, dict):
        return f"{record.name}: {result}"
    lines = [f"{record.name}({args(record.arguments)}):"]
    for key, value in result.items():
        if isinstance(value, str | int | float | bool) or value is None:
            lines.append(f"  {key} = {value}")
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            lines.extend(f"  {v}" for v in value)
    return "\n".join(lines)


def args(arguments: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in arguments.items())


def explain_result(key: CalculatorKey, record: ToolRecord) -> str:
    """The calculator's own account of its answer: its reason, arithmetic or notes."""
    result = record.result if isinstance(record.result, dict) else {}
    reason = result.get("reason")
    if isinstance(reason, str) and reason:
        return reason[0].upper() + reason[1:] + ("" if reason.endswith(".") else ".")
    for field in ("lines", "notes"):
        value = result.get(field)
        if isinstance(value, list) and value:
            return "\n".join(f"- {line}" for line in value if isinstance(line, str))
    basis = result.get("basis")
    return f"Placement data: {basis}." if isinstance(basis, str) and basis else ""


def passages_text(citations: list[Citation]) -> str:
    # Two short excerpts keep the prompt small: on 2 CPU cores every prompt token is
    # time before the first word. The learner still sees whole passages in the sources.
    return "\n".join(
        f"[{i}] {escape_data(c.label)}: <passage>{escape_data(clip(c.text, 320))}</passage>"
        for i, c in enumerate(citations[:2], 1)
    )


def clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " …"


def sources_line(citations: list[Citation], calculator: bool = False) -> str:
    parts = [
        f"[{i}] {c.label}" + (f" ({c.url})" if c.url else "") for i, c in enumerate(citations, 1)
    ]
    if calculator:
        parts.insert(0, "numbers: the MIG calculator (NVIDIA MIG User Guide tables)")
    return "Sources: " + "; ".join(parts) if parts else ""


def excerpt_answer(citations: list[Citation], question: str = "") -> str:
    """Quote the passage that shares most words with the question (ties keep rank order)."""
    if not citations:
        return "I don't have a source that covers that, so I won't guess."
    words = set(re.findall(r"[a-z0-9]{3,}", question.lower())) - STOPWORDS

    def overlap(c: Citation) -> int:
        text = f"{c.label} {c.text}".lower()
        return sum(1 for w in words if w in text)

    best_index = max(range(len(citations)), key=lambda i: (overlap(citations[i]), -i))
    best = citations[best_index]
    sentences = SENTENCE_END.split(best.text.strip())
    excerpt = " ".join(sentences[:2]).strip()
    return f"From {best.label} [{best_index + 1}]: {excerpt}"
