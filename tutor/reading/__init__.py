"""Reading the learner: each message becomes one typed Reading, in this one place.

`read(text, context)` returns a guess, a complete calculator call (every argument stated
with its words or assumed with its default), a recall or teach-back answer, a command,
a clarifying question, or a free question. `describe(reading)` is the "I read this as"
line shown to the learner before the result.
"""

from tutor.reading.reader import describe, from_proposal, guess_for_field, read, summary
from tutor.reading.types import Argument, Context, Reading, ToolCall

__all__ = [
    "Argument",
    "Context",
    "Reading",
    "ToolCall",
    "describe",
    "from_proposal",
    "guess_for_field",
    "read",
    "summary",
]
