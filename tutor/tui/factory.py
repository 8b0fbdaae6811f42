"""How the app obtains an engine: a factory callable, so tests can inject a scripted one."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

from tutor.settings import PROJECT_ROOT, Settings

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


class EngineUnavailable(RuntimeError):
    """No engine factory could be found (the engine package is not importable)."""


# Where the engine side may expose its factory, most specific first.
_CANDIDATES = (
    ("tutor.engine.engine", "build_engine"),
    ("tutor.engine.factory", "build_engine"),
    ("tutor.engine", "build_engine"),
)

FAKE_ENV = "TUTOR_FAKE_ENGINE"
"""Set to 1 (or to a path of a Python file defining `fake_factory`) to run the
app against the scripted engine used by the tests, e.g. for the tmux smoke test."""


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


def _fake_factory(spec: str) -> EngineFactory:
    path = PROJECT_ROOT / "tests" / "tui" / "fakes.py" if spec in {"1", "true", "yes"} else None
    file = path or os.path.abspath(spec)
    module_spec = importlib.util.spec_from_file_location("tutor_tui_fakes", file)
    if module_spec is None or module_spec.loader is None:
        raise EngineUnavailable(f"cannot load the scripted engine from {file}")
    module = importlib.util.module_from_spec(module_spec)
    # Dataclasses look their module up in sys.modules while the file executes.
    sys.modules[module_spec.name] = module
    module_spec.loader.exec_module(module)
    found: Callable[..., TutorEngine | Awaitable[TutorEngine]] = module.fake_factory
    return adapt(found)


def default_factory() -> EngineFactory:
    """The real engine's factory, or the scripted one when TUTOR_FAKE_ENGINE is set.

    Imports lazily: the engine pulls in heavy model libraries, and the app must
    paint its first frame before any of that is loaded.
    """
    fake = os.environ.get(FAKE_ENV, "").strip()
    if fake and fake.lower() not in {"0", "false", "no"}:
        spec = fake.lower() if fake.lower() in {"1", "true", "yes"} else fake

        def scripted(
            settings: Settings, *, resume: bool, progress: ProgressCallback
        ) -> TutorEngine | Awaitable[TutorEngine]:
            return _fake_factory(spec)(settings, resume=resume, progress=progress)

        return scripted

    def lazy(
        settings: Settings, *, resume: bool, progress: ProgressCallback
    ) -> TutorEngine | Awaitable[TutorEngine]:
        errors: list[str] = []
        for module_name, attr in _CANDIDATES:
            try:
                module = importlib.import_module(module_name)
            except ImportError as exc:
                errors.append(f"{module_name}: {exc}")
                continue
            func = getattr(module, attr, None)
            if callable(func):
                return adapt(func)(settings, resume=resume, progress=progress)
        raise EngineUnavailable(
            "the tutor engine is not available (" + "; ".join(errors[:1]) + "); "
            f"set {FAKE_ENV}=1 to try the app with the scripted engine"
        )

    return lazy
