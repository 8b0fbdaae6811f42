"""Recall and teach-back answers through the engine with the embedded model: for every
question, a right, a negated and a swapped (or misconceived) answer from the answer
suite get the suite's verdict, and no wrong answer is praised."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tutor.engine.engine import Engine
from tutor.engine.events import Graded, TurnDone
from tutor.engine.factory import build_engine
from tutor.settings import PROJECT_ROOT, load_settings

ANSWERS = PROJECT_ROOT / "evals" / "answers"


def _pick() -> list[tuple[str, str, str, str]]:
    by_step: dict[str, dict[str, dict[str, Any]]] = {}
    for path in sorted(ANSWERS.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for answer in data["answers"]:
            kinds = by_step.setdefault(data["step"], {})
            kinds.setdefault(answer["kind"], answer)
    picked = []
    for step, kinds in sorted(by_step.items()):
        wrong = kinds.get("swapped") or kinds.get("misconception")
        for answer in (kinds["right"], kinds.get("negated") or wrong, wrong):
            assert answer is not None, step
            picked.append((step, answer["kind"], answer["text"], answer["verdict"]))
    return picked


CASES = _pick()


@pytest.fixture(scope="module")
def engine_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("grading-home")


@pytest.mark.parametrize(("step", "kind", "text", "verdict"), CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])  # fmt: skip
async def test_the_engine_gives_the_suite_verdict(
    engine_home: Path, step: str, kind: str, text: str, verdict: str
) -> None:
    engine = build_engine(load_settings(home=engine_home), use_corpus=False)
    assert isinstance(engine, Engine) and engine.model.name == "local/smollm2"
    target = engine.plan.step(step)
    engine.goto(step, "recall" if target.kind == "step" else "ask")
    events = [e async for e in engine.send(text)]
    graded = [e for e in events if isinstance(e, Graded)]
    assert graded and graded[0].verdict == verdict, (kind, text)
    done = events[-1]
    assert isinstance(done, TurnDone)
    if verdict != "right":
        head = done.text.split("\n", 1)[0]
        assert "Right" not in head and "Strong" not in head and "Well recalled" not in head
    if verdict == "contradicts":
        assert graded[0].contradictions and graded[0].contradictions[0].said in done.text
    engine.close()
