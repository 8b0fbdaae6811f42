"""The second lesson runs through the plain CLI and the eval runner with no code change:
only the `lesson_plan` setting points at it. (The app's pilot walks it in tests/tui.)"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import ScriptedModel
from tutor.cli import chat as chat_cli
from tutor.engine import factory
from tutor.engine.plan import load_plan
from tutor.engine.prompts import load_prompts
from tutor.evals.cache import ResponseCache
from tutor.evals.cases import load_cases
from tutor.evals.runner import RunOptions, run_cases, summarise
from tutor.evals.suite import load_suite
from tutor.mig.placement import capacity
from tutor.settings import load_settings

HERE = Path(__file__).parent / "counting"
PLAN = HERE / "plan.yaml"


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> None:
    """The counting lesson chosen by its setting; the model scripted, the corpus off."""
    monkeypatch.setenv("TUTOR_LESSON_PLAN", str(PLAN))
    real = factory.build_engine

    def scripted_build(settings: Any, **kwargs: Any) -> Any:
        kwargs["model"] = ScriptedModel("Have a go.")
        kwargs["use_corpus"] = False
        return real(settings, **kwargs)

    monkeypatch.setattr(factory, "build_engine", scripted_build)


async def test_plain_chat_teaches_the_second_lesson(counting: None) -> None:
    plan = load_plan(PLAN)
    count = capacity("A100-80GB", "1g.10gb").count
    walk = ["B", "You pick a profile from a fixed list.", f"{count}", "The compute slices."]
    out = io.StringIO()
    code = await chat_cli.run_plain(
        load_settings(), jsonl=True, resume=False, inp=io.StringIO("\n".join(walk)), out=out
    )
    assert code == 0
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    done = [e for e in events if e["type"] == "turn_done"]
    assert len(done) == 1 + len(walk), "one TurnDone per call"
    said = " ".join(" ".join(e["text"] for e in done).split())
    assert said.startswith(f"**{plan.title}.**")
    for step in plan.steps:
        assert " ".join(step.question.split()) in " ".join(
            " ".join(e["text"] for e in events if e["type"] == "text_delta").split()
        )
    counted = next(e for e in done if e["tool_calls"])
    assert counted["tool_calls"][0]["name"] == "mig_capacity"
    assert counted["tool_calls"][0]["result"]["count"] == count
    assert " ".join(plan.closing.split()) in said
    verdicts = [e for e in events if e["type"] == "verdict"]
    assert [v["step_id"] for v in verdicts] == ["sizes", "count"]
    assert all(v["correct"] for v in verdicts)


async def test_the_eval_runner_scores_the_second_lesson(tmp_path: Path) -> None:
    plan = load_plan(PLAN)
    suite = load_suite(HERE / "suite.yaml")
    cases = load_cases(str(HERE / suite.cases), plan)
    assert {c.start for c in cases} >= {"beginning", "sizes", "count"}
    prompts = load_prompts(load_settings().prompts_dir)
    options = RunOptions(model_name="fake/scripted", prompts=prompts, plan=plan)
    results = await run_cases(
        cases,
        options,
        model_factory=lambda: ScriptedModel("Have a go."),
        cache=ResponseCache(tmp_path / "cache"),
    )
    summary = summarise(results, options, suite, run_id="counting", started="now", seconds=0.0)
    assert summary.passed, summary.failures
    assert {name for name in suite.gates} <= set(summary.scorers)
    assert all(summary.scorers[name].applicable for name in suite.gates)
