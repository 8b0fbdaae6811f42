"""Gateway: the one ChatModel the tutor uses, for the embedded model and any litellm model.

litellm is imported on first use, not at import time: it takes seconds to load.

Over 400 lines: retries, the whole-reply deadline, error classification and redaction
wrap every model call alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError

from tutor.gateway import local, offline
from tutor.gateway.types import ChatModel, Chunk, GatewayError, Message, SchemaT, ToolCall
from tutor.redact import clean, register_secret
from tutor.settings import ModelSettings

T = TypeVar("T")

BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 8.0

# More tool calls than this in one reply are not run: the calculator needs one or two.
MAX_TOOL_CALLS = 8
# A server that ignores max_tokens cannot grow a reply past this many characters per token.
CHARS_PER_TOKEN_CAP = 16


class ReplyDeadline(TimeoutError):
    """The whole reply (every read, every retry) ran past model.timeout_s."""


# Where the provider reads its key from when settings.api_key is unset.
KEY_ENV = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "groq": "GROQ_API_KEY",
    "mistral": "MISTRAL_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
    "together_ai": "TOGETHERAI_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "azure": "AZURE_API_KEY",
}


async def _sleep(seconds: float) -> None:
    """Backoff sleep; tests patch this to return at once."""
    await asyncio.sleep(seconds)


def backoff_delay(attempt: int) -> float:
    """Exponential backoff with jitter: 0.5s, 1s, 2s, ... capped at 8s."""
    delay: float = min(BACKOFF_CAP_S, BACKOFF_BASE_S * (2**attempt))
    return delay * (0.75 + random.random() / 2)


def _litellm() -> Any:
    """Import litellm with the offline switches set and the local provider registered."""
    offline.apply()
    import litellm

    # litellm prints "Give Feedback / Get Help" banners on errors; we report our own.
    litellm.suppress_debug_info = True
    litellm.telemetry = False
    local.register()
    return litellm


def _status(exc: BaseException) -> int | None:
    code = getattr(exc, "status_code", None)
    return code if isinstance(code, int) else None


def is_retryable(exc: BaseException) -> bool:
    """Timeouts, refused connections, 429 and 5xx may succeed on a second try; the rest won't."""
    litellm = _litellm()
    never = (
        litellm.AuthenticationError,
        litellm.PermissionDeniedError,
        litellm.NotFoundError,
        litellm.BadRequestError,
        litellm.ContextWindowExceededError,
        litellm.ContentPolicyViolationError,
        litellm.UnsupportedParamsError,
    )
    if isinstance(exc, never) or _caused_by(exc, json.JSONDecodeError):
        # a server that sends broken JSON sends it again
        return False
    retry = (
        litellm.Timeout,
        litellm.APIConnectionError,
        litellm.RateLimitError,
        litellm.InternalServerError,
        litellm.ServiceUnavailableError,
        litellm.BadGatewayError,
        TimeoutError,
        ConnectionError,
    )
    if isinstance(exc, retry):
        return True
    code = _status(exc)
    return code is not None and (code == 429 or code >= 500)


@dataclass
class _ToolCallParts:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)
    size: int = 0
    oversized: bool = False


class Gateway:
    """A ChatModel over litellm: streaming, tool calls, JSON output, retries, plain errors.

    ``Gateway(settings.model)`` works for ``local/smollm2`` (the embedded model),
    ``local/<name>`` with ``gguf_path``, and any litellm model string such as
    ``openai/<model>`` with ``api_base`` (llama.cpp or vLLM server),
    ``ollama/llama3.1`` or ``anthropic/claude-sonnet-4-5``.

    ``extra`` is passed to every litellm call; tests use it for ``mock_response``.
    """

    def __init__(self, settings: ModelSettings, *, extra: dict[str, Any] | None = None) -> None:
        self.settings = settings
        # an error or an echo may carry the key back; it is redacted wherever it shows up
        register_secret(settings.api_key)
        self.extra = dict(extra or {})
        self._provider = settings.name.split("/", 1)[0] if "/" in settings.name else ""
        self._local = self._provider == local.PROVIDER
        self._local_spec: local.LocalSpec | None = None

    # ------------------------------------------------------------------ identity

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def is_local(self) -> bool:
        return self.settings.is_local

    # ------------------------------------------------------------------ local model

    def local_spec(self) -> local.LocalSpec:
        """The GGUF file and load options; GatewayError if the file or llama.cpp is missing."""
        if self._local_spec is None:
            path = local.resolve_gguf(self.name, self.settings.gguf_path)
            local.require_llama_cpp(self.name)
            self._local_spec = local.LocalSpec(
                path=path, n_ctx=self.settings.n_ctx, n_threads=self.settings.n_threads
            )
        return self._local_spec

    def warmup(self, messages: list[Message] | None = None) -> None:
        """Pay the one-off costs now (blocking) instead of on the learner's first turn.

        Imports litellm (seconds on a small CPU), runs one offline mock call through
        it so its lazily imported modules load, and loads the local model. With
        ``messages`` (say, the system prompt) one token is generated so that
        prompt's prefix sits in llama.cpp's KV cache before the first real turn.
        """
        litellm = _litellm()
        try:
            for _ in litellm.completion(
                model=self.name,
                messages=[{"role": "user", "content": "hi"}],
                mock_response="ok",
                stream=True,
            ):
                pass
        except Exception as exc:  # an unknown model string fails here, offline
            raise self.error(exc) from exc
        if not self._local:
            return
        spec = self.local_spec()
        local.get_llama(spec)
        if messages:
            local.complete_dict(spec, messages, {"max_tokens": 1, "temperature": 0.0})

    async def awarmup(self, messages: list[Message] | None = None) -> None:
        await asyncio.to_thread(self.warmup, messages)

    # ------------------------------------------------------------------ litellm call

    def _kwargs(self, messages: list[Message], max_tokens: int | None) -> dict[str, Any]:
        s = self.settings
        kwargs: dict[str, Any] = {
            "model": s.name,
            "messages": messages,
            "temperature": s.temperature,
            "max_tokens": max_tokens or s.max_tokens,
            "timeout": s.timeout_s,
            # retries are ours (see _retrying) so a half-streamed reply is never re-sent
            "num_retries": 0,
        }
        if self._local:
            spec = self.local_spec()
            kwargs.update(gguf_path=str(spec.path), n_ctx=spec.n_ctx, n_threads=spec.n_threads)
        else:
            kwargs["max_retries"] = 0
            if s.api_base:
                kwargs["api_base"] = s.api_base
            if s.api_key:
                kwargs["api_key"] = s.api_key
        kwargs.update(self.extra)
        return kwargs

    def _check_size(self, messages: list[Message]) -> None:
        """Refuse a prompt over model.max_prompt_chars before anything is sent or spent."""
        size = sum(len(str(m.get("content") or "")) for m in messages)
        cap = self.settings.max_prompt_chars
        if size > cap:
            raise GatewayError(
                self.name,
                f"the prompt is {size} characters, over the limit of {cap} "
                "(model.max_prompt_chars)",
                "send a shorter message, start a new session, or raise model.max_prompt_chars",
            )

    def _retryable(self, exc: BaseException) -> bool:
        # the in-process model fails the same way twice; only remote calls get retries
        return not self._local and is_retryable(exc)

    async def _prepare(self) -> None:
        if "litellm" not in sys.modules:
            # the first import takes seconds; keep the event loop (and the TUI) responsive
            await asyncio.to_thread(_litellm)
        if self._local:
            spec = self.local_spec()
            if not local.is_loaded(spec):
                # load outside litellm so a bad file surfaces as our GatewayError, unwrapped
                await asyncio.to_thread(local.get_llama, spec)

    async def _retrying(self, call: Callable[[], Awaitable[T]]) -> T:
        attempt = 0
        while True:
            try:
                return await call()
            except GatewayError:
                raise
            except Exception as exc:
                if attempt >= self.settings.retries or not self._retryable(exc):
                    raise self.error(exc, attempts=attempt + 1) from exc
                await _sleep(backoff_delay(attempt))
                attempt += 1

    async def stream(
        self,
        messages: list[Message],
        *,
        tools: list[dict[str, Any]] | None = None,
        max_tokens: int | None = None,
        tool_choice: str | dict[str, Any] | None = None,
    ) -> AsyncIterator[Chunk]:
        """Yield text deltas as they arrive, then one last chunk with finish_reason.

        Tool calls are assembled from streamed fragments and emitted complete in
        that last chunk. Failures before the first chunk are retried with backoff;
        once output was yielded a failure raises GatewayError and nothing is re-sent.
        """
        self._check_size(messages)
        await self._prepare()
        litellm = _litellm()
        kwargs = self._kwargs(messages, max_tokens)
        kwargs["stream"] = True
        if tools:
            kwargs["tools"] = tools
            if tool_choice is not None:
                kwargs["tool_choice"] = tool_choice

        loop = asyncio.get_running_loop()
        # timeout_s bounds the whole reply: a server that trickles one chunk every few
        # seconds must not hold the turn, whatever the per-read timeout would allow.
        deadline = loop.time() + self.settings.timeout_s

        def remaining() -> float:
            left = deadline - loop.time()
            if left <= 0:
                raise ReplyDeadline(f"no complete reply within {self.settings.timeout_s:g}s")
            return left

        cap = self.settings.max_tool_args_chars
        text_cap = (max_tokens or self.settings.max_tokens) * CHARS_PER_TOKEN_CAP
        attempt = 0
        while True:
            yielded = False
            response: Any = None
            try:
                response = await _within(litellm.acompletion(**kwargs), remaining())
                parts: dict[int, _ToolCallParts] = {}
                finish_reason: str | None = None
                sent = 0
                iterator = response.__aiter__()
                while True:
                    try:
                        raw = await _within(iterator.__anext__(), remaining())
                    except StopAsyncIteration:
                        break
                    if not raw.choices:
                        continue
                    choice = raw.choices[0]
                    delta = choice.delta
                    finish_reason = choice.finish_reason or finish_reason
                    for frag in getattr(delta, "tool_calls", None) or []:
                        _add_fragment(parts, frag, cap)
                    text = clean(getattr(delta, "content", None) or "")
                    if text:
                        if sent + len(text) > text_cap:
                            # the server ignored max_tokens; end the reply where it should have
                            finish_reason = "length"
                            break
                        sent += len(text)
                        yielded = True
                        yield Chunk(text=text)
                calls, notes = _finish_calls(parts, cap)
                if calls and finish_reason in (None, "stop"):
                    finish_reason = "tool_calls"
                yield Chunk(tool_calls=calls, finish_reason=finish_reason or "stop", notes=notes)
                return
            except GatewayError:
                raise
            except Exception as exc:
                if yielded:
                    raise self.error(exc, partial=True) from exc
                delay = backoff_delay(attempt)
                if (
                    attempt >= self.settings.retries
                    or not self._retryable(exc)
                    or deadline - loop.time() <= delay
                ):
                    raise self.error(exc, attempts=attempt + 1) from exc
                await _sleep(delay)
                attempt += 1
            finally:
                await _close(response)

    async def complete(
        self,
        messages: list[Message],
        *,
        max_tokens: int | None = None,
    ) -> str:
        """The whole reply as one string (streamed underneath, so retries behave the same)."""
        parts = [c.text async for c in self.stream(messages, max_tokens=max_tokens)]
        return "".join(parts)

    async def complete_json(self, messages: list[Message], schema: type[SchemaT]) -> SchemaT:
        """A reply constrained to ``schema``'s JSON, validated by pydantic.

        The local model gets a llama.cpp grammar built from the JSON schema (it
        honours enums and required keys but not numeric bounds, so pydantic has the
        last word); hosted models get litellm's json_schema response_format. An
        invalid reply is retried once with the validation error shown to the model.
        """
        self._check_size(messages)
        await self._prepare()
        litellm = _litellm()
        json_schema = schema.model_json_schema()
        if self._local:
            response_format: dict[str, Any] = {"type": "json_object", "schema": json_schema}
        else:
            response_format = {
                "type": "json_schema",
                "json_schema": {"name": schema.__name__, "schema": json_schema, "strict": False},
            }
        convo = list(messages)
        last_error = ""
        for _ in range(2):
            kwargs = self._kwargs(convo, None)
            kwargs["response_format"] = response_format

            async def call(kw: dict[str, Any] = kwargs) -> Any:
                return await _within(litellm.acompletion(**kw), self.settings.timeout_s)

            response = await self._retrying(call)
            text = response.choices[0].message.content or ""
            try:
                return schema.model_validate_json(_strip_fences(text))
            except ValidationError as exc:
                last_error = _short_validation(exc)
                convo = [
                    *messages,
                    {"role": "assistant", "content": text},
                    {
                        "role": "user",
                        "content": f"That JSON was not valid: {last_error}. "
                        "Reply again with only the corrected JSON object.",
                    },
                ]
        raise GatewayError(
            self.name,
            f"the reply did not match {schema.__name__} twice ({last_error})",
            "try a stronger model (model.name) or a lower temperature",
        )

    # ------------------------------------------------------------------ errors

    def error(
        self, exc: BaseException, *, attempts: int = 1, partial: bool = False
    ) -> GatewayError:
        """Turn a litellm/provider exception into one plain GatewayError with a hint."""
        litellm = _litellm()
        s = self.settings
        tried = f" (tried {attempts} times)" if attempts > 1 else ""
        where = s.api_base
        if "repeating the same chunk" in str(exc):
            # litellm cuts a stream whose model loops on one chunk; small models do
            return GatewayError(
                self.name,
                "the model got stuck repeating itself",
                "ask again; a higher model.temperature or a larger model helps",
            )
        if isinstance(exc, ReplyDeadline) and partial:
            return GatewayError(
                self.name,
                f"the reply was still coming after {s.timeout_s:g}s, the limit for a whole "
                "reply, and was cut off",
                "raise model.timeout_s, or use a faster model or server"
                + (f"; the server at {where} sends slowly" if where else ""),
            )
        if partial:
            return GatewayError(
                self.name,
                f"the reply broke off after it had started: {self._stream_broke(exc)}",
                "ask again; if it keeps happening, check the model server's logs",
            )
        if isinstance(exc, litellm.Timeout | TimeoutError):
            return GatewayError(
                self.name,
                f"no answer within {s.timeout_s:.0f}s{tried}",
                "raise model.timeout_s, shorten the prompt, or use a smaller/faster model"
                + (f"; is the server at {where} overloaded?" if where else ""),
            )
        if isinstance(exc, litellm.AuthenticationError | litellm.PermissionDeniedError):
            env = KEY_ENV.get(self._provider, f"{self._provider.upper()}_API_KEY")
            return GatewayError(
                self.name,
                f"the provider refused the API key: {_brief(exc)}",
                f"set {env} (or model.api_key) to a valid key",
            )
        if isinstance(exc, litellm.RateLimitError):
            return GatewayError(
                self.name,
                f"rate limited by the provider{tried}",
                "wait a minute and try again, or switch model.name to another model",
            )
        if isinstance(exc, litellm.NotFoundError) and where:
            # with an api_base a 404 is most often the URL's path, not the model
            return GatewayError(
                self.name,
                f"the server at {where} answered 404 Not Found: {_brief(exc)}",
                "check model.api_base (an OpenAI-compatible server's URL usually ends in /v1) "
                "and that the server serves this model name",
            )
        if isinstance(exc, litellm.NotFoundError):
            return GatewayError(
                self.name,
                f"the provider does not know this model: {_brief(exc)}",
                "check model.name (litellm form: provider/model)"
                + (
                    "; for ollama, run `ollama pull <model>` first"
                    if self._provider == "ollama"
                    else ""
                ),
            )
        if "LLM Provider NOT provided" in str(exc):
            return GatewayError(
                self.name,
                "litellm does not know which provider serves this model string",
                "write model.name as provider/model, e.g. local/smollm2, "
                "openai/gpt-4o-mini, ollama/llama3.1, anthropic/claude-sonnet-4-5",
            )
        if isinstance(exc, litellm.ContextWindowExceededError):
            return GatewayError(
                self.name,
                "the conversation is longer than the model's context window",
                "start a new session, or raise model.n_ctx for a local model",
            )
        if self._local:
            if "context window" in str(exc):
                return GatewayError(
                    self.name,
                    "the conversation is longer than the local model's context window",
                    "start a new session, or raise model.n_ctx",
                )
            return GatewayError(
                self.name,
                f"the local model failed: {_brief(exc)}",
                "run `tutor doctor`; check model.gguf_path and model.n_ctx",
            )
        # litellm reports a bad reply, a broken stream, an unknown host and a refused
        # connection alike, as a 500 or a connection error; the cause underneath tells
        # them apart, and each needs a different fix.
        if "missing credentials" in _chain_text(exc):
            # the OpenAI client refuses to send without a key and litellm calls that a 500
            env = KEY_ENV.get(self._provider, f"{self._provider.upper()}_API_KEY")
            return GatewayError(
                self.name,
                "no API key is set, so no request was sent",
                f"set {env} or model.api_key"
                + ("; a local llama.cpp or vLLM server accepts any value" if where else ""),
            )
        if _caused_by(exc, json.JSONDecodeError):
            return GatewayError(
                self.name,
                f"the server's reply is not valid JSON{tried}",
                "is model.api_base an OpenAI-compatible endpoint"
                + (f" ({where})" if where else "")
                + "? check the server's logs",
            )
        if _named_in_chain(exc, "ClientConnectorDNSError", "gaierror") or (
            "name or service not known" in _chain_text(exc)
        ):
            return GatewayError(
                self.name,
                f"cannot find the host in model.api_base ({where or 'the provider URL'})",
                "check the host name in model.api_base",
            )
        if _stream_failed(exc):
            return GatewayError(
                self.name,
                f"the server closed the stream before the reply was complete{tried}",
                "ask again; if it keeps happening, check the model server's logs"
                + (f" at {where}" if where else ""),
            )
        if isinstance(exc, litellm.APIConnectionError | ConnectionError) or _connect_failed(exc):
            return GatewayError(
                self.name, f"could not connect{tried}: {_brief(exc)}", self._connect_hint()
            )
        code = _status(exc)
        if code is not None and code >= 500:
            return GatewayError(
                self.name,
                f"the server answered with error {code}{tried}",
                "the provider is having trouble; try again later"
                + (f", or check the server at {where}" if where else ""),
            )
        if isinstance(exc, litellm.BadRequestError):
            return GatewayError(
                self.name,
                f"the provider rejected the request: {_brief(exc)}",
                "check model.name and that this model supports the features used (tools, JSON)",
            )
        return GatewayError(
            self.name, f"the call failed{tried}: {_brief(exc)}", self._connect_hint()
        )

    def _stream_broke(self, exc: BaseException) -> str:
        if _stream_failed(exc) or _connect_failed(exc):
            return "the server closed the stream mid-reply"
        if _caused_by(exc, json.JSONDecodeError):
            return "the server sent a chunk that is not valid JSON"
        return _brief(exc)

    def _connect_hint(self) -> str:
        s = self.settings
        if s.api_base:
            return f"is the llama.cpp/vLLM server running at {s.api_base}?"
        if self._provider == "ollama":
            return "is ollama running (`ollama serve`, default http://localhost:11434)?"
        if not s.api_key:
            env = KEY_ENV.get(self._provider)
            if env:
                return f"check the network; is {env} set?"
        return "check the network connection and model.api_base"


if TYPE_CHECKING:

    def _is_chat_model(gateway: Gateway) -> ChatModel:
        return gateway  # mypy proves Gateway satisfies the engine's protocol


def _add_fragment(parts: dict[int, _ToolCallParts], frag: Any, cap: int | None = None) -> None:
    """Merge one streamed tool-call fragment (OpenAI delta shape) into its call.

    Past ``cap`` characters of arguments the fragments are dropped, not kept: a model
    that streams megabytes of arguments must not grow memory or the next prompt.
    """
    index = getattr(frag, "index", None)
    if index is None:
        index = len(parts)
    part = parts.setdefault(int(index), _ToolCallParts())
    if getattr(frag, "id", None):
        part.id = frag.id
    fn = getattr(frag, "function", None)
    if fn is None:
        return
    name = getattr(fn, "name", None)
    if name:
        part.name = name
    arguments = getattr(fn, "arguments", None)
    if arguments and not part.oversized:
        text = arguments if isinstance(arguments, str) else json.dumps(arguments)
        part.size += len(text)
        if cap is not None and part.size > cap:
            part.oversized = True
            part.arguments.clear()
            return
        part.arguments.append(text)


def _finish_calls(parts: dict[int, _ToolCallParts], cap: int) -> tuple[list[ToolCall], list[str]]:
    """The complete tool calls to run, and a note for each one refused."""
    calls: list[ToolCall] = []
    notes: list[str] = []
    for _, part in sorted(parts.items()):
        if not part.name:
            continue
        name = clean(part.name)[:64]
        if part.oversized:
            notes.append(
                f"tool call {name} dropped: its arguments ran past {cap} characters "
                "(model.max_tool_args_chars)"
            )
            continue
        if len(calls) >= MAX_TOOL_CALLS:
            notes.append(f"tool call {name} dropped: more than {MAX_TOOL_CALLS} calls in one reply")
            continue
        calls.append(
            ToolCall(
                id=part.id or f"call_{uuid.uuid4().hex[:12]}",
                name=name,
                arguments="".join(part.arguments) or "{}",
            )
        )
    return calls, notes


async def _within(awaitable: Awaitable[T], timeout: float) -> T:
    """Await with the reply's remaining time; running out is a ReplyDeadline."""
    try:
        return await asyncio.wait_for(awaitable, timeout)
    except ReplyDeadline:
        raise
    except TimeoutError as exc:
        raise ReplyDeadline(f"no complete reply within {timeout:g}s") from exc


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and what caused it, outermost first (litellm wraps httpx/aiohttp/openai)."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 12:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _caused_by(exc: BaseException, *kinds: type[BaseException]) -> bool:
    return any(isinstance(e, kinds) for e in _chain(exc))


def _named_in_chain(exc: BaseException, *names: str) -> bool:
    # httpx and aiohttp are litellm's, not ours: match their classes by name, not by import
    return any(type(e).__name__ in names for e in _chain(exc))


async def _close(response: Any) -> None:
    """Close an abandoned stream so the local worker thread stops and frees the model."""
    if response is None:
        return
    for target in (getattr(response, "completion_stream", None), response):
        aclose = getattr(target, "aclose", None)
        if aclose is None:
            continue
        # closing is best effort; the original outcome matters more
        with contextlib.suppress(Exception):
            await aclose()


_CONNECT_WORDS = ("connection error", "connection refused", "connecterror", "cannot connect")
_STREAM_ERRORS = (
    "ReadError",
    "RemoteProtocolError",
    "ClientPayloadError",
    "TransferEncodingError",
    "ServerDisconnectedError",
    "IncompleteRead",
)


def _connect_failed(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(word in text for word in _CONNECT_WORDS)


def _chain_text(exc: BaseException) -> str:
    return " ".join(str(e) for e in _chain(exc)).lower()


def _stream_failed(exc: BaseException) -> bool:
    """The connection was made and then the body broke: not a refused connection, not a 500."""
    if _named_in_chain(exc, "ConnectError", "ClientConnectorError", "ConnectionRefusedError"):
        return False
    return _named_in_chain(exc, *_STREAM_ERRORS) or "stream ended before" in _chain_text(exc)


def _strip_fences(text: str) -> str:
    # hosted models sometimes wrap JSON in ```json fences despite response_format
    t = text.strip()
    if t.startswith("```"):
        t = t.split("\n", 1)[1] if "\n" in t else ""
        t = t.rsplit("```", 1)[0]
    return t.strip()


def _short_validation(exc: ValidationError) -> str:
    errs = exc.errors()
    if not errs:
        return str(exc)
    first = errs[0]
    loc = ".".join(str(p) for p in first.get("loc", ())) or "value"
    more = f" (+{len(errs) - 1} more)" if len(errs) > 1 else ""
    return f"{loc}: {first.get('msg', '')}{more}"


def _brief(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    # a provider may echo the key it was sent; nothing from it is printed unredacted
    text = " ".join(clean(str(text)).replace("litellm.", "").split())
    # litellm stacks class names ("AuthenticationError: AuthenticationError: OpenAIException
    # - ..."); the learner needs the provider's own words
    text = re.sub(r"^(?:\w+(?:Error|Exception)(?::| -)\s*)+", "", text) or text
    return text if len(text) <= 300 else text[:297] + "..."
