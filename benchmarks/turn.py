"""Turn latency with the embedded model: first token, whole turn, and engine overhead.

Runs ASK and REVEAL turns through the real engine (real calculator, real corpus index,
embedded SmolLM2) and times the model separately, so the share of each turn spent
outside the model (retrieval, prompt building, guards) is measured, not guessed.

    python benchmarks/turn.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

GOAL_OVERHEAD = 0.10
GOAL_FIRST_TOKEN_S = 1.5


class TimedModel:
    """Wraps a ChatModel and adds up the wall time spent inside its streams."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.model_seconds = 0.0
        self.first_token: list[float] = []

    @property
    def name(self) -> str:
        return str(self.inner.name)

    @property
    def is_local(self) -> bool:
        return bool(self.inner.is_local)

    async def stream(self, messages: Any, **kwargs: Any) -> AsyncIterator[Any]:
        start = time.perf_counter()
        first = True
        iterator = self.inner.stream(messages, **kwargs).__aiter__()
        while True:
            t0 = time.perf_counter()
            try:
                chunk = await iterator.__anext__()
            except StopAsyncIteration:
                self.model_seconds += time.perf_counter() - t0
                break
            self.model_seconds += time.perf_counter() - t0
            if first:
                self.first_token.append(time.perf_counter() - start)
                first = False
            yield chunk

    async def complete_json(self, messages: Any, schema: Any) -> Any:
        return await self.inner.complete_json(messages, schema)


async def run(rounds: int) -> int:
    from tutor.engine.factory import build_engine
    from tutor.gateway.gateway import Gateway
    from tutor.gateway.offline import apply
    from tutor.settings import load_settings

    apply()
    home = Path(tempfile.mkdtemp(prefix="tutor-bench-"))
    settings = load_settings(home=home)
    gateway = Gateway(settings.model)
    gateway.warmup()
    timed = TimedModel(gateway)
    # Blocking: builds the corpus index and loads the search once, untimed.
    engine = build_engine(settings, model=timed, background=False)
    from tutor.engine.events import TextDelta

    rows: dict[str, list[tuple[float, float, float, float]]] = {
        "ASK": [],
        "REVEAL": [],
        "REVEAL*": [],
    }
    embedded_strict = engine.strict_wording
    for _ in range(rounds):
        for kind, action in (("ASK", None), ("REVEAL", "B"), ("REVEAL*", "B")):
            # REVEAL* lets the model word the reveal, as hosted models do; by default the
            # embedded model's reveals are code only, so REVEAL calls no model at all.
            engine.strict_wording = embedded_strict if kind != "REVEAL*" else False
            engine.goto("step-1")
            timed.model_seconds = 0.0
            timed.first_token.clear()
            start = time.perf_counter()
            events = engine.start() if action is None else engine.send(action)
            if action is None:
                engine.state.started = False
            first_text = float("nan")
            async for event in events:
                if isinstance(event, TextDelta) and first_text != first_text:
                    first_text = time.perf_counter() - start
            total = time.perf_counter() - start
            ttft = timed.first_token[0] if timed.first_token else float("nan")
            rows[kind].append((total, timed.model_seconds, ttft, first_text))
    ok = True
    print(f"model: {settings.model.name}   rounds: {rounds}")
    print(
        f"{'turn':<8}{'turn s':>9}{'model s':>9}{'outside':>9}{'model 1st token s':>19}"
        f"{'1st text s':>12}"
    )
    for kind, samples in rows.items():
        total = statistics.median(s[0] for s in samples)
        model = statistics.median(s[1] for s in samples)
        ttft = statistics.median(s[2] for s in samples)
        first_text = statistics.median(s[3] for s in samples)
        share = (total - model) / total if total else 0.0
        if model > 0:  # a turn that calls no model has no model share or first token
            ok &= share < GOAL_OVERHEAD and ttft < GOAL_FIRST_TOKEN_S
        print(f"{kind:<8}{total:>9.2f}{model:>9.2f}{share:>8.1%}{ttft:>19.2f}{first_text:>12.2f}")
    print(
        f"goals: outside-model share < {GOAL_OVERHEAD:.0%}; model first token < "
        f"{GOAL_FIRST_TOKEN_S} s (1st text = the learner's first words, from code)"
    )
    print("REVEAL* = the same reveal worded by the model (strict wording off)")
    print("result:", "met" if ok else "NOT met")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args.rounds)))


if __name__ == "__main__":
    main()
