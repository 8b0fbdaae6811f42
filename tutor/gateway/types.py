"""What the rest of the tutor sees of a model: plain types, no litellm."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

Message = dict[str, Any]
"""An OpenAI-style chat message: {"role": ..., "content": ..., ...}."""

SchemaT = TypeVar("SchemaT", bound=BaseModel)


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str
    """The raw JSON text the model produced; validated by the tool dispatcher."""


@dataclass
class Chunk:
    """One streamed piece of a reply: text, and tool calls once they are complete."""

    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    notes: list[str] = field(default_factory=list)
    """On the last chunk: what the gateway refused (an oversized tool call), in plain words."""


class GatewayError(Exception):
    """A model call failed for good: names the model, what happened and what to try."""

    def __init__(self, model: str, what: str, hint: str) -> None:
        from tutor.redact import clean

        # Providers echo keys and control codes in their messages; none may reach a
        # terminal, a log or a results file, so every error is cleaned where it is made.
        self.model = model
        self.what = _one_line(clean(what))
        self.hint = _one_line(clean(hint))
        super().__init__(f"{model}: {self.what}. {self.hint}")


def _one_line(text: str) -> str:
    return " ".join(text.split())


class ChatModel(Protocol):
    """Anything the engine can talk to: the real gateway or a scripted fake in tests."""

    @property
    def name(self) -> str: ...

    @property
    def is_local(self) -> bool: ...

    def stream(
        self,
        messages: list[Message],
        *,
        tools: list[dict[str, Any]] | None = None,
        max_tokens: int | None = None,
    ) -> AsyncIterator[Chunk]: ...

    async def complete_json(self, messages: list[Message], schema: type[SchemaT]) -> SchemaT: ...
