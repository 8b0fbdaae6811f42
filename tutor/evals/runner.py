"""The runner: solve every case (or read it from the cache), score it, judge a sample,
write the results and decide the gates.

Over 400 lines: solving, caching, judging and gating one run share its options and
results.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from tutor.engine.engine import Engine, Retriever
from tutor.engine.plan import LessonPlan
from tutor.engine.prompts import PromptSet
from tutor.evals.cache import ResponseCache, cache_key
from tutor.evals.cases import Case
from tutor.evals.judge import DIMENSIONS, LABEL_SCORE, JudgeResult, judge_input, judge_reply
from tutor.evals.scorers import SCORERS, Score, ScoreContext, score_all
from tutor.evals.solver import solve
from tutor.evals.suite import Suite
from tutor.evals.transcript import Transcript
from tutor.gateway.types import ChatModel

ModelFactory = Callable[[], ChatModel]


class CaseResult(BaseModel):
    case_id: str
    tags: list[str] = Field(default_factory=list)
    description: str = ""
    start: str = ""
    model: str
    prompt_hash: str
    prompts_dir: str = ""
    cached: bool = False
    seconds: float = 0.0
    scores: list[Score] = Field(default_factory=list)
    judge: JudgeResult | None = None
    transcript: Transcript

    def score(self, name: str) -> Score | None:
        return next((s for s in self.scores if s.name == name), None)


class Rate(BaseModel):
    passed: int = 0
    applicable: int = 0

    @property
    def rate(self) -> float | None:
        """None when no case could be judged: an empty check is not a passed one."""
        return self.passed / self.applicable if self.applicable else None


class JudgeStat(BaseModel):
    n: int = 0
    mean: float = 0.0
    counts: dict[str, int] = Field(default_factory=dict)


class Check(BaseModel):
    name: str
    threshold: float
    value: float | None
    passed: bool
    applicable: int | None = None
    min_cases: int | None = None
    message: str = ""


class RunSummary(BaseModel):
    run_id: str
    started: str
    seconds: float
    model: str
    judge_model: str | None
    prompts_dir: str
    prompt_hash: str
    prompt_files: dict[str, str] = Field(
        default_factory=dict, description="each prompt file's content hash, for compare"
    )
    cases: int
    cached: int
    scorers: dict[str, Rate]
    judge: dict[str, JudgeStat] = Field(default_factory=dict)
    judge_errors: int = 0
    gates: list[Check] = Field(default_factory=list)
    targets: list[Check] = Field(default_factory=list)
    failures: dict[str, list[str]] = Field(default_factory=dict)
    disagreements: dict[str, str] = Field(
        default_factory=dict, description="case -> where the leak oracle and the guard disagree"
    )
    passed: bool = True


@dataclass
class RunOptions:
    model_name: str
    prompts: PromptSet
    plan: LessonPlan
    judge_name: str | None = None
    corpus: bool = False
    temperature: float = 0.0
    concurrency: int = 1
    judge_sample: int | None = None
    run_id: str | None = None
    model_key: str = ""
    """The model file's hash (embedded models) or the model string and endpoint."""
    judge_key: str = ""
    corpus_key: str | None = None
    """The corpus digest when passages are retrieved; None when reveals cite the plan."""
    extra_key: dict[str, Any] = field(default_factory=dict)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def tree_digest(root: Path, *, suffixes: tuple[str, ...] | None = None) -> str:
    """Every file under `root` (name and bytes), skipping caches; a changed file changes it."""
    hasher = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        if suffixes is not None and path.suffix not in suffixes:
            continue
        hasher.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return hasher.hexdigest()[:16]


def code_digest() -> str:
    """All of tutor/: engine, gateway, calculator, reader, their data. Any change there
    can change a reply, so it must miss the cache."""
    return tree_digest(Path(__file__).resolve().parent.parent)


def file_digest(path: Path) -> str:
    hasher = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(block)
    return hasher.hexdigest()[:16]


def model_key(name: str, api_base: str | None = None, gguf_path: Path | None = None) -> str:
    """What identifies a model's replies: an embedded model's file hash, else its string
    and endpoint (a hosted model's weights are the provider's to change)."""
    if name.startswith("local/"):
        from tutor.gateway.local import resolve_gguf

        return f"{name}@{file_digest(resolve_gguf(name, gguf_path))}"
    return f"{name}@{api_base or ''}"


def prompt_files(prompts: PromptSet) -> dict[str, str]:
    return {
        f"{name}.md": _digest(template.template.encode())
        for name, template in sorted(prompts.templates.items())
    }


def plan_digest(plan: LessonPlan) -> str:
    return _digest(plan.model_dump_json().encode())


def new_run_id(runs_dir: Path, model_name: str, prompt_hash: str) -> str:
    """Time, model and prompt hash; a suffix keeps two runs in the same second apart."""
    slug = re.sub(r"[^a-z0-9]+", "-", model_name.lower()).strip("-")[:24]
    base = f"{datetime.now():%Y%m%d-%H%M%S}-{slug}-{prompt_hash[:6]}"
    run_id, n = base, 1
    while (runs_dir / run_id).exists():
        n += 1
        run_id = f"{base}-{n}"
    return run_id


def judge_sample(cases: list[Case], size: int | None) -> set[str]:
    """A fixed sample (by hashed id), so two runs judge the same cases."""
    judged = [c.id for c in cases if c.judge]
    if size is None:
        return set(judged)
    judged.sort(key=lambda i: hashlib.sha256(i.encode()).hexdigest())
    return set(judged[:size])


class _Progress:
    """A rich progress bar on stderr, or nothing (tests, --json without a terminal)."""

    def __init__(self, enabled: bool, total: int) -> None:
        self._bar: Any = None
        self._task: Any = None
        if enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
            )
            self._task = self._bar.add_task("cases", total=total)

    def __enter__(self) -> _Progress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def advance(self, label: str) -> None:
        if self._bar is not None:
            self._bar.update(self._task, advance=1, description=label[:40])


async def run_cases(
    cases: list[Case],
    options: RunOptions,
    *,
    model_factory: ModelFactory,
    judge_factory: ModelFactory | None = None,
    retriever: Retriever | None = None,
    cache: ResponseCache,
    progress: bool = False,
) -> list[CaseResult]:
    """Solve, score and judge each case; models are built only when a case misses the cache."""
    models: dict[str, ChatModel] = {}

    def model() -> ChatModel:
        if "tutor" not in models:
            models["tutor"] = model_factory()
        return models["tutor"]

    def judge_model() -> ChatModel:
        assert judge_factory is not None
        if "judge" not in models:
            models["judge"] = judge_factory()
        return models["judge"]

    base = dict(
        model=options.model_name,
        model_file=options.model_key,
        temperature=options.temperature,
        prompts=options.prompts.digest,
        plan=plan_digest(options.plan),
        corpus=options.corpus,
        corpus_digest=options.corpus_key if options.corpus else None,
        code=code_digest(),
        **options.extra_key,
    )
    sample = judge_sample(cases, options.judge_sample) if options.judge_name else set()
    ctx = ScoreContext(plan=options.plan)
    # The local model runs in process on one thread: more than one case at a time only
    # interleaves them, so concurrency is the caller's choice for hosted models only.
    gate = asyncio.Semaphore(max(1, options.concurrency))
    results: dict[str, CaseResult] = {}

    async def _judge(case: Case, transcript: Transcript) -> JudgeResult | None:
        found = judge_input(case, transcript, options.plan)
        if found is None:
            return None
        turn, item = found
        jkey = cache_key(
            judge=options.judge_name,
            judge_file=options.judge_key,
            item=item.model_dump(),
            temperature=options.temperature,
            code=base["code"],
        )
        verdict = cache.get("judgements", jkey, JudgeResult)
        if verdict is None:
            async with gate:
                verdict = await judge_reply(judge_model(), item)
            verdict.turn = turn
            if verdict.error is None:
                cache.put("judgements", jkey, verdict)
        return verdict

    async def one(case: Case, bar: _Progress) -> None:
        started = time.perf_counter()
        key = cache_key(case=case.digest(), **base)
        transcript = cache.get("transcripts", key, Transcript)
        cached = transcript is not None
        if transcript is None:
            async with gate:
                # Timed inside the gate: waiting for a turn is not the case's cost.
                started = time.perf_counter()
                engine = Engine(
                    plan=options.plan,
                    prompts=options.prompts,
                    model=model(),
                    retriever=retriever,
                )
                transcript = await solve(case, engine, options.plan)
            # A crash, a case error or a failed provider call is never cached: a rerun
            # after the fix must call the model again, not replay the failure.
            if transcript.error is None and not transcript.provider_failed:
                cache.put("transcripts", key, transcript)
        scores = score_all(case, transcript, ctx)
        verdict: JudgeResult | None = None
        if case.id in sample and options.judge_name:
            try:
                verdict = await _judge(case, transcript)
            except Exception as exc:  # the judge is reported, never allowed to sink the run
                verdict = JudgeResult(error=f"{type(exc).__name__}: {exc}")
        results[case.id] = CaseResult(
            case_id=case.id,
            tags=case.tags,
            description=case.description,
            start=case.start,
            model=options.model_name,
            prompt_hash=options.prompts.digest,
            prompts_dir=str(options.prompts.folder),
            cached=cached,
            seconds=time.perf_counter() - started,
            scores=scores,
            judge=verdict,
            transcript=transcript,
        )
        bar.advance(case.id)

    with _Progress(progress, len(cases)) as bar:
        await asyncio.gather(*(one(case, bar) for case in cases))
    return [results[c.id] for c in cases]


def summarise(
    results: list[CaseResult],
    options: RunOptions,
    suite: Suite,
    *,
    run_id: str,
    started: str,
    seconds: float,
    subset: bool = False,
) -> RunSummary:
    """Rates per scorer, judge means, and the gates. `subset`: the run covers a chosen part
    of the suite (--cases, --tag), so a gate needs one applicable case, not the suite's
    minimum, though a gate with none still fails."""
    rates: dict[str, Rate] = {name: Rate() for name in SCORERS}
    failures: dict[str, list[str]] = {}
    for result in results:
        for score in result.scores:
            if score.passed is None:
                continue
            rate = rates.setdefault(score.name, Rate())
            rate.applicable += 1
            if score.passed:
                rate.passed += 1
            else:
                failures.setdefault(score.name, []).append(result.case_id)
    judge: dict[str, JudgeStat] = {}
    errors = 0
    for result in results:
        if result.judge is None:
            continue
        if result.judge.labels is None:
            errors += 1
            continue
        for dim, label in result.judge.labels.as_dict().items():
            stat = judge.setdefault(dim, JudgeStat())
            stat.counts[label] = stat.counts.get(label, 0) + 1
            stat.n += 1
    for stat in judge.values():
        stat.mean = sum(LABEL_SCORE[k] * v for k, v in stat.counts.items()) / max(1, stat.n)

    def value_of(name: str) -> float | None:
        if name.startswith("judge."):
            stat = judge.get(name.removeprefix("judge."))
            return stat.mean if stat else None
        rate = rates.get(name)
        return rate.rate if rate else None

    gates = []
    for name, gate in suite.gates.items():
        rate = rates.get(name, Rate())
        needed = 1 if subset else gate.min_cases
        value = rate.rate
        message = ""
        if rate.applicable < needed:
            message = (
                f"gate {name}: {rate.applicable} applicable case(s), fewer than the {needed} "
                "evals/suite.yaml requires"
            )
        elif value is not None and value < gate.pass_rate - 1e-9:
            message = (
                f"gate {name}: {rate.passed}/{rate.applicable} passed, below {gate.pass_rate:.0%}"
            )
        gates.append(
            Check(
                name=name,
                threshold=gate.pass_rate,
                value=value,
                passed=not message,
                applicable=rate.applicable,
                min_cases=needed,
                message=message,
            )
        )
    targets = []
    for name, threshold in suite.targets.items():
        if name.startswith("judge.") and name.removeprefix("judge.") not in DIMENSIONS:
            continue
        value = value_of(name)
        targets.append(
            Check(
                name=name,
                threshold=threshold,
                value=value,
                passed=value is not None and value >= threshold - 1e-9,
            )
        )
    return RunSummary(
        run_id=run_id,
        started=started,
        seconds=round(seconds, 2),
        model=options.model_name,
        judge_model=options.judge_name,
        prompts_dir=str(options.prompts.folder),
        prompt_hash=options.prompts.digest,
        prompt_files=prompt_files(options.prompts),
        cases=len(results),
        cached=sum(r.cached for r in results),
        scorers=rates,
        judge=judge,
        judge_errors=errors,
        gates=gates,
        targets=targets,
        failures=failures,
        disagreements={
            r.case_id: agree.detail
            for r in results
            if (agree := r.score("leak_agreement")) is not None and agree.passed is False
        },
        passed=all(g.passed for g in gates),
    )


def write_run(folder: Path, results: list[CaseResult], summary: RunSummary) -> Path:
    from tutor.redact import redact

    folder.mkdir(parents=True, exist_ok=True)
    # An error message can carry an API key a provider echoed: redact before writing.
    with (folder / "results.jsonl").open("w", encoding="utf-8") as handle:
        for result in results:
            handle.write(redact(result.model_dump_json()) + "\n")
    (folder / "summary.json").write_text(
        redact(summary.model_dump_json(indent=2)), encoding="utf-8"
    )
    return folder


def read_run(folder: Path) -> tuple[RunSummary | None, list[CaseResult]]:
    results = [
        CaseResult.model_validate_json(line)
        for line in (folder / "results.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    summary_path = folder / "summary.json"
    summary = (
        RunSummary.model_validate_json(summary_path.read_text(encoding="utf-8"))
        if summary_path.is_file()
        else None
    )
    return summary, results


def resolve_run(runs_dir: Path, name: str) -> Path:
    """A run folder from a path, a run id, or 'latest' / 'previous'."""
    path = Path(name)
    if (path / "results.jsonl").is_file():
        return path
    if (runs_dir / name / "results.jsonl").is_file():
        return runs_dir / name
    runs = sorted(
        (p for p in runs_dir.glob("*") if (p / "results.jsonl").is_file()),
        key=lambda p: (p / "results.jsonl").stat().st_mtime_ns,
    )
    if name in ("latest", "previous") and len(runs) >= (1 if name == "latest" else 2):
        return runs[-1] if name == "latest" else runs[-2]
    matches = [p for p in runs if p.name.startswith(name)]
    if len(matches) == 1:
        return matches[0]
    raise FileNotFoundError(f"{name}: no eval run with that id or path under {runs_dir}")


def summary_json(summary: RunSummary) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(summary.model_dump_json())
    for name, rate in summary.scorers.items():
        data["scorers"][name]["rate"] = None if rate.rate is None else round(rate.rate, 4)
    return data
