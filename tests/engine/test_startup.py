"""Start-up: the lesson's first question and its reveal do not wait for any model."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.fakes import ScriptedModel
from tutor.engine import factory
from tutor.engine.events import PredictionRequested, TurnDone, TurnFailed, Verdict
from tutor.engine.lazy import LazyModel, optional_model_calls
from tutor.gateway.types import ChatModel, GatewayError
from tutor.settings import PROJECT_ROOT, Settings

T = TypeVar("T")
HEAVY = ("litellm", "torch", "sentence_transformers", "transformers", "chromadb", "llama_cpp")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home")


class Gate:
    """A model loader that blocks until the test opens it, like a slow cold start."""

    def __init__(self, model: ChatModel | None = None) -> None:
        self.opened = threading.Event()
        self.calls = 0
        self.model = model or ScriptedModel("Have a go at this one.")

    def load(self, *_args: Any) -> ChatModel:
        self.calls += 1
        if not self.opened.wait(30):
            raise AssertionError("the test never let the model load")
        return self.model


async def collect(events: AsyncIterator[T], timeout: float = 10.0) -> list[T]:
    async def run() -> list[T]:
        return [event async for event in events]

    return await asyncio.wait_for(run(), timeout)


async def test_first_question_and_reveal_arrive_while_the_model_is_still_loading(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate()
    monkeypatch.setattr(factory, "load_gateway", gate.load)
    engine = factory.build_engine(settings, use_corpus=False)
    model = engine.model
    assert isinstance(model, LazyModel) and model.name == settings.model.name

    opening = await collect(engine.start())
    assert not model.ready
    asks = [e for e in opening if isinstance(e, PredictionRequested)]
    assert asks and asks[0].step_id == engine.plan.steps[0].id
    done = [e for e in opening if isinstance(e, TurnDone)]
    assert done and engine.plan.steps[0].question in done[-1].text

    # The embedded model words nothing in a reveal: the verdict needs no model at all.
    right = engine.plan.steps[0].correct_option
    assert right is not None
    reveal = await collect(engine.send(right.key))
    verdicts = [e for e in reveal if isinstance(e, Verdict)]
    assert verdicts and verdicts[0].correct and not model.ready
    gate.opened.set()


async def _started(gate: Gate, timeout: float = 10.0) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout
    while gate.calls == 0 and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)
    return gate.calls > 0


async def test_the_opening_starts_the_loading_unless_the_face_holds_it(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate()
    monkeypatch.setattr(factory, "load_gateway", gate.load)
    try:
        held = factory.build_engine(settings, use_corpus=False, autoload=False)
        await collect(held.start())
        await asyncio.sleep(0.2)
        assert gate.calls == 0, "the model started loading while the face painted the opening"
        held.load_in_background()
        held.load_in_background()
        assert await _started(gate)
        assert gate.calls == 1

        gate2 = Gate()
        monkeypatch.setattr(factory, "load_gateway", gate2.load)
        auto = factory.build_engine(settings, use_corpus=False)
        assert gate2.calls == 0
        await collect(auto.start())
        assert await _started(gate2)
        gate2.opened.set()
    finally:
        gate.opened.set()


async def test_a_turn_that_needs_the_model_waits_for_it_and_says_so() -> None:
    gate = Gate(ScriptedModel("Loaded now."))
    messages: list[str] = []
    model = LazyModel("local/slow", True, gate.load, progress=lambda m, _f: messages.append(m))
    model.start()

    async def text() -> str:
        return "".join([c.text async for c in model.stream([{"role": "user", "content": "hi"}])])

    task = asyncio.create_task(text())
    await asyncio.sleep(0.2)
    assert not task.done()
    assert any("waiting for the model" in m for m in messages)
    gate.opened.set()
    assert (await asyncio.wait_for(task, 10)).strip() == "Loaded now."
    assert model.ready and any("ready" in m for m in messages)


async def test_optional_calls_skip_a_loading_model_but_not_a_loaded_one() -> None:
    gate = Gate(ScriptedModel("A note."))
    model = LazyModel("local/slow", True, gate.load).start()
    with optional_model_calls():
        chunks = [c async for c in model.stream([{"role": "user", "content": "hi"}])]
    assert "".join(c.text for c in chunks) == "" and chunks[-1].finish_reason == "stop"
    gate.opened.set()
    model.wait(10)
    with optional_model_calls():
        chunks = [c async for c in model.stream([{"role": "user", "content": "hi"}])]
    assert "".join(c.text for c in chunks).strip() == "A note."


async def test_a_model_that_fails_to_load_fails_the_turn_that_needs_it(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any) -> ChatModel:
        raise GatewayError("local/smollm2", "the GGUF file is missing", "reinstall it")

    monkeypatch.setattr(factory, "load_gateway", broken)
    engine = factory.build_engine(settings, use_corpus=False)
    assert isinstance(engine.model, LazyModel)
    with pytest.raises(GatewayError):
        await asyncio.to_thread(engine.model.wait, 10)
    # The opening still shows the question: its note is optional.
    opening = await collect(engine.start())
    assert any(isinstance(e, PredictionRequested) for e in opening)
    with pytest.raises(GatewayError, match="GGUF file is missing"):
        await collect(engine.model.stream([{"role": "user", "content": "hi"}]))
    assert not any(isinstance(e, TurnFailed) for e in opening)


def test_nothing_heavy_is_imported_on_the_way_to_the_first_question(tmp_path: Path) -> None:
    # The background loaders are held back, so only the path to the question is measured.
    script = f"""
import asyncio, json, sys
from tutor.corpus.retrieval import Retriever
from tutor.engine.lazy import LazyModel
LazyModel.start = lambda self: self
Retriever.start = lambda self: self
from tutor.engine.factory import build_engine
from tutor.engine.events import PredictionRequested
from tutor.settings import Settings

async def main():
    engine = build_engine(Settings(home={str(tmp_path / "home")!r}))
    events = [e async for e in engine.start()]
    assert any(isinstance(e, PredictionRequested) for e in events)

asyncio.run(main())
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r})
print(json.dumps(heavy))
"""
    env = dict(os.environ, LITELLM_OFFLINE_MODE="true", HF_HUB_OFFLINE="1")
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_the_reader_loads_on_first_use_or_when_prepared() -> None:
    # Its patterns and the catalogue are not on the path to the first question.
    script = """
import sys
import tutor.reading
import tutor.engine.factory
before = "tutor.reading.reader" in sys.modules or "tutor.mig.catalogue" in sys.modules
tutor.reading.prepare()
after = "tutor.reading.reader" in sys.modules
print(before, after, tutor.reading.read("how many 1g.10gb fit on an H100-80GB?").kind)
"""
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "calculator"]
