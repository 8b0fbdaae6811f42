"""Reading the learner: each message becomes one typed Reading, in this one place.

`read(text, context)` returns a guess, a complete calculator call (every argument stated
with its words or assumed with its default), a recall or teach-back answer, a command,
a clarifying question, or a free question. `describe(reading)` is the "I read this as"
line shown to the learner before the result.

The functions here defer importing the reader: it compiles a few hundred patterns and
loads the MIG catalogue, none of which the lesson's opening needs. `prepare()` does that
work ahead of the first message (the engine calls it on a background thread).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tutor.reading.types import Argument, Context, Reading, ToolCall

if TYPE_CHECKING:
    from types import ModuleType

__all__ = [
    "Argument",
    "Context",
    "Reading",
    "ToolCall",
    "describe",
    "from_proposal",
    "guess_for_field",
    "prepare",
    "read",
    "summary",
]


def _reader() -> ModuleType:
    from tutor.reading import reader

    return reader


def prepare() -> None:
    """Import the reader and its vocabulary now, so the first message reads at full speed."""
    _reader().read("how many 1g.10gb fit on an A100-80GB?")


def read(text: str, context: Context | None = None) -> Reading:
    result: Reading = _reader().read(text, context)
    return result


def describe(reading: Reading) -> str:
    """The "I read this as ..." line."""
    result: str = _reader().describe(reading)
    return result


def summary(call: ToolCall) -> str:
    """The question restated plainly, for the prediction prompt."""
    result: str = _reader().summary(call)
    return result


def guess_for_field(text: str, fld: str) -> str | None:
    """A guess at a calculator answer of this kind, or None when the text is not one."""
    result: str | None = _reader().guess_for_field(text, fld)
    return result


def from_proposal(text: str, tool: str, arguments: dict[str, object], model: str) -> Reading:
    """A tool call a hosted model proposed, validated and shown like the reader's own."""
    result: Reading = _reader().from_proposal(text, tool, arguments, model)
    return result
