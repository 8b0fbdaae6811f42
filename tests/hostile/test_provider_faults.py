"""Provider faults from a fake OpenAI-compatible server: each one is a plain, distinct error."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tests.hostile.fake_openai import BIG_TOOL_CHARS, FakeServer
from tutor.gateway.gateway import Gateway
from tutor.gateway.types import Chunk, GatewayError
from tutor.settings import ModelSettings

HI = [{"role": "user", "content": "hi"}]
KEY = "sk-test-0123456789abcdefSECRET"
# Generous against a busy 2-core machine, far below what an unbounded read would take.
SLACK_S = 3.0


def gateway(server: FakeServer, mode: str, **settings: Any) -> Gateway:
    base = settings.pop("api_base", server.base_url)
    return Gateway(ModelSettings(name=f"openai/{mode}", api_base=base, api_key=KEY, **settings))


async def drain(gw: Gateway, **kw: Any) -> list[Chunk]:
    # the outer bound makes a probe that would hang fail instead of stalling the suite
    async def run() -> list[Chunk]:
        return [c async for c in gw.stream(HI, **kw)]

    return await asyncio.wait_for(run(), 20)


async def failure(gw: Gateway) -> GatewayError:
    with pytest.raises(GatewayError) as info:
        await drain(gw)
    return info.value


async def test_a_healthy_server_streams(fake_server: FakeServer) -> None:
    chunks = await drain(gateway(fake_server, "ok"))
    assert "".join(c.text for c in chunks).strip() == "Take a moment: which option fits?"


async def test_401_is_one_try_and_names_the_key_variable(
    fake_server: FakeServer, sleeps: list[float]
) -> None:
    before = fake_server.requests["401"]
    error = await failure(gateway(fake_server, "401", retries=2))
    assert "refused the API key" in error.what and "OPENAI_API_KEY" in error.hint
    assert fake_server.requests["401"] - before == 1 and sleeps == []


async def test_429_is_retried_with_backoff(fake_server: FakeServer, sleeps: list[float]) -> None:
    before = fake_server.requests["429"]
    error = await failure(gateway(fake_server, "429", retries=2))
    assert "rate limited" in error.what and "tried 3 times" in error.what
    assert fake_server.requests["429"] - before == 3 and len(sleeps) == 2


async def test_500_is_retried_and_named(fake_server: FakeServer, sleeps: list[float]) -> None:
    error = await failure(gateway(fake_server, "500", retries=1))
    assert "error 500" in error.what and "tried 2 times" in error.what


async def test_a_hanging_server_is_cut_at_the_deadline(fake_server: FakeServer) -> None:
    start = time.monotonic()
    error = await failure(gateway(fake_server, "hang", timeout_s=1, retries=2))
    assert time.monotonic() - start < 1 + SLACK_S
    assert "no answer within 1s" in error.what


async def test_a_trickling_server_cannot_hold_a_turn_past_timeout_s(
    fake_server: FakeServer,
) -> None:
    # a chunk every 0.25 s never trips a per-read timeout; the deadline covers all reads
    start = time.monotonic()
    error = await failure(gateway(fake_server, "trickle", timeout_s=1, retries=0))
    assert time.monotonic() - start < 1 + SLACK_S
    assert "limit for a whole reply" in error.what and "timeout_s" in error.hint


async def test_a_stream_cut_mid_reply_is_a_broken_stream_not_a_500(
    fake_server: FakeServer, sleeps: list[float]
) -> None:
    before = fake_server.requests["cut"]
    error = await failure(gateway(fake_server, "cut", retries=2))
    assert "broke off after it had started" in error.what
    assert "closed the stream" in error.what and "500" not in str(error)
    assert fake_server.requests["cut"] - before == 1, "a half-streamed reply is never re-sent"


async def test_a_stream_cut_before_any_text_is_named_as_such(
    fake_server: FakeServer, sleeps: list[float]
) -> None:
    error = await failure(gateway(fake_server, "cut-early", retries=0))
    assert "closed the stream before the reply was complete" in error.what
    assert "500" not in str(error) and "could not connect" not in error.what


async def test_malformed_json_is_named_and_not_retried(
    fake_server: FakeServer, sleeps: list[float]
) -> None:
    before = fake_server.requests["malformed"]
    error = await failure(gateway(fake_server, "malformed", retries=2))
    assert "not valid JSON" in error.what and "500" not in str(error)
    assert fake_server.requests["malformed"] - before == 1


async def test_a_wrong_url_path_is_not_blamed_on_the_model_or_a_500(
    fake_server: FakeServer,
) -> None:
    error = await failure(gateway(fake_server, "ok", api_base=fake_server.base_url + "/oops"))
    assert "404" in error.what and "api_base" in error.hint
    assert "500" not in str(error)


async def test_a_refused_connection_says_so(sleeps: list[float]) -> None:
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago, now closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}/v1"
    gw = Gateway(ModelSettings(name="openai/ok", api_base=base, api_key=KEY, retries=0))
    error = await failure(gw)
    assert "could not connect" in error.what and "500" not in error.what
    assert f"127.0.0.1:{port}" in error.hint


async def test_a_missing_key_is_not_reported_as_a_500(fake_server: FakeServer) -> None:
    gw = Gateway(ModelSettings(name="openai/ok", api_base=fake_server.base_url, retries=0))
    error = await failure(gw)
    assert "no API key" in error.what and "OPENAI_API_KEY" in error.hint
    assert "500" not in str(error)


async def test_a_key_echoed_in_an_error_is_redacted(fake_server: FakeServer) -> None:
    error = await failure(gateway(fake_server, "echo"))
    assert KEY not in str(error) and KEY not in error.what
    assert "[redacted]" in error.what
    assert "\n" not in str(error), "one line"


async def test_an_environment_key_echoed_in_an_error_is_redacted(
    fake_server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_key = "env-key-not-shaped-like-sk-0000"
    monkeypatch.setenv("OPENAI_API_KEY", env_key)
    gw = Gateway(ModelSettings(name="openai/echo", api_base=fake_server.base_url))
    error = await failure(gw)
    assert env_key not in str(error)


async def test_oversized_tool_arguments_are_dropped_with_a_note(fake_server: FakeServer) -> None:
    chunks = await drain(gateway(fake_server, "bigtool", max_tool_args_chars=4000))
    last = chunks[-1]
    assert [c.id for c in last.tool_calls] == ["call_ok"], "the small call still runs"
    assert sum(len(c.arguments) for c in last.tool_calls) < 4000
    assert any("max_tool_args_chars" in n and "capacity" in n for n in last.notes)
    assert BIG_TOOL_CHARS > 100 * 4000


async def test_terminal_escapes_from_a_model_are_stripped(fake_server: FakeServer) -> None:
    text = "".join(c.text for c in await drain(gateway(fake_server, "escapes")))
    assert "\x1b" not in text and "\x07" not in text
    assert text.split() == ["Hello", "there."]


async def test_a_megabyte_prompt_is_refused_before_it_is_sent(fake_server: FakeServer) -> None:
    before = sum(fake_server.requests.values())
    gw = gateway(fake_server, "ok")
    with pytest.raises(GatewayError) as info:
        await asyncio.wait_for(
            gw.stream([{"role": "user", "content": "x" * 1_000_000}]).__anext__(), 10
        )
    assert "max_prompt_chars" in info.value.what
    assert sum(fake_server.requests.values()) == before, "nothing reached the provider"
