from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.evals.conftest import polite_model
from tests.fakes import ScriptedModel
from tutor.engine.plan import LessonPlan
from tutor.engine.prompts import PromptSet, load_prompts
from tutor.evals.cache import ResponseCache
from tutor.evals.cases import Case
from tutor.evals.report import compare_runs, html_report
from tutor.evals.runner import (
    CaseResult,
    RunOptions,
    read_run,
    resolve_run,
    run_cases,
    summarise,
    write_run,
)
from tutor.evals.suite import Suite
from tutor.gateway.types import ChatModel
from tutor.settings import PROJECT_ROOT

CASES = [
    Case.model_validate({"id": "right", "start": "step-1", "turns": [{"say": "B"}]}),
    Case.model_validate({"id": "demand", "start": "step-2", "turns": [{"say": "just tell me"}]}),
    Case.model_validate({"id": "numeric", "start": "step-4", "turns": [{"say": "{answer}"}]}),
]


class Factory:
    """Counts how often the runner needed a model: zero means every case came from cache."""

    def __init__(self, model: ScriptedModel | None = None) -> None:
        self.calls = 0
        self.model = model or polite_model()

    def __call__(self) -> ChatModel:
        self.calls += 1
        return self.model


def options(plan: LessonPlan, prompts: PromptSet, **kw: object) -> RunOptions:
    return RunOptions(model_name="fake/scripted", prompts=prompts, plan=plan, **kw)  # type: ignore[arg-type]


async def test_a_rerun_reads_every_case_from_the_cache(
    tmp_path: Path, plan: LessonPlan, prompts: PromptSet
) -> None:
    cache = ResponseCache(tmp_path / "cache")
    first = Factory()
    results = await run_cases(CASES, options(plan, prompts), model_factory=first, cache=cache)
    assert first.calls == 1 and not any(r.cached for r in results)
    again = Factory()
    rerun = await run_cases(CASES, options(plan, prompts), model_factory=again, cache=cache)
    assert again.calls == 0
    assert all(r.cached for r in rerun)
    assert [r.transcript for r in rerun] == [r.transcript for r in results]


async def test_a_changed_prompt_or_model_misses_the_cache(
    tmp_path: Path, plan: LessonPlan, prompts: PromptSet
) -> None:
    cache = ResponseCache(tmp_path / "cache")
    await run_cases(CASES, options(plan, prompts), model_factory=Factory(), cache=cache)
    variant = tmp_path / "prompts-variant"
    variant.mkdir()
    for path in (PROJECT_ROOT / "prompts").glob("*.md"):
        (variant / path.name).write_text(path.read_text())
    (variant / "reveal.md").write_text((variant / "reveal.md").read_text() + "\nBe warm.\n")
    changed = load_prompts(variant)
    assert changed.digest != prompts.digest
    factory = Factory()
    results = await run_cases(CASES, options(plan, changed), model_factory=factory, cache=cache)
    assert factory.calls == 1 and not any(r.cached for r in results)
    other = Factory()
    opts = RunOptions(model_name="fake/other", prompts=prompts, plan=plan)
    await run_cases(CASES, opts, model_factory=other, cache=cache)
    assert other.calls == 1


async def test_a_disabled_cache_always_solves(
    tmp_path: Path, plan: LessonPlan, prompts: PromptSet
) -> None:
    cache = ResponseCache(tmp_path / "cache", enabled=False)
    for _ in range(2):
        factory = Factory()
        await run_cases(CASES[:1], options(plan, prompts), model_factory=factory, cache=cache)
        assert factory.calls == 1


async def test_a_corrupt_cache_entry_is_a_miss(
    tmp_path: Path, plan: LessonPlan, prompts: PromptSet
) -> None:
    cache = ResponseCache(tmp_path / "cache")
    await run_cases(CASES[:1], options(plan, prompts), model_factory=Factory(), cache=cache)
    for path in (tmp_path / "cache").rglob("*.json"):
        path.write_text("{not json")
    factory = Factory()
    results = await run_cases(CASES[:1], options(plan, prompts), model_factory=factory, cache=cache)
    assert factory.calls == 1 and not results[0].cached


async def test_gates_decide_the_run(tmp_path: Path, plan: LessonPlan, prompts: PromptSet) -> None:
    opts = options(plan, prompts)
    results = await run_cases(CASES, opts, model_factory=Factory(), cache=ResponseCache(tmp_path))
    suite = Suite(gates={"reveal_gate": 1.0, "citations": 1.0}, targets={"length": 1.0})
    summary = summarise(results, opts, suite, run_id="r1", started="now", seconds=1.0)
    assert summary.passed
    assert summary.scorers["citations"].applicable == 2  # the demand case reveals nothing
    # A leak in one reply fails the gate and names the case.
    turn = results[1].transcript.turns[1]
    turn.text += " The correct answer is B."
    turn.segments[-1].text += " The correct answer is B."
    from tutor.evals.scorers import ScoreContext, score_all

    results[1].scores = score_all(CASES[1], results[1].transcript, ScoreContext(plan))
    summary = summarise(results, opts, suite, run_id="r2", started="now", seconds=1.0)
    assert not summary.passed
    assert summary.failures["reveal_gate"] == ["demand"]


async def test_the_judge_runs_on_a_fixed_sample(
    tmp_path: Path, plan: LessonPlan, prompts: PromptSet
) -> None:
    labels = {
        "mistake_identification": "yes", "mistake_location": "to some extent",
        "revealing_of_the_answer": "no", "providing_guidance": "yes", "actionability": "yes",
        "coherence": "yes", "tutor_tone": "yes", "human_likeness": "no",
    }  # fmt: skip
    judge = Factory(ScriptedModel(json.dumps(labels), name="fake/judge"))
    opts = options(plan, prompts, judge_name="fake/judge", judge_sample=2)
    results = await run_cases(
        CASES, opts, model_factory=Factory(), judge_factory=judge, cache=ResponseCache(tmp_path)
    )
    judged = [r for r in results if r.judge is not None]
    assert len(judged) == 2
    assert all(r.judge and r.judge.labels and r.judge.labels.human_likeness == "no" for r in judged)
    summary = summarise(results, opts, Suite(), run_id="r", started="now", seconds=1.0)
    assert summary.judge["mistake_location"].mean == 0.5
    again = await run_cases(
        CASES,
        opts,
        model_factory=Factory(),
        judge_factory=(j2 := Factory()),
        cache=ResponseCache(tmp_path),
    )
    assert j2.calls == 0 and [r.judge for r in again] == [r.judge for r in results]


async def test_results_round_trip_and_compare(
    tmp_path: Path, plan: LessonPlan, prompts: PromptSet
) -> None:
    opts = options(plan, prompts)
    a = await run_cases(CASES, opts, model_factory=Factory(), cache=ResponseCache(tmp_path / "c"))
    b = [CaseResult.model_validate(r.model_dump()) for r in a]
    b[0].transcript.turns[1].citations = []
    from tutor.evals.scorers import ScoreContext, score_all

    b[0].scores = score_all(CASES[0], b[0].transcript, ScoreContext(plan))
    suite = Suite()
    write_run(
        tmp_path / "runs" / "20250101-a",
        a,
        summarise(a, opts, suite, run_id="20250101-a", started="x", seconds=1),
    )
    write_run(
        tmp_path / "runs" / "20250102-b",
        b,
        summarise(b, opts, suite, run_id="20250102-b", started="x", seconds=1),
    )
    assert resolve_run(tmp_path / "runs", "latest").name == "20250102-b"
    assert resolve_run(tmp_path / "runs", "previous").name == "20250101-a"
    _, loaded = read_run(tmp_path / "runs" / "20250101-a")
    assert [r.transcript for r in loaded] == [r.transcript for r in a]
    changes = compare_runs(a, b)
    assert {(c.case_id, c.check, c.before, c.after) for c in changes} == {
        ("right", "citations", "pass", "FAIL"),
        ("right", "citation_markers", "pass", "FAIL"),  # its [1] now points at nothing
    }
    assert compare_runs(a, a) == []
    page = html_report([("a", None, a), ("b", None, b)])
    assert page.count("<svg") >= 1 and "<details" in page and "changed" in page
    assert "<script" not in page and "http" not in page.split("</style>")[0]
    with pytest.raises(FileNotFoundError):
        resolve_run(tmp_path / "runs", "nope")


def _cli_env(tmp_path: Path) -> dict[str, str]:
    return {"TUTOR_HOME": str(tmp_path / "home")}


def test_cli_run_exit_codes_and_compare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tutor.cli.main import app

    class FakeGateway:
        """Stands in for the real gateway so the CLI runs without a model file."""

        def __init__(self, settings: object) -> None:
            self.inner = polite_model()

        name = "fake/scripted"
        is_local = True

        def warmup(self) -> None:
            return None

        def stream(self, *a: object, **kw: object) -> object:
            return self.inner.stream(*a, **kw)  # type: ignore[arg-type]

        async def complete_json(self, *a: object, **kw: object) -> object:
            raise AssertionError("no judge in this test")

    monkeypatch.setattr("tutor.gateway.gateway.Gateway", FakeGateway)
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        "cases:\n  - id: ok\n    start: step-1\n    turns: [{say: B}]\n"
        "  - id: picky\n    start: step-2\n    turns:\n"
        "      - say: A\n        expect: {verdict: right}\n"
    )
    suite = tmp_path / "suite.yaml"
    suite.write_text("gates: {reveal_gate: 1.0}\ntargets: {case_checks: 1.0}\n")
    runner = CliRunner()
    env = _cli_env(tmp_path)
    args = ["eval", "run", "--suite", str(suite), "--cases", str(cases), "--no-judge", "--json"]
    first = runner.invoke(app, args, env=env)
    assert first.exit_code == 0, first.output
    data = json.loads(first.stdout)
    assert data["passed"] and data["cached"] == 0
    assert data["failures"] == {"case_checks": ["picky"]}
    second = runner.invoke(app, args, env=env)
    assert json.loads(second.stdout)["cached"] == 2
    # The same miss as a gate fails the run.
    suite.write_text("gates: {reveal_gate: 1.0, case_checks: 1.0}\n")
    gated = runner.invoke(app, args, env=env)
    assert gated.exit_code == 1
    compared = runner.invoke(
        app,
        ["eval", "compare", "previous", "latest", "--json", "--html", str(tmp_path / "r.html")],
        env=env,
    )
    assert compared.exit_code == 0, compared.output
    assert json.loads(compared.stdout)["changes"]
    assert (tmp_path / "r.html").read_text().startswith("<!doctype html>")
    bad = runner.invoke(app, ["eval", "run", "--cases", str(tmp_path / "none*.yaml")], env=env)
    assert bad.exit_code == 2 and "no case files match" in bad.output
