"""The real engine with a scripted model, for the app's tests, the tmux smoke run and the
start-up benchmark.

Nothing here stands in for the engine: `build_engine` wires the real `Engine`, lesson
plan, prompts and sessions database; only the model (and, for web addresses in the
sources panel, the retriever) is scripted. Run the app on it with
`python -m tests.tui.scripted [--fresh]`.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fakes import ScriptedModel, by_template
from tutor.engine.engine import Engine
from tutor.engine.events import Citation
from tutor.engine.factory import build_engine
from tutor.gateway.types import Chunk, Message
from tutor.settings import Settings

COUNTING = Path(__file__).resolve().parents[1] / "lessons" / "counting" / "plan.yaml"
"""The second lesson (three steps, one numeric): the app must teach it unchanged."""

# Ten short invitations, each passing the guards as its own sentence: the opening turn
# then streams a dozen deltas, enough for the status line's tokens-per-second figure.
ASK_NOTE = (
    "Take a moment. Think first. Pick one option. Commit your guess. A wrong guess is fine. "
    "Predicting makes it stick. Try your hunch. Choose a letter. Then I reveal. "
    "Ready when you are."
)
REPLY = "Good."


class TutorModel(ScriptedModel):
    """A scripted model whose failures the test switches on: a provider error (which the
    engine turns into TurnFailed) or a bug (an exception that is not a GatewayError)."""

    def __init__(self, name: str = "fake/scripted", delay: float = 0.0) -> None:
        super().__init__(by_template(ask=ASK_NOTE, default=REPLY), name=name)
        self.bug: Exception | None = None
        self.delay = delay

    async def stream(
        self,
        messages: list[Message],
        *,
        tools: list[dict[str, Any]] | None = None,
        max_tokens: int | None = None,
    ) -> AsyncIterator[Chunk]:
        if self.bug is not None:
            raise self.bug
        async for chunk in super().stream(messages, tools=tools, max_tokens=max_tokens):
            if self.delay:
                time.sleep(self.delay)  # a model generating on the engine thread blocks it
            yield chunk


@dataclass
class _Hit:
    citation: Citation

    def to_citation(self) -> Citation:
        return self.citation


# Two passages with web addresses (facts from NVIDIA's MIG User Guide), so the sources
# panel has links to show; the engine gates them like any corpus passage.
PASSAGES = (
    Citation(
        id="mig-user-guide#concepts",
        title="NVIDIA MIG User Guide",
        section="Concepts",
        url="https://docs.nvidia.com/datacenter/tesla/mig-user-guide/concepts.html",
        text="A GPU instance has its own SMs, memory slices and L2 cache slices.",
        score=0.9,
    ),
    Citation(
        id="mig-user-guide#profiles",
        title="NVIDIA MIG User Guide",
        section="Supported MIG profiles",
        url="https://docs.nvidia.com/datacenter/tesla/mig-user-guide/supported-mig-profiles.html",
        text="The A100 80GB offers the profiles 1g.10gb, 2g.20gb, 3g.40gb, 4g.40gb and 7g.80gb.",
        score=0.8,
    ),
)


class ScriptedRetriever:
    def search(self, query: str, k: int = 5, **_: object) -> list[_Hit]:
        return [_Hit(c) for c in PASSAGES][:k]


@dataclass
class Built:
    """What a factory made, so a test can look at the real engine behind the app."""

    engines: list[Engine] = field(default_factory=list)
    models: list[TutorModel] = field(default_factory=list)

    @property
    def engine(self) -> Engine:
        return self.engines[-1]

    @property
    def model(self) -> TutorModel:
        return self.models[-1]


def make_factory(
    *,
    built: Built | None = None,
    gate: threading.Event | None = None,
    fail_load: str | None = None,
    load_delay: float = 0.0,
    delay: float = 0.0,
) -> Callable[..., Engine]:
    """A factory with the app's signature; `gate` holds the load until it is set."""

    def factory(
        settings: Settings, *, resume: bool, progress: Callable[[str, float | None], None]
    ) -> Engine:
        progress("loading model…", 0.0)
        if load_delay:
            time.sleep(load_delay)
        if gate is not None:
            gate.wait(timeout=30)
        progress("loading embedding model…", 0.5)
        if fail_load:
            raise RuntimeError(fail_load)
        model = TutorModel(name=settings.model.name, delay=delay)
        engine = build_engine(
            settings, resume=resume, progress=progress, model=model, retriever=ScriptedRetriever()
        )
        if built is not None:
            built.engines.append(engine)
            built.models.append(model)
        return engine

    return factory


def main(argv: list[str] | None = None) -> None:
    from tutor.settings import load_settings
    from tutor.tui.app import TutorApp, log_to_file, size_from_the_terminal
    from tutor.tui.bench import BenchReporter

    parser = argparse.ArgumentParser(prog="python -m tests.tui.scripted", description=__doc__)
    parser.add_argument("--fresh", action="store_true", help="start a new session")
    args = parser.parse_args(argv)
    settings = load_settings()
    factory = make_factory(
        load_delay=float(os.environ.get("TUTOR_SCRIPTED_LOAD_S", "0.3")),
        delay=float(os.environ.get("TUTOR_SCRIPTED_DELAY", "0.01")),
    )
    bench = BenchReporter.from_env()
    app = TutorApp(settings, factory, resume=not args.fresh, bench=bench)
    app.log_file = log_to_file(settings)
    size_from_the_terminal()
    app.run(headless=bench is not None)


if __name__ == "__main__":
    main()
