"""Gateway over litellm with mock responses and scripted providers (no model, no network)."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from gateway_helpers import Script
from pydantic import BaseModel, Field

from tutor.gateway.gateway import Gateway, backoff_delay
from tutor.gateway.types import ChatModel, Chunk, GatewayError, ToolCall
from tutor.settings import ModelSettings

HI = [{"role": "user", "content": "hi"}]
CALC_TOOL = {
    "type": "function",
    "function": {
        "name": "calc",
        "description": "MIG arithmetic",
        "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}},
    },
}


def _litellm() -> Any:
    from tutor.gateway.gateway import _litellm as load

    return load()


def hosted(extra: dict[str, Any] | None = None, **settings: Any) -> Gateway:
    return Gateway(ModelSettings(name="openai/gpt-4o-mini", **settings), extra=extra)


async def collect(gateway: Gateway, **kw: Any) -> list[Chunk]:
    return [c async for c in gateway.stream(HI, **kw)]


def test_gateway_is_a_chat_model() -> None:
    gateway: ChatModel = hosted()
    assert gateway.name == "openai/gpt-4o-mini"
    assert gateway.is_local is False
    assert Gateway(ModelSettings()).is_local is True


async def test_stream_yields_text_then_finish() -> None:
    chunks = await collect(hosted({"mock_response": "Commit a guess first."}))
    assert "".join(c.text for c in chunks) == "Commit a guess first."
    assert len(chunks) > 2, "text should arrive in several deltas"
    assert chunks[-1].finish_reason == "stop"
    assert all(c.finish_reason is None for c in chunks[:-1])


async def test_complete_joins_stream() -> None:
    gateway = hosted({"mock_response": "Seven slices."})
    assert await gateway.complete(HI) == "Seven slices."


async def test_tool_calls_are_assembled_and_emitted_complete() -> None:
    litellm = _litellm()
    calls = [
        {"id": "c1", "type": "function", "function": {"name": "calc", "arguments": '{"a": 1}'}},
        {"id": "c2", "type": "function", "function": {"name": "calc", "arguments": '{"a": 2}'}},
    ]
    # mock_tool_calls shapes a non-streamed reply; as mock_response litellm streams it
    reply = litellm.completion(
        model="openai/gpt-4o-mini", messages=HI, mock_response="", mock_tool_calls=calls
    )
    chunks = await collect(hosted({"mock_response": reply}), tools=[CALC_TOOL])
    last = chunks[-1]
    assert last.tool_calls == [
        ToolCall(id="c1", name="calc", arguments='{"a": 1}'),
        ToolCall(id="c2", name="calc", arguments='{"a": 2}'),
    ]
    assert last.finish_reason == "tool_calls"
    assert all(not c.tool_calls for c in chunks[:-1])


def test_tool_fragments_merge_by_index() -> None:
    from types import SimpleNamespace as NS

    from tutor.gateway.gateway import _add_fragment, _ToolCallParts

    parts: dict[int, _ToolCallParts] = {}
    for frag in [
        NS(index=0, id="a", function=NS(name="calc", arguments='{"a"')),
        NS(index=1, id="b", function=NS(name="other", arguments="{}")),
        NS(index=0, id=None, function=NS(name=None, arguments=": 4}")),
    ]:
        _add_fragment(parts, frag)
    assert parts[0].name == "calc" and "".join(parts[0].arguments) == '{"a": 4}'
    assert parts[1].id == "b"


async def test_rate_limit_is_retried_with_backoff_then_raised(sleeps: list[float]) -> None:
    litellm = _litellm()
    error = litellm.RateLimitError("slow down", "openai", "gpt-4o-mini")
    gateway = hosted({"mock_response": error}, retries=3)
    with pytest.raises(GatewayError) as info:
        await collect(gateway)
    assert len(sleeps) == 3
    assert sleeps[0] < sleeps[1] < sleeps[2], "backoff grows"
    assert info.value.model == "openai/gpt-4o-mini"
    assert "rate limited" in info.value.what and "tried 4 times" in info.value.what


async def test_timeout_is_retried_and_explained(sleeps: list[float]) -> None:
    litellm = _litellm()
    error = litellm.Timeout("took too long", "gpt-4o-mini", "openai")
    gateway = hosted({"mock_response": error}, retries=1, timeout_s=7)
    with pytest.raises(GatewayError) as info:
        await collect(gateway)
    assert len(sleeps) == 1
    assert "no answer within 7s" in info.value.what
    assert "timeout_s" in info.value.hint


async def test_auth_error_is_not_retried_and_names_the_env_var(sleeps: list[float]) -> None:
    litellm = _litellm()
    error = litellm.AuthenticationError("bad key", "openai", "gpt-4o-mini")
    with pytest.raises(GatewayError) as info:
        await collect(hosted({"mock_response": error}))
    assert sleeps == []
    assert "OPENAI_API_KEY" in info.value.hint


async def test_retry_recovers_before_any_output(script: Script, sleeps: list[float]) -> None:
    litellm = _litellm()
    script.steps = [
        litellm.ServiceUnavailableError("down", "scripted", "m"),
        litellm.RateLimitError("busy", "scripted", "m"),
        ["Hello ", "again."],
    ]
    gateway = Gateway(ModelSettings(name="scripted/m", retries=2))
    assert await gateway.complete(HI) == "Hello again."
    assert len(script.calls) == 3 and len(sleeps) == 2


async def test_stream_broken_halfway_is_not_resent(script: Script, sleeps: list[float]) -> None:
    litellm = _litellm()
    script.steps = [["The answer ", "is ", litellm.APIConnectionError("reset", "scripted", "m")]]
    gateway = Gateway(ModelSettings(name="scripted/m", retries=3))
    seen: list[str] = []
    with pytest.raises(GatewayError) as info:
        async for chunk in gateway.stream(HI):
            seen.append(chunk.text)
    assert "".join(seen) == "The answer is "
    assert len(script.calls) == 1, "a partial reply must never be re-sent"
    assert sleeps == []
    assert "broke off" in info.value.what


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_connection_refused_names_the_server(sleeps: list[float]) -> None:
    base = f"http://127.0.0.1:{_closed_port()}/v1"
    gateway = Gateway(
        ModelSettings(name="openai/local-server", api_base=base, api_key="x", retries=1)
    )
    with pytest.raises(GatewayError) as info:
        await collect(gateway)
    assert len(sleeps) == 1
    assert base in info.value.hint and "running" in info.value.hint


def test_backoff_is_exponential_and_capped() -> None:
    assert 0.3 <= backoff_delay(0) <= 0.7
    assert 0.7 <= backoff_delay(1) <= 1.3
    assert backoff_delay(20) <= 10.0


class Verdict(BaseModel):
    correct: bool
    confidence: int = Field(ge=0, le=10)


async def test_complete_json_valid_first_time(script: Script) -> None:
    script.steps = ['{"correct": true, "confidence": 7}']
    result = await Gateway(ModelSettings(name="scripted/m")).complete_json(HI, Verdict)
    assert result == Verdict(correct=True, confidence=7)
    fmt = script.calls[0]["optional_params"]["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["schema"]["properties"]["confidence"]["maximum"] == 10


async def test_complete_json_retries_once_with_the_error(script: Script) -> None:
    script.steps = [
        '{"correct": true, "confidence": 42}',
        '```json\n{"correct": false, "confidence": 3}\n```',
    ]
    result = await Gateway(ModelSettings(name="scripted/m")).complete_json(HI, Verdict)
    assert result == Verdict(correct=False, confidence=3)
    second = script.calls[1]["messages"]
    assert "confidence" in second[-1]["content"]
    assert second[-2]["role"] == "assistant"


async def test_complete_json_gives_up_after_two_bad_replies(script: Script) -> None:
    script.steps = ["not json at all"]
    with pytest.raises(GatewayError) as info:
        await Gateway(ModelSettings(name="scripted/m")).complete_json(HI, Verdict)
    assert len(script.calls) == 2
    assert "Verdict" in info.value.what


async def test_a_model_stuck_in_a_loop_is_named_as_such(script: Script) -> None:
    script.steps = [["same words "] * 150]
    with pytest.raises(GatewayError) as info:
        await Gateway(ModelSettings(name="scripted/m")).complete(HI)
    assert "repeating itself" in info.value.what


def test_unknown_model_string_fails_at_warmup_with_the_fix() -> None:
    with pytest.raises(GatewayError) as info:
        Gateway(ModelSettings(name="nosuch/model")).warmup()
    assert "provider/model" in info.value.hint
