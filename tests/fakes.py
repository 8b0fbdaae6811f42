"""A scripted stand-in for a model, shared by the engine, CLI and eval tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from pydantic import BaseModel

from tutor.gateway.types import Chunk, GatewayError, Message, SchemaT, ToolCall


class ScriptedModel:
    """Answers each prompt with `reply(prompt_text)`, streamed word by word.

    `fail_after` makes the stream break after that many chunks, like a provider that
    drops the connection halfway.
    """

    def __init__(
        self,
        reply: Callable[[str], str] | str = "Take a moment and commit your guess.",
        *,
        fail_after: int | None = None,
        name: str = "fake/scripted",
        local: bool = True,
        tool_calls: list[ToolCall] | None = None,
    ) -> None:
        self._reply = reply if callable(reply) else (lambda _prompt, text=reply: text)
        self.fail_after = fail_after
        self._name = name
        self._local = local
        self.prompts: list[str] = []
        self.tool_calls = tool_calls or []
        self.offered_tools: list[list[dict[str, Any]]] = []

    @property
    def name(self) -> str:
        return self._name

    @property
    def is_local(self) -> bool:
        return self._local

    async def stream(
        self,
        messages: list[Message],
        *,
        tools: list[dict[str, Any]] | None = None,
        max_tokens: int | None = None,
    ) -> AsyncIterator[Chunk]:
        prompt = "\n".join(str(m.get("content", "")) for m in messages)
        self.prompts.append(prompt)
        if tools:
            self.offered_tools.append(tools)
            if self.tool_calls:
                yield Chunk(tool_calls=list(self.tool_calls), finish_reason="tool_calls")
                return
        text = self._reply(prompt)
        for i, word in enumerate(text.split(" ")):
            if self.fail_after is not None and i >= self.fail_after:
                raise GatewayError(self._name, "the stream broke halfway", "try again")
            yield Chunk(text=word + " ")

    async def complete_json(self, messages: list[Message], schema: type[SchemaT]) -> SchemaT:
        prompt = "\n".join(str(m.get("content", "")) for m in messages)
        return schema.model_validate_json(self._reply(prompt))


def by_template(**replies: str) -> Callable[[str], str]:
    """Pick a reply by a marker that only one prompt template contains."""
    markers = {
        "ask": "The learner must guess before",
        "reveal": "The learner guessed:",
        "recall": "Recall question:",
        "teach_back": "Teach-back:",
        "free": "Answer from these sources only",
    }

    def reply(prompt: str) -> str:
        for name, marker in markers.items():
            if marker.lower() in prompt.lower() and name in replies:
                return replies[name]
        return replies.get("default", "Good.")

    return reply


__all__ = ["BaseModel", "ScriptedModel", "by_template"]
