"""Shared helpers for the gateway tests."""

from __future__ import annotations

from typing import Any


class Script:
    """What a scripted litellm provider does on each call, in order.

    Each step is a string (the reply), an exception (raised before any output),
    or a list of strings and exceptions streamed in order (an exception in the
    list breaks the stream halfway).
    """

    def __init__(self) -> None:
        self.steps: list[Any] = []
        self.calls: list[dict[str, Any]] = []

    def next(self, kw: dict[str, Any]) -> Any:
        self.calls.append(kw)
        return self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
