"""The gate must fail when the tutor is broken: crashes, empty gates, failures never cached."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.evals.conftest import polite_model
from tests.evals.test_runner import Factory, options
from tests.fakes import ScriptedModel
from tutor.engine.plan import LessonPlan
from tutor.engine.prompts import PromptSet
from tutor.evals.cache import ResponseCache
from tutor.evals.cases import Case, CaseError, load_case_file
from tutor.evals.runner import run_cases, summarise
from tutor.evals.suite import Suite, load_suite
from tutor.gateway.types import Chunk, GatewayError
from tutor.settings import PROJECT_ROOT

CASE = Case.model_validate({"id": "right", "start": "step-1", "turns": [{"say": "B"}]})


class RaisingModel(ScriptedModel):
    """A provider that fails every call, the way a wrong key or a dead server does."""

    def __init__(self, error: type[Exception]) -> None:
        super().__init__(name="fake/raising")
        self.error = error
        self.calls = 0

    def _raise(self) -> None:
        self.calls += 1
        if self.error is GatewayError:
            raise GatewayError(self.name, "the server answered 500", "try again later")
        raise self.error("the model crashed")

    async def stream(self, messages: Any, **kwargs: Any) -> AsyncIterator[Chunk]:
        self._raise()
        yield Chunk(text="never")

    async def complete_json(self, messages: Any, schema: Any) -> Any:
        self._raise()


@pytest.mark.parametrize("error", [GatewayError, RuntimeError])
def test_a_model_that_raises_on_every_call_fails_the_ci_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: type[Exception]
) -> None:
    from tutor.cli.main import app

    made: list[RaisingModel] = []

    class RaisingGateway(RaisingModel):
        def __init__(self, settings: object) -> None:
            super().__init__(error)
            made.append(self)

        def warmup(self) -> None:
            return None

    monkeypatch.setattr("tutor.gateway.gateway.Gateway", RaisingGateway)
    result = CliRunner().invoke(app, ["eval", "run", "--ci", "--json"])
    assert result.exit_code == 1, result.output
    summary = json.loads(result.stdout)
    assert made and made[0].calls > 0
    completed = next(g for g in summary["gates"] if g["name"] == "completed")
    assert completed["passed"] is False and completed["value"] < 0.5
    # Cases that never finished count for no check, so every gate falls short of its
    # minimum instead of reporting 100% over the few cases that needed no model.
    for gate in summary["gates"]:
        assert gate["passed"] is False, gate
        assert gate["message"].startswith(f"gate {gate['name']}: ")
    assert not summary["passed"]


async def test_a_gate_with_no_applicable_case_fails(
    tmp_path: Path, plan: LessonPlan, prompts: PromptSet
) -> None:
    demand = Case.model_validate({"id": "d", "start": "step-2", "turns": [{"say": "why?"}]})
    opts = options(plan, prompts)
    results = await run_cases(
        [demand], opts, model_factory=Factory(), cache=ResponseCache(tmp_path)
    )
    suite = Suite.model_validate({"gates": {"citations": 1.0}})
    summary = summarise(results, opts, suite, run_id="r", started="now", seconds=1.0)
    assert summary.scorers["citations"].applicable == 0
    assert summary.scorers["citations"].rate is None
    gate = summary.gates[0]
    assert not summary.passed and not gate.passed
    assert gate.message == (
        "gate citations: 0 applicable case(s), fewer than the 1 evals/suite.yaml requires"
    )


async def test_a_gate_below_its_minimum_count_fails_and_names_the_count(
    tmp_path: Path, plan: LessonPlan, prompts: PromptSet
) -> None:
    opts = options(plan, prompts)
    results = await run_cases([CASE], opts, model_factory=Factory(), cache=ResponseCache(tmp_path))
    suite = Suite.model_validate({"gates": {"citations": {"pass_rate": 1.0, "min_cases": 5}}})
    full = summarise(results, opts, suite, run_id="r", started="now", seconds=1.0)
    assert not full.passed
    assert "gate citations: 1 applicable case(s), fewer than the 5" in full.gates[0].message
    # A chosen subset (--cases, --tag) needs one applicable case, not the suite's minimum.
    part = summarise(results, opts, suite, run_id="r", started="now", seconds=1.0, subset=True)
    assert part.passed and part.gates[0].min_cases == 1


def test_the_shipped_suite_gates_completion_with_minimums() -> None:
    suite = load_suite(PROJECT_ROOT / "evals" / "suite.yaml")
    assert "completed" in suite.gates
    for name in ("completed", "reveal_gate", "grounded_numbers", "citations"):
        assert suite.gates[name].min_cases >= 10, name


def test_a_bad_gate_names_the_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text("gates: {citations: {pass_rate: 2}}\n")
    with pytest.raises(CaseError, match=r"suite.yaml: field 'gates.citations.pass_rate'"):
        load_suite(path)


async def test_crashed_and_failed_cases_are_never_cached(
    tmp_path: Path, plan: LessonPlan, prompts: PromptSet
) -> None:
    cache = ResponseCache(tmp_path / "cache")
    for error in (GatewayError, RuntimeError):
        broken = Factory(RaisingModel(error))
        first = await run_cases([CASE], options(plan, prompts), model_factory=broken, cache=cache)
        assert first[0].score("completed").passed is False  # type: ignore[union-attr]
        # Nothing else may pass on a case that did not finish.
        assert all(s.passed is not True for s in first[0].scores)
    assert not list((tmp_path / "cache").rglob("*.json"))
    # After the provider is fixed, the rerun calls the model again and passes.
    fixed = Factory(polite_model())
    again = await run_cases([CASE], options(plan, prompts), model_factory=fixed, cache=cache)
    assert fixed.calls == 1 and not again[0].cached
    assert again[0].score("completed").passed is True  # type: ignore[union-attr]


def test_an_unknown_tool_in_a_case_is_a_case_error(tmp_path: Path, plan: LessonPlan) -> None:
    path = tmp_path / "cases.yaml"
    path.write_text(
        "cases:\n  - id: bad\n    start: free\n"
        "    calc: {tool: mig_nope, arguments: {}, field: count}\n"
        "    turns: [{say: 'How many?'}]\n"
    )
    with pytest.raises(CaseError) as err:
        load_case_file(path, plan)
    message = str(err.value)
    assert "case 'bad' field 'calc.tool': unknown tool 'mig_nope'" in message
    assert "mig_capacity" in message


async def test_a_calculator_reference_without_an_answer_is_a_case_error(
    tmp_path: Path, plan: LessonPlan, prompts: PromptSet
) -> None:
    bad = Case.model_validate(
        {
            "id": "bad-field",
            "start": "free",
            "calc": {
                "tool": "mig_capacity",
                "arguments": {"gpu": "A30-24GB", "profile": "1g.6gb"},
                "field": "nonsense",
            },
            "turns": [{"say": "{answer}"}],
        }
    )
    opts = options(plan, prompts)
    results = await run_cases([bad], opts, model_factory=Factory(), cache=ResponseCache(tmp_path))
    transcript = results[0].transcript
    assert transcript.error_kind == "case" and "nonsense" in (transcript.error or "")
    score = results[0].score("completed")
    assert score is not None and score.passed is False and "case error" in score.detail
    assert not list(tmp_path.rglob("*.json"))


def test_nothing_stored_holds_an_echoed_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tutor.cli.main import app

    key = "sk-test" + "A1b2C3d4E5f6G7h8J9k0"
    monkeypatch.setenv("OPENAI_API_KEY", key)

    class EchoingGateway(ScriptedModel):
        def __init__(self, settings: object) -> None:
            super().__init__(name="fake/echo")

        def warmup(self) -> None:
            return None

        async def stream(self, messages: Any, **kwargs: Any) -> AsyncIterator[Chunk]:
            raise GatewayError("openai/x", f"401 invalid key {key}", "check the key")
            yield Chunk(text="")

    monkeypatch.setattr("tutor.gateway.gateway.Gateway", EchoingGateway)
    cases = tmp_path / "cases.yaml"
    cases.write_text("cases:\n  - id: ok\n    start: step-1\n    turns: [{say: B}]\n")
    home = tmp_path / "home"
    result = CliRunner().invoke(
        app,
        ["eval", "run", "--cases", str(cases), "--no-judge", "--model", "openai/x"],
        env={"TUTOR_HOME": str(home)},
    )
    assert result.exit_code == 1, result.output
    stored = [p for p in home.rglob("*") if p.is_file()]
    assert any(p.name == "results.jsonl" for p in stored)
    for path in stored:
        assert key not in path.read_text(encoding="utf-8"), path
    assert key not in result.output


def test_cache_keys_cover_every_file_under_tutor_and_the_model_file(tmp_path: Path) -> None:
    from tutor.evals.runner import code_digest, model_key, tree_digest

    # All of tutor/ (gateway, reader, grader, calculator data), not two folders.
    assert code_digest() == tree_digest(PROJECT_ROOT / "tutor")
    tree = tmp_path / "tree"
    (tree / "gateway").mkdir(parents=True)
    (tree / "gateway" / "gateway.py").write_text("a = 1\n")
    before = tree_digest(tree)
    (tree / "__pycache__").mkdir()
    (tree / "__pycache__" / "x.pyc").write_bytes(b"\0")
    assert tree_digest(tree) == before
    (tree / "gateway" / "gateway.py").write_text("a = 2\n")
    assert tree_digest(tree) != before
    # An embedded model is known by its file's bytes, a hosted one by name and endpoint.
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"weights v1")
    first = model_key("local/mine", gguf_path=gguf)
    gguf.write_bytes(b"weights v2")
    assert model_key("local/mine", gguf_path=gguf) != first
    assert model_key("openai/x", "http://127.0.0.1:8080/v1") != model_key("openai/x")


async def test_a_changed_model_file_or_corpus_misses_the_cache(
    tmp_path: Path, plan: LessonPlan, prompts: PromptSet
) -> None:
    cache = ResponseCache(tmp_path / "cache")
    await run_cases([CASE], options(plan, prompts, model_key="m@1"), model_factory=Factory(),
                    cache=cache)  # fmt: skip
    for changed in (
        {"model_key": "m@2"},
        {"model_key": "m@1", "corpus": True, "corpus_key": "c1"},
        {"model_key": "m@1", "corpus": True, "corpus_key": "c2"},
    ):
        factory = Factory()
        await run_cases([CASE], options(plan, prompts, **changed), model_factory=factory,
                        cache=cache)  # fmt: skip
        assert factory.calls == 1, changed
    same = Factory()
    await run_cases([CASE], options(plan, prompts, model_key="m@1"), model_factory=same,
                    cache=cache)  # fmt: skip
    assert same.calls == 0
