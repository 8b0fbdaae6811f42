"""Building an engine from settings: the one place the parts are wired together.

By default the engine is ready as soon as the plan, the prompts and the sessions
database are read: the model and the corpus load on background threads (see
`tutor.engine.lazy` and `tutor.corpus.retrieval.Retriever`), so the lesson's opening
and first question never wait for litellm, llama.cpp, torch or Chroma.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Callable

from tutor.engine.engine import Engine, Retriever
from tutor.engine.events import Event
from tutor.engine.lazy import LazyModel, optional_model_calls
from tutor.engine.plan import LessonPlan, load_plan
from tutor.engine.prompts import PromptSet, load_prompts
from tutor.engine.record import Record
from tutor.gateway.types import ChatModel
from tutor.reading import prepare as prepare_reader
from tutor.settings import Settings

Progress = Callable[[str, float | None], None]
log = logging.getLogger(__name__)

TRACE_ENV = "TUTOR_STARTUP_TRACE"
"""A file to append 'epoch-seconds message' lines to for every loading step (benchmarks)."""


def _quiet(_message: str, _fraction: float | None) -> None:
    return None


def open_retriever(
    settings: Settings,
    progress: Progress,
    *,
    background: bool = False,
    plan: LessonPlan | None = None,
) -> Retriever | None:
    """The corpus retriever.

    Blocking by default: the index is built first if it is missing or stale. With
    `background`, it returns at once and loads (and rebuilds) behind the lesson.
    Without an index the lesson still runs: reveals then cite the lesson plan itself.
    """
    from tutor.corpus.errors import CorpusError
    from tutor.corpus.index import ensure_index
    from tutor.corpus.retrieval import Retriever as CorpusRetriever
    from tutor.corpus.snapshot import queries_of

    queries = queries_of(plan) if plan is not None else None
    if background:
        # Loads on its first search, or when the engine starts it after the opening.
        return CorpusRetriever(settings, background=True, progress=progress, plan_queries=queries)
    try:
        ensure_index(settings, progress=progress)
        return CorpusRetriever(settings, plan_queries=queries)
    except CorpusError as exc:
        progress(f"corpus unavailable: {exc}", None)
        log.warning("corpus unavailable: %s", exc)
        return None


def load_gateway(settings: Settings, plan: LessonPlan, prompts: PromptSet) -> ChatModel:
    """The real model, loaded and warmed (blocking: seconds for litellm and llama.cpp)."""
    from tutor.gateway.gateway import Gateway

    gateway = Gateway(settings.model)
    if gateway.name.startswith("local/"):
        # Reading the shared system prompt now puts it in llama.cpp's prefix cache,
        # so the first turn does not pay for it.
        system = prompts.render("system", lesson_title=plan.title)
        gateway.warmup(messages=[{"role": "system", "content": system}])
    return gateway


def preflight(settings: Settings) -> None:
    """Fail now, in one line, where the background load surely would: a missing GGUF
    file or a missing llama.cpp. Both are file lookups; nothing heavy is imported."""
    if settings.model.name.startswith("local/"):
        from tutor.gateway import local

        local.resolve_gguf(settings.model.name, settings.model.gguf_path)
        local.require_llama_cpp(settings.model.name)


class LazyStartEngine(Engine):
    """An Engine whose opening does not wait for a model that is still loading.

    The opening's only model call is the short invitation note before the first
    question; while the model loads, the question is shown without it.
    """

    _reader_started = False
    autoload = True
    """Start the loaders when the opening's events are out. A face that paints the
    opening itself (the app) turns this off and calls `load_in_background` once the
    opening is on screen: loader threads importing litellm and torch hold the GIL for
    seconds, and painting the opening next to them takes twice as long."""

    def start(self) -> AsyncIterator[Event]:
        return self._then_load(_optional_calls(super().start()))

    async def _then_load(self, events: AsyncIterator[Event]) -> AsyncIterator[Event]:
        try:
            async for event in events:
                yield event
        finally:
            if self.autoload:
                self.load_in_background()

    def load_in_background(self) -> None:
        """Start loading the reader, the model and the corpus search (a second call does
        nothing)."""
        if not self._reader_started:
            self._reader_started = True
            threading.Thread(target=prepare_reader, name="tutor-reader-load", daemon=True).start()
        for part in (self.model, self.retriever):
            starter = getattr(part, "start", None)
            if callable(starter):
                starter()

    async def wait_loaded(self, timeout: float = 600.0) -> None:
        """Wait until the model and the corpus search have finished loading (benchmarks)."""
        model, retriever = self.model, self.retriever
        if isinstance(model, LazyModel):
            await asyncio.to_thread(model.wait, timeout)
        settle = getattr(retriever, "wait_settled", None)
        if callable(settle):
            await asyncio.to_thread(settle, timeout)


def _traced(report: Progress, path: str) -> Progress:
    def progress(message: str, fraction: float | None) -> None:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"{time.time():.4f} {message}\n")
        report(message, fraction)

    return progress


async def _optional_calls(events: AsyncIterator[Event]) -> AsyncIterator[Event]:
    iterator = aiter(events)
    while True:
        # Set per step, inside one __anext__: the stream may be resumed from another
        # task's context, where a token reset across yields would fail.
        with optional_model_calls():
            try:
                event = await anext(iterator)
            except StopAsyncIteration:
                return
        yield event


def build_engine(
    settings: Settings,
    *,
    resume: bool | str = False,
    progress: Progress | None = None,
    model: ChatModel | None = None,
    retriever: Retriever | None = None,
    use_corpus: bool = True,
    record: Record | None = None,
    background: bool = True,
    autoload: bool = True,
) -> Engine:
    """The engine for these settings; fast by default, the models loading behind it.

    With `background=False` it blocks until the model is warm and the index is built
    and read (benchmarks and evals that time turns want that). With `autoload=False`
    the background loading waits for `engine.load_in_background()` (or for the first
    call that needs the model or the search) instead of starting after the opening.
    `resume=True` continues the latest session, a string resumes that session id.
    """
    report = progress or _quiet
    trace = os.environ.get(TRACE_ENV)
    if trace:
        report = _traced(report, trace)
    plan = load_plan(settings.lesson_plan_file)
    prompts = load_prompts(settings.prompts_dir)
    if model is None:
        if background:
            preflight(settings)
            report(f"loading model {settings.model.name} in the background", None)
            # Started by the engine once the opening is out, or by the first call.
            model = LazyModel(
                settings.model.name,
                settings.model.is_local,
                lambda: load_gateway(settings, plan, prompts),
                progress=report,
            )
        else:
            report(f"loading model {settings.model.name}", None)
            model = load_gateway(settings, plan, prompts)
    if retriever is None and use_corpus:
        report("opening the corpus index", None)
        retriever = open_retriever(settings, report, background=background, plan=plan)
    record = record or Record(settings.sessions_db)
    session_id: str | None = None
    if resume is True:
        session_id = record.latest_session()
    elif isinstance(resume, str):
        session_id = resume
    report("ready", 1.0)
    if isinstance(model, LazyModel):
        engine = LazyStartEngine(
            plan=plan, prompts=prompts, model=model, retriever=retriever, record=record,
            session_id=session_id, corpus_dir=settings.corpus_dir,
        )  # fmt: skip
        engine.autoload = autoload
        return engine
    return Engine(
        plan=plan,
        prompts=prompts,
        model=model,
        retriever=retriever,
        record=record,
        session_id=session_id,
        corpus_dir=settings.corpus_dir,
    )
