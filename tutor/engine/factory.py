"""Building an engine from settings: the one place the parts are wired together."""

from __future__ import annotations

import logging
from collections.abc import Callable

from tutor.engine.engine import Engine, Retriever
from tutor.engine.plan import load_plan
from tutor.engine.prompts import load_prompts
from tutor.engine.record import Record
from tutor.gateway.types import ChatModel
from tutor.settings import Settings

Progress = Callable[[str, float | None], None]
log = logging.getLogger(__name__)


def _quiet(_message: str, _fraction: float | None) -> None:
    return None


def open_retriever(settings: Settings, progress: Progress) -> Retriever | None:
    """The corpus retriever, building the index first if it is missing or stale.

    Without an index the lesson still runs: reveals then cite the lesson plan itself.
    """
    from tutor.corpus.errors import CorpusError
    from tutor.corpus.index import ensure_index
    from tutor.corpus.retrieval import Retriever as CorpusRetriever

    try:
        ensure_index(settings, progress=progress)
        return CorpusRetriever(settings)
    except CorpusError as exc:
        progress(f"corpus unavailable: {exc}", None)
        log.warning("corpus unavailable: %s", exc)
        return None


def build_engine(
    settings: Settings,
    *,
    resume: bool | str = False,
    progress: Progress | None = None,
    model: ChatModel | None = None,
    retriever: Retriever | None = None,
    use_corpus: bool = True,
    record: Record | None = None,
) -> Engine:
    """Blocking: loads the plan, prompts, model and corpus. Run it off the UI thread.

    `resume=True` continues the latest session, a string resumes that session id.
    """
    report = progress or _quiet
    plan = load_plan(settings.lesson_plan_file)
    prompts = load_prompts(settings.prompts_dir)
    if model is None:
        from tutor.gateway.gateway import Gateway

        report(f"loading model {settings.model.name}", None)
        gateway = Gateway(settings.model)
        if gateway.name.startswith("local/"):
            # Reading the shared system prompt now puts it in llama.cpp's prefix cache,
            # so the first turn does not pay for it.
            system = prompts.render("system", lesson_title=plan.title)
            gateway.warmup(messages=[{"role": "system", "content": system}])
        model = gateway
    if retriever is None and use_corpus:
        report("opening the corpus index", None)
        retriever = open_retriever(settings, report)
    record = record or Record(settings.sessions_db)
    session_id: str | None = None
    if resume is True:
        session_id = record.latest_session()
    elif isinstance(resume, str):
        session_id = resume
    report("ready", 1.0)
    return Engine(
        plan=plan,
        prompts=prompts,
        model=model,
        retriever=retriever,
        record=record,
        session_id=session_id,
    )
