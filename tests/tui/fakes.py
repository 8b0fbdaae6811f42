"""A scripted engine implementing the TutorEngine protocol, for tests and the smoke run.

Deterministic: the same calls always yield the same events. It walks a short version of
Lesson 23 (four prediction steps, recall, final check), uses the calculator on step 2,
cites sources on reveals, and fails any turn whose text contains "fail".
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from tutor.engine.events import (
    Citation,
    Event,
    Option,
    Phase,
    PhaseChanged,
    PredictionRequested,
    Retrieved,
    TextDelta,
    ToolCalled,
    ToolRecord,
    ToolResult,
    TurnDone,
    TurnFailed,
    Verdict,
)
from tutor.engine.protocol import CommitResult, StepKind, StepProgress, TranscriptEntry

CITATIONS = [
    Citation(
        id="lesson-23#step-1",
        title="Lesson 23 · Multi-Instance GPU",
        section="Step 1 — what MIG does",
        url="https://example.invalid/lesson-23#step-1",
        text="MIG hardware-partitions one GPU into isolated instances, each with its own "
        "SMs, L2 cache slice and HBM. A noisy neighbour cannot steal another's memory "
        "bandwidth.",
        score=0.91,
    ),
    Citation(
        id="nvidia-mig-guide#profiles",
        title="NVIDIA MIG User Guide",
        section="Supported MIG profiles",
        url="https://docs.nvidia.com/datacenter/tesla/mig-user-guide/",
        text="A100-80GB supports up to seven 1g.10gb GPU instances.",
        score=0.84,
    ),
]

CAPACITY = ToolRecord(
    name="mig_capacity",
    arguments={"gpu": "A100-80GB", "profile": "1g.10gb"},
    result={
        "gpu": "A100-80GB",
        "profile": "1g.10gb",
        "count": 7,
        "memory_gb_each": 10,
        "placements": [{"profile": "1g.10gb", "start": i, "size": 1} for i in range(7)],
        "basis": "A100-80GB shares the A100-40GB geometry (NVIDIA docs)",
    },
    diagram="|1g|1g|1g|1g|1g|1g|1g|  |\n 0  1  2  3  4  5  6  7",
)


@dataclass(frozen=True)
class FakeStep:
    step_id: str
    title: str
    kind: StepKind
    question: str
    options: tuple[Option, ...] = ()
    numeric: bool = False
    answer: str = ""
    explanation: str = ""
    misconception: str | None = None
    tool: ToolRecord | None = None


def _opts(*pairs: tuple[str, str]) -> tuple[Option, ...]:
    return tuple(Option(key=k, text=t) for k, t in pairs)


STEPS: tuple[FakeStep, ...] = (
    FakeStep(
        "step-1",
        "Step 1 — what MIG does",
        "step",
        "A 94 GB GPU runs a model that needs 20 GB. What does MIG do to share it?",
        _opts(
            ("A", "Runs tenants in turns on the whole GPU"),
            ("B", "Splits it into isolated instances with their own SMs and memory"),
            ("C", "Moves idle memory to another GPU"),
        ),
        answer="B",
        explanation="MIG **hardware-partitions** the GPU: each instance gets its own SMs, "
        "L2 slice and HBM, so a noisy neighbour cannot slow you down [1].",
        misconception="Taking turns on the whole GPU is time-slicing, not MIG.",
    ),
    FakeStep(
        "step-2",
        "Step 2 — how many fit",
        "step",
        "How many 1g.10gb instances fit on one A100-80GB?",
        numeric=True,
        answer="7",
        explanation="The calculator places 7 instances of 1g.10gb, 10 GB each, on slots 0-6; "
        "slot 7 only serves the full 7g profile [2].",
        misconception="Eight memory slots do not mean eight instances: compute has 7 slices.",
        tool=CAPACITY,
    ),
    FakeStep(
        "step-3",
        "Step 3 — when to use which",
        "step",
        "Two tenants need guaranteed latency SLOs. Which sharing mode?",
        _opts(("A", "MIG"), ("B", "Time-slicing")),
        answer="A",
        explanation="Guaranteed isolation needs MIG; time-slicing lets a heavy tenant starve "
        "the others.",
        misconception="Time-slicing oversubscribes but does not isolate.",
    ),
    FakeStep(
        "step-4",
        "Step 4 — your cluster",
        "step",
        "Your cluster runs time-slicing ×5 on each GPU. How many logical GPUs do 4 GPUs give?",
        numeric=True,
        answer="20",
        explanation="4 GPUs × 5 replicas = 20 logical GPUs, with no hardware isolation.",
    ),
    FakeStep("recall", "Recall", "recall", "Cover the screen: MIG vs time-slicing, one line each."),
    FakeStep(
        "teach-back",
        "Final check",
        "teach_back",
        "Explain to a colleague: “We'd switch from time-slicing to MIG if…”",
    ),
)


@dataclass
class FakeState:
    session_id: str
    index: int = 0
    phase: Phase = "ask"
    committed: str | None = None
    outcomes: dict[str, tuple[str, str, bool]] = field(default_factory=dict)
    transcript: list[TranscriptEntry] = field(default_factory=list)


# Sessions "saved" per home directory, so a second app in the same test can resume.
SAVED: dict[str, FakeState] = {}


def _chunks(text: str) -> list[str]:
    return re.findall(r"\S+\s*|\s+", text)


class FakeEngine:
    def __init__(self, state: FakeState, *, home: str = "", delay: float = 0.0) -> None:
        self.state = state
        self.home = home
        self.delay = delay
        self.calls: list[str] = []

    # -- protocol properties --
    @property
    def session_id(self) -> str:
        return self.state.session_id

    @property
    def phase(self) -> Phase:
        return self.state.phase

    @property
    def step(self) -> FakeStep | None:
        return STEPS[self.state.index] if self.state.index < len(STEPS) else None

    @property
    def step_id(self) -> str | None:
        return self.step.step_id if self.step else None

    @property
    def committed_guess(self) -> str | None:
        return self.state.committed

    def progress(self) -> list[StepProgress]:
        rows = []
        for i, step in enumerate(STEPS):
            outcome = self.state.outcomes.get(step.step_id)
            if outcome is not None:
                guess, answer, right = outcome
                status = "done" if step.kind != "step" else ("right" if right else "wrong")
                rows.append(
                    StepProgress(
                        step_id=step.step_id,
                        title=step.title,
                        kind=step.kind,
                        status=status,
                        guess=guess or None,
                        answer=answer or None,
                    )
                )
            else:
                current = i == self.state.index
                rows.append(
                    StepProgress(
                        step_id=step.step_id,
                        title=step.title,
                        kind=step.kind,
                        status="current" if current else "pending",
                        guess=self.state.committed if current else None,
                    )
                )
        return rows

    def transcript(self) -> list[TranscriptEntry]:
        return list(self.state.transcript)

    # -- helpers --
    def _record(
        self,
        role: Literal["learner", "tutor"],
        text: str,
        phase: Phase,
        citations: Sequence[Citation] = (),
        tools: Sequence[ToolRecord] = (),
    ) -> None:
        self.state.transcript.append(
            TranscriptEntry(
                role=role,
                text=text,
                phase=phase,
                step_id=self.step_id,
                citations=[c.model_dump() for c in citations],
                tool_calls=[t.model_dump() for t in tools],
            )
        )
        if self.home:
            SAVED[self.home] = self.state

    async def _say(self, text: str) -> AsyncIterator[Event]:
        for chunk in _chunks(text):
            if self.delay:
                await asyncio.sleep(self.delay)
            yield TextDelta(text=chunk)

    async def _ask(self) -> AsyncIterator[Event]:
        step = self.step
        if step is None:
            self.state.phase = "done"
            text = "That's the lesson. Ask me anything about MIG."
            yield PhaseChanged(phase="done")
            async for ev in self._say(text):
                yield ev
            self._record("tutor", text, "done")
            yield TurnDone(phase="done", text=text)
            return
        phase: Phase = "ask" if step.kind == "step" else step.kind
        self.state.phase = phase
        yield PhaseChanged(phase=phase, step_id=step.step_id, step_title=step.title)
        text = f"**{step.title}.** {step.question}"
        if step.kind == "step":
            text += " Commit a guess before the reveal."
        async for ev in self._say(text):
            yield ev
        if step.kind == "step":
            yield PredictionRequested(
                step_id=step.step_id,
                question=step.question,
                options=list(step.options),
                numeric=step.numeric,
            )
        self._record("tutor", text, phase)
        yield TurnDone(phase=phase, text=text, step_id=step.step_id, model="fake")

    def _normalise(self, guess: str) -> str | None:
        step = self.step
        if step is None or step.kind != "step":
            return None
        g = guess.strip()
        if step.options:
            keys = {o.key.lower(): o.key for o in step.options}
            return keys.get(g.lower().rstrip(".)"))
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*", g)
        return match.group(1) if match else None

    # -- protocol methods --
    async def start(self) -> AsyncIterator[Event]:
        self.calls.append("start")
        async for ev in self._ask():
            yield ev

    def commit(self, guess: str) -> CommitResult:
        self.calls.append(f"commit:{guess}")
        step = self.step
        normal = self._normalise(guess)
        if step is None or self.state.phase != "ask" or normal is None:
            return CommitResult(
                step_id=self.step_id or "",
                guess=guess,
                accepted=False,
                message="That is not a guess for this step.",
            )
        self.state.committed = normal
        return CommitResult(step_id=step.step_id, guess=normal, accepted=True)

    async def reveal(self) -> AsyncIterator[Event]:
        self.calls.append("reveal")
        async for ev in self._reveal():
            yield ev

    async def _reveal(self) -> AsyncIterator[Event]:
        step = self.step
        if step is None or self.state.committed is None:
            yield TurnFailed(message="Commit a guess before the reveal.", learner_text="")
            return
        guess = self.state.committed
        right = guess.lower() == step.answer.lower()
        self.state.phase = "reveal"
        yield PhaseChanged(phase="reveal", step_id=step.step_id, step_title=step.title)
        citations = [CITATIONS[0], CITATIONS[1]] if step.step_id in {"step-1", "step-2"} else []
        if citations:
            yield Retrieved(citations=citations)
        tools: list[ToolRecord] = []
        if step.tool is not None:
            yield ToolCalled(name=step.tool.name, arguments=step.tool.arguments)
            yield ToolResult(record=step.tool)
            tools.append(step.tool)
        yield Verdict(
            step_id=step.step_id,
            guess=guess,
            answer=step.answer,
            correct=right,
            misconception=None if right else step.misconception,
        )
        opening = "Right." if right else f"Not quite — the answer is {step.answer}."
        text = f"{opening} {step.explanation}"
        async for ev in self._say(text):
            yield ev
        self._record("tutor", text, "reveal", citations, tools)
        yield TurnDone(
            phase="reveal",
            text=text,
            citations=citations,
            tool_calls=tools,
            step_id=step.step_id,
            model="fake",
        )
        self.state.outcomes[step.step_id] = (guess, step.answer, right)
        self.state.committed = None
        self.state.index += 1
        async for ev in self._ask():
            yield ev

    async def send(self, text: str) -> AsyncIterator[Event]:
        self.calls.append(f"send:{text}")
        if "fail" in text.lower():
            yield TurnFailed(
                message="provider error: the model timed out after 120 s", learner_text=text
            )
            return
        self._record("learner", text, self.state.phase)
        step = self.step
        if step is not None and self.state.phase == "ask":
            normal = self._normalise(text)
            if normal is not None:
                self.state.committed = normal
                async for ev in self._reveal():
                    yield ev
                return
        if step is not None and step.kind in {"recall", "teach_back"}:
            phase: Phase = step.kind
            reply = "Good — MIG isolates in hardware; time-slicing shares in turns."
            async for ev in self._say(reply):
                yield ev
            self._record("tutor", reply, phase)
            yield TurnDone(phase=phase, text=reply, step_id=step.step_id, model="fake")
            self.state.outcomes[step.step_id] = (text[:40], "", True)
            self.state.index += 1
            async for ev in self._ask():
                yield ev
            return
        yield Retrieved(citations=[CITATIONS[0]])
        reply = (
            "MIG gives each tenant its own slice of the GPU. "
            "Commit your guess above when you're ready."
        )
        async for ev in self._say(reply):
            yield ev
        self._record("tutor", reply, self.state.phase, [CITATIONS[0]])
        yield TurnDone(phase=self.state.phase, text=reply, citations=[CITATIONS[0]], model="fake")


def make_factory(
    *,
    delay: float = 0.0,
    load_delay: float = 0.0,
    gate: threading.Event | None = None,
    fail_load: str | None = None,
    built: list[FakeEngine] | None = None,
) -> Callable[..., FakeEngine]:
    """A factory with the app's expected signature; `gate` holds the load until set."""

    def factory(
        settings: object, *, resume: bool, progress: Callable[[str, float | None], None]
    ) -> FakeEngine:
        progress("loading model…", 0.0)
        if load_delay:
            time.sleep(load_delay)
        if gate is not None:
            gate.wait(timeout=30)
        progress("loading embedding model…", 0.5)
        if fail_load:
            raise RuntimeError(fail_load)
        home = str(getattr(settings, "home", ""))
        state = SAVED.get(home) if resume else None
        if state is None:
            state = FakeState(session_id=f"fake-{len(SAVED) + 1:03d}")
        engine = FakeEngine(state, home=home, delay=delay)
        if built is not None:
            built.append(engine)
        progress("ready", 1.0)
        return engine

    return factory


def fake_factory(
    settings: object, *, resume: bool, progress: Callable[[str, float | None], None]
) -> FakeEngine:
    """The factory TUTOR_FAKE_ENGINE=1 loads: pacing comes from the environment."""
    factory = make_factory(
        delay=float(os.environ.get("TUTOR_FAKE_DELAY", "0.02")),
        load_delay=float(os.environ.get("TUTOR_FAKE_LOAD_S", "0.3")),
    )
    return factory(settings, resume=resume, progress=progress)
