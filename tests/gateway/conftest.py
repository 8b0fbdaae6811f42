"""Gateway tests: isolated home/config, offline switches, instant backoff, scripted providers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from gateway_helpers import Script


@pytest.fixture(autouse=True)
def _keys(no_provider_keys: Path) -> Path:
    return no_provider_keys


@pytest.fixture
def script() -> Iterator[Script]:
    """Register litellm custom provider ``scripted`` driven by a Script."""
    from tutor.gateway.gateway import _litellm

    litellm = _litellm()
    from litellm.llms.custom_llm import CustomLLM
    from litellm.types.utils import GenericStreamingChunk

    state = Script()

    def chunk(text: str, done: bool = False) -> GenericStreamingChunk:
        return GenericStreamingChunk(
            text=text,
            tool_use=None,
            is_finished=done,
            finish_reason="stop" if done else "",
            usage=None,
            index=0,
        )

    class Scripted(CustomLLM):  # type: ignore[misc]
        async def acompletion(self, *args: Any, **kw: Any) -> Any:
            step = state.next(kw)
            if isinstance(step, BaseException):
                raise step
            assert isinstance(step, str)
            return litellm.ModelResponse(
                choices=[{"index": 0, "message": {"role": "assistant", "content": step}}]
            )

        async def astreaming(self, *args: Any, **kw: Any) -> AsyncIterator[Any]:  # type: ignore[override]
            step = state.next(kw)
            if isinstance(step, BaseException):
                raise step
            pieces = step if isinstance(step, list) else [step]
            for piece in pieces:
                if isinstance(piece, BaseException):
                    raise piece
                yield chunk(piece)
            yield chunk("", done=True)

    handler = Scripted()
    before = list(litellm.custom_provider_map)
    litellm.custom_provider_map = [*before, {"provider": "scripted", "custom_handler": handler}]
    try:
        yield state
    finally:
        litellm.custom_provider_map = before
