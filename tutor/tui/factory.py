"""How the app obtains an engine: a factory callable, so tests can hand it a scripted model."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

from tutor.settings import Settings

if TYPE_CHECKING:
    from tutor.engine.protocol import TutorEngine

ProgressCallback = Callable[[str, float | None], None]
"""`progress(message, fraction)`: fraction in [0, 1], or None when unknown."""


class EngineFactory(Protocol):
    """Builds (or resumes) a session's engine.

    Called on the app's engine thread, never on the UI thread, so a synchronous
    factory may block while it loads models. An async factory is awaited on the
    engine thread's own event loop, which is also where every engine iterator runs.
    `progress` may be called from that thread; the app marshals it to the UI.
    """

    def __call__(
        self, settings: Settings, *, resume: bool, progress: ProgressCallback
    ) -> TutorEngine | Awaitable[TutorEngine]: ...


def adapt(func: Callable[..., TutorEngine | Awaitable[TutorEngine]]) -> EngineFactory:
    """Wrap a `build_engine`-style callable that may not accept `progress` or `resume`."""
    params = inspect.signature(func).parameters
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    takes_progress = accepts_any or "progress" in params
    takes_resume = accepts_any or "resume" in params

    def factory(
        settings: Settings, *, resume: bool, progress: ProgressCallback
    ) -> TutorEngine | Awaitable[TutorEngine]:
        kwargs: dict[str, object] = {}
        if takes_resume:
            kwargs["resume"] = resume
        if takes_progress:
            kwargs["progress"] = progress
        return func(settings, **kwargs)

    return factory


def default_factory() -> EngineFactory:
    """The real engine's factory.

    Imports lazily: the engine pulls in heavy model libraries, and the app must
    paint its first frame before any of that is loaded.
    """

    def lazy(
        settings: Settings, *, resume: bool, progress: ProgressCallback
    ) -> TutorEngine | Awaitable[TutorEngine]:
        from tutor.engine.factory import build_engine

        # The app starts the background loading itself, once the opening is painted.
        return build_engine(settings, resume=resume, progress=progress, autoload=False)

    return lazy
