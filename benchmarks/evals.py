"""Eval-suite benchmark: deterministic scorer time per case, and cases per minute against
the embedded model with the whole CI suite's time estimated from it, each beside its goal.

Run: .venv/bin/python benchmarks/evals.py [--sample 8] [--full]
`--full` times the whole CI suite (every case) instead of estimating it from a sample.
Nothing is read from or written to the response cache.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

GOALS = {"scorers_ms": 5.0, "ci_suite_s": 600.0}


def _line(name: str, value: float, unit: str, goal: float) -> str:
    mark = "ok" if value < goal else "OVER"
    return f"{name:<26} {value:9.2f} {unit:<4} goal < {goal:g} {unit}  {mark}"


class _Quiet:
    """A scripted tutor model for the scorer timing: fixed short notes, no numbers."""

    name = "bench/scripted"
    is_local = True

    async def stream(self, messages: object, **kwargs: object) -> object:
        from tutor.gateway.types import Chunk

        yield Chunk(text="Take a moment and commit your guess.")

    async def complete_json(self, messages: object, schema: object) -> object:
        # The scorer timing runs with the judge off, so nothing should ask for JSON.
        raise RuntimeError("the eval benchmark's scripted model has no judge")


async def _solve_all(cases: list, options: object, factory: object) -> list:  # type: ignore[type-arg]
    from tutor.evals.cache import ResponseCache
    from tutor.evals.runner import run_cases

    return await run_cases(
        cases,
        options,  # type: ignore[arg-type]
        model_factory=factory,  # type: ignore[arg-type]
        cache=ResponseCache(Path(tempfile.gettempdir()), enabled=False),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sample", type=int, default=8, help="cases timed against the model")
    parser.add_argument("--full", action="store_true", help="time every case in the CI suite")
    args = parser.parse_args()
    os.environ.setdefault("TUTOR_HOME", tempfile.mkdtemp(prefix="tutor-bench-"))
    os.environ.setdefault("LITELLM_OFFLINE_MODE", "true")

    from tutor.engine.plan import load_plan
    from tutor.engine.prompts import load_prompts
    from tutor.evals.cases import load_cases
    from tutor.evals.runner import RunOptions
    from tutor.evals.scorers import ScoreContext, score_all
    from tutor.evals.suite import load_suite
    from tutor.settings import load_settings

    settings = load_settings()
    suite = load_suite(settings.evals_dir / "suite.yaml")
    plan = load_plan(settings.lesson_plan_file)
    prompts = load_prompts(settings.prompts_dir)
    cases = load_cases(settings.evals_dir / suite.cases, plan)
    print(f"{len(cases)} cases")

    # Scorers: on transcripts from a scripted model, so only the scoring is timed.
    scripted = RunOptions(model_name="bench/scripted", prompts=prompts, plan=plan)
    results = asyncio.run(_solve_all(cases, scripted, _Quiet))
    ctx = ScoreContext(plan=plan, length=dict(suite.length))
    rounds = 5
    started = time.perf_counter()
    for _ in range(rounds):
        for case, result in zip(cases, results, strict=True):
            score_all(case, result.transcript, ctx)
    per_case_ms = (time.perf_counter() - started) * 1000 / (rounds * len(cases))
    print(_line("scorers per case", per_case_ms, "ms", GOALS["scorers_ms"]))

    if args.sample <= 0 and not args.full:
        return
    # The embedded model: cases per minute, no cache, one case at a time like --ci.
    from tutor.gateway.gateway import Gateway
    from tutor.gateway.types import GatewayError

    model_settings = settings.model.model_copy(
        update={"name": suite.ci.model, "temperature": suite.temperature}
    )
    gateway = Gateway(model_settings)
    try:
        load_started = time.perf_counter()
        gateway.warmup()
        load_s = time.perf_counter() - load_started
    except GatewayError as exc:
        print(f"embedded model unavailable, skipped: {exc}")
        return
    print(f"{'model load':<26} {load_s:9.2f} s")
    timed = cases if args.full else _spread(cases, args.sample)
    options = RunOptions(
        model_name=suite.ci.model, prompts=prompts, plan=plan, temperature=suite.temperature
    )
    started = time.perf_counter()
    asyncio.run(_solve_all(timed, options, lambda: gateway))
    elapsed = time.perf_counter() - started
    per_minute = len(timed) * 60 / elapsed
    print(f"{'cases per minute':<26} {per_minute:9.2f}      ({len(timed)} cases in {elapsed:.1f}s)")
    turns = sum(len(c.turns) or 12 for c in cases) / max(1, sum(len(c.turns) or 12 for c in timed))
    estimate = elapsed * (1 if args.full else turns) + load_s
    label = "CI suite (measured)" if args.full else "CI suite (estimated)"
    print(_line(label, estimate, "s", GOALS["ci_suite_s"]))
    sys.stdout.flush()


def _spread(cases: list, n: int) -> list:  # type: ignore[type-arg]
    """Every k-th case, so the sample mixes single replies, numeric and persona cases."""
    if n >= len(cases):
        return cases
    step = len(cases) / n
    return [cases[int(i * step)] for i in range(n)]


if __name__ == "__main__":
    main()
