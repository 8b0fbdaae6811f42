"""`tutor doctor`'s model check: can this model be loaded and answer one token?"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time

from pydantic import BaseModel

from tutor.gateway.types import GatewayError
from tutor.settings import ModelSettings


class ModelCheck(BaseModel):
    name: str
    is_local: bool
    path: str | None = None
    """The GGUF file for a local model, else the api_base (or None)."""
    loads: bool
    error: str | None = None
    seconds: float


async def _probe(settings: ModelSettings) -> str | None:
    from tutor.gateway.gateway import Gateway

    gateway = Gateway(settings)
    path: str | None = settings.api_base
    if gateway.name.startswith("local/"):
        path = str(gateway.local_spec().path)
        await gateway.awarmup()
    await gateway.complete([{"role": "user", "content": "Say OK."}], max_tokens=1)
    return path


def _run(settings: ModelSettings) -> str | None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_probe(settings))
    # called from inside an event loop (e.g. the TUI): give the probe its own loop
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _probe(settings)).result()


def check_model(settings: ModelSettings) -> ModelCheck:
    """Try to load the model and get one token; never raises, reports what went wrong."""
    start = time.perf_counter()
    path: str | None = settings.api_base
    if settings.name.startswith("local/"):
        from tutor.gateway import local

        try:
            path = str(local.resolve_gguf(settings.name, settings.gguf_path))
        except GatewayError:
            path = str(settings.gguf_path) if settings.gguf_path else None
    try:
        path = _run(settings) or path
    except GatewayError as exc:
        return ModelCheck(
            name=settings.name,
            is_local=settings.is_local,
            path=path,
            loads=False,
            error=str(exc),
            seconds=round(time.perf_counter() - start, 3),
        )
    except Exception as exc:  # doctor must report, not crash
        return ModelCheck(
            name=settings.name,
            is_local=settings.is_local,
            path=path,
            loads=False,
            error=f"{type(exc).__name__}: {exc}",
            seconds=round(time.perf_counter() - start, 3),
        )
    return ModelCheck(
        name=settings.name,
        is_local=settings.is_local,
        path=path,
        loads=True,
        seconds=round(time.perf_counter() - start, 3),
    )
