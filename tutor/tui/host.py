"""Runs the engine on a thread with its own event loop.

The embedded model generates tokens with blocking calls; keeping every engine
call off the UI loop is what keeps typing responsive while it thinks. Engine
objects (HTTP clients, locks) stay bound to this one loop for their lifetime.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar, cast

if TYPE_CHECKING:
    from tutor.engine.events import Event

T = TypeVar("T")


@dataclass
class _End:
    error: BaseException | None = None


class EngineHost:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="tutor-engine", daemon=True)
            thread.start()
            self._loop, self._thread = loop, thread
        return self._loop

    async def call(self, func: Callable[[], T | Awaitable[T]]) -> T:
        """Run `func` on the engine thread (awaiting it there if it returns an awaitable)."""

        async def runner() -> T:
            result = func()
            if inspect.isawaitable(result):
                return cast(T, await result)
            return result

        future = asyncio.run_coroutine_threadsafe(runner(), self._ensure_loop())
        return await asyncio.wrap_future(future)

    async def stream(self, make: Callable[[], AsyncIterator[Event]]) -> AsyncIterator[Event]:
        """Iterate an engine event stream on the engine thread, yielding events here."""
        ui_loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Event | _End] = asyncio.Queue()

        def put(item: Event | _End) -> None:
            ui_loop.call_soon_threadsafe(queue.put_nowait, item)

        async def pump() -> None:
            try:
                async for event in make():
                    put(event)
            except BaseException as exc:  # handed to the UI side, which decides
                put(_End(exc))
                if isinstance(exc, asyncio.CancelledError):
                    raise
            else:
                put(_End())

        future = asyncio.run_coroutine_threadsafe(pump(), self._ensure_loop())
        try:
            while True:
                item = await queue.get()
                if isinstance(item, _End):
                    if item.error is not None and not isinstance(
                        item.error, asyncio.CancelledError
                    ):
                        raise item.error
                    return
                yield item
        finally:
            if not future.done():
                future.cancel()

    def close(self) -> None:
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=2.0)
