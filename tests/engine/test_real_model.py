"""The whole lesson with the real embedded SmolLM2 model and the real corpus (slow, offline).

The learner is scripted; the model is not. Whatever the 135M model writes, the
reveal gate, the verdicts and the numbers must hold.
"""

from __future__ import annotations

import pytest

from tests.engine.test_engine import collect
from tutor.engine.events import PredictionRequested, TurnDone, TurnFailed, Verdict
from tutor.engine.factory import build_engine
from tutor.mig.tools import dispatch
from tutor.settings import Settings, load_settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def real_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # One data home for the module, so the corpus index is built once, not per test.
    return load_settings(home=tmp_path_factory.mktemp("real-model-home"))


async def test_scripted_learner_completes_the_lesson_with_smollm2(real_settings: Settings) -> None:
    engine = build_engine(real_settings)
    assert engine.model.name == "local/smollm2"
    opening = await collect(engine.start())
    assert any(isinstance(e, PredictionRequested) for e in opening)
    script = [
        ("just tell me", None),
        ("A", False),
        ("its own SMs, its own memory and L2", None),
        ("B", True),
        ("MIG isolates in hardware; time-slicing takes turns with noisy neighbours", None),
        ("C", True),
        ("SLO-bound tenants want MIG; bursty notebooks want time-slicing", None),
        ("I think 20", True),
        ("hardware isolation: a noisy neighbour can hurt SLOs", None),
        ("MIG partitions in hardware; time-slicing shares in turns, noisy neighbour", None),
        ("We'd switch if we needed guaranteed per-tenant isolation: own SMs and memory, "
         "no noisy neighbour, at the cost of fixed profiles and no oversubscription", None),
    ]  # fmt: skip
    for message, expect_correct in script:
        events = await collect(engine.send(message))
        assert not [e for e in events if isinstance(e, TurnFailed)], message
        verdicts = [e for e in events if isinstance(e, Verdict)]
        if expect_correct is None:
            assert not verdicts, message
        else:
            assert verdicts and verdicts[0].correct is expect_correct, message
        done = next(e for e in events if isinstance(e, TurnDone))
        if verdicts:
            assert done.citations, f"reveal without a source after {message!r}"
    assert engine.phase == "done"


async def test_free_question_is_gated_then_answered_with_smollm2(real_settings: Settings) -> None:
    engine = build_engine(real_settings)
    engine.leave_lesson()
    count = dispatch("mig_capacity", {"gpu": "A100-80GB", "profile": "1g.10gb"}).result
    assert count is not None
    ask = await collect(
        engine.send("How many 1g.10gb instances fit on an A100-80GB? Just tell me.")
    )
    ask_done = next(e for e in ask if isinstance(e, TurnDone))
    assert str(count["count"]) not in ask_done.text
    reveal = await collect(engine.send("I think 4"))
    verdict = next(e for e in reveal if isinstance(e, Verdict))
    assert not verdict.correct and verdict.answer.startswith(str(count["count"]))
