"""A model that loads on a background thread, so the lesson can open before it is ready.

The lesson's opening and its first question are plan text; only the model's short
invitation note needs the model. `LazyModel` answers `name` and `is_local` from the
settings at once (the engine reads both when it is built) and makes `stream` and
`complete_json` wait for the load. Calls made inside `optional_model_calls()` do not
wait: while the model is still loading they get an empty reply, which the engine
treats like a note the guards cut, so the question is shown without it.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tutor.gateway.types import ChatModel, Chunk, GatewayError, Message, SchemaT

Progress = Callable[[str, float | None], None]

_OPTIONAL: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "tutor_optional_model_calls", default=False
)


@contextmanager
def optional_model_calls() -> Iterator[None]:
    """Model calls made inside this block skip the model if it is not loaded yet."""
    token = _OPTIONAL.set(True)
    try:
        yield
    finally:
        _OPTIONAL.reset(token)


def _quiet(_message: str, _fraction: float | None) -> None:
    return None


class LazyModel:
    """A ChatModel whose real model is built by `load` on a daemon thread.

    A load failure is kept and raised from the first call that needs the model, so the
    engine reports it as that turn's failure (a GatewayError stays a GatewayError).
    """

    def __init__(
        self,
        name: str,
        is_local: bool,
        load: Callable[[], ChatModel],
        *,
        progress: Progress | None = None,
    ) -> None:
        self._name = name
        self._is_local = is_local
        self._load = load
        self.progress = progress or _quiet
        self._done = threading.Event()
        self._model: ChatModel | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self.load_seconds: float | None = None
        """How long the load took, once it finished (benchmarks read it)."""

    # ------------------------------------------------------------------ identity

    @property
    def name(self) -> str:
        return self._name

    @property
    def is_local(self) -> bool:
        return self._is_local

    @property
    def ready(self) -> bool:
        """True once the model is loaded (or failed to load: calls then raise)."""
        return self._done.is_set()

    # ------------------------------------------------------------------ loading

    def start(self) -> LazyModel:
        """Begin loading in the background; calling it again does nothing."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="tutor-model-load", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        started = time.perf_counter()
        try:
            self._model = self._load()
        except BaseException as exc:  # kept for the first turn that needs the model
            self._error = exc
        finally:
            self.load_seconds = time.perf_counter() - started
            self._done.set()
        if self._error is None:
            self.progress(f"model {self._name} ready", None)

    def wait(self, timeout: float | None = None) -> ChatModel:
        """Block until loaded (starting the load if nobody has); raise its error if it failed."""
        self.start()
        if not self._done.wait(timeout):
            raise TimeoutError(f"the model {self._name} did not load in {timeout} s")
        if self._error is not None:
            raise self._error
        assert self._model is not None
        return self._model

    async def aready(self) -> ChatModel:
        """Await the load without blocking the event loop, saying so if it makes a turn wait."""
        if not self._done.is_set():
            self.start()
            self.progress(f"waiting for the model {self._name} to load…", None)
            await asyncio.to_thread(self._done.wait)
        if self._error is not None:
            error = self._error
            if isinstance(error, GatewayError):
                raise error
            raise GatewayError(
                self._name,
                f"the model failed to load ({type(error).__name__}: {error})",
                "run 'tutor doctor' to check the model",
            ) from error
        assert self._model is not None
        return self._model

    # ------------------------------------------------------------------ ChatModel

    async def stream(
        self,
        messages: list[Message],
        *,
        tools: list[dict[str, Any]] | None = None,
        max_tokens: int | None = None,
    ) -> AsyncIterator[Chunk]:
        if _OPTIONAL.get() and (not self._done.is_set() or self._error is not None):
            # An optional note: the turn goes on without it rather than wait seconds
            # (or fail: a broken model is reported by the first turn that needs it).
            yield Chunk(finish_reason="stop")
            return
        model = await self.aready()
        async for chunk in model.stream(messages, tools=tools, max_tokens=max_tokens):
            yield chunk

    async def complete_json(self, messages: list[Message], schema: type[SchemaT]) -> SchemaT:
        model = await self.aready()
        return await model.complete_json(messages, schema)

    def __getattr__(self, attr: str) -> Any:
        # Anything else the real model offers (warmup, complete, settings...) is its own;
        # reaching for it means the caller needs the model, so this waits for the load.
        if attr.startswith("_"):
            raise AttributeError(attr)
        return getattr(self.wait(), attr)
