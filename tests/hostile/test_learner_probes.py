"""The probes that go through the learner reader and the engine's turn: each failed
before and holds now (issue items 1, 4, 5, 10, 11 and the '1e12 GPUs' / 10^9-token ones)."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

from tests.fakes import ScriptedModel
from tutor.cli import chat as chat_cli
from tutor.engine import factory
from tutor.engine.engine import Engine
from tutor.engine.events import Event, ReadingShown, TextDelta, TurnDone, TurnFailed, Verdict
from tutor.engine.plan import LessonPlan, load_plan
from tutor.engine.prompts import PromptSet, load_prompts
from tutor.engine.record import Record
from tutor.settings import load_settings


@pytest.fixture(scope="module")
def plan() -> LessonPlan:
    return load_plan(load_settings().lesson_plan_file)


@pytest.fixture(scope="module")
def prompts() -> PromptSet:
    return load_prompts(load_settings().prompts_dir)


def _engine(plan: LessonPlan, prompts: PromptSet, model: ScriptedModel | None = None,
            record: Record | None = None) -> Engine:  # fmt: skip
    engine = Engine(plan=plan, prompts=prompts, model=model or ScriptedModel(name="local/x"),
                    record=record)  # fmt: skip
    engine.goto(plan.steps[0].id)
    return engine


async def _send(engine: Engine, text: str) -> list[Event]:
    return [e async for e in engine.send(text)]


async def test_a_crafted_time_slicing_line_reads_in_bounded_time(
    plan: LessonPlan, prompts: PromptSet
) -> None:
    line = "How does time slicing work with " + "1 gpu " * 17000 + "?"
    engine = _engine(plan, prompts)
    started = time.perf_counter()
    events = await _send(engine, line)
    # Over the message cap: refused at once, whole, and handed back to the face.
    assert time.perf_counter() - started < 1.0
    failed = [e for e in events if isinstance(e, TurnFailed)]
    assert failed and failed[0].learner_text == line and "at most 4,000" in failed[0].message


async def test_a_5000_digit_number_is_one_line_not_a_traceback(
    plan: LessonPlan, prompts: PromptSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = factory.build_engine
    def build(settings: object, **kw: object) -> object:
        # A scripted model and no corpus: nothing loads in the background to print into
        # a later test's output.
        kw = {**kw, "use_corpus": False, "model": ScriptedModel(name="local/x")}
        return real(settings, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(factory, "build_engine", build)
    out = io.StringIO()
    inp = io.StringIO("With time-slicing, " + "9" * 5000 + " GPUs x 5 replicas: how many?\n")
    code = await chat_cli.run_plain(load_settings(), jsonl=False, resume=False, inp=inp,
                                    out=out)  # fmt: skip
    assert "Traceback" not in out.getvalue() and "ValueError" not in out.getvalue()
    assert code in (0, 1)
    engine = _engine(plan, prompts)
    big = "With time-slicing, " + "9" * 3000 + " GPUs x 5 replicas: how many?"
    events = await _send(engine, big)
    reading = next(e for e in events if isinstance(e, ReadingShown))
    assert reading.kind == "clarify" and "calculator takes" in reading.text


@pytest.mark.parametrize(
    ("text", "range_"),
    [
        ("How many GPUs does k8s show for 1e12 GPUs time-sliced 4 ways?", "100000"),
        ("smallest h100 80gb profile for llama-3.1-8b with a 1000000000 token context?",
         "10000000"),
    ],
)  # fmt: skip
async def test_huge_counts_get_the_valid_range(
    plan: LessonPlan, prompts: PromptSet, text: str, range_: str
) -> None:
    events = await _send(_engine(plan, prompts), text)
    reading = next(e for e in events if isinstance(e, ReadingShown))
    assert reading.kind == "clarify" and range_ in reading.text
    assert "not verified" not in events[-1].text  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "text", ["It's a trick question, isn't it", "A hint please", "a little help?", "C.f. the guide"]
)
async def test_ordinary_phrases_commit_no_guess(
    plan: LessonPlan, prompts: PromptSet, text: str
) -> None:
    engine = _engine(plan, prompts)
    events = await _send(engine, text)
    assert not [e for e in events if isinstance(e, Verdict)]
    assert engine.awaiting_guess and engine.committed_guess is None


async def test_a_provider_error_during_a_reveal_keeps_the_guess_and_the_turn(
    plan: LessonPlan, prompts: PromptSet, tmp_path: Path
) -> None:
    record = Record(tmp_path / "s.sqlite")
    model = ScriptedModel("one two three four five six", fail_after=2, name="fake/hosted",
                          local=False)  # fmt: skip
    engine = _engine(plan, prompts, model, record)
    wrong = next(o.key for o in plan.steps[0].options if not o.correct)
    events = await _send(engine, wrong)
    assert [e for e in events if isinstance(e, TurnFailed)]
    assert next(e for e in events if isinstance(e, Verdict)).correct is False
    # Guessing again is no second first guess: the step stays recorded as wrong.
    right = plan.steps[0].correct_option
    assert right is not None
    again = await _send(engine, right.key)
    assert not [e for e in again if isinstance(e, Verdict)]
    assert engine.state.outcomes[plan.steps[0].id].correct is False
    kept = [e for e in record.entries(engine.session_id) if e.role == "tutor"]
    streamed = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert kept[0].text == streamed and "The model failed here" in streamed
    assert not any(isinstance(e, TurnDone) for e in events)
