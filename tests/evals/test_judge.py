from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from tests.fakes import ScriptedModel
from tutor.evals.cases import Case, CaseError
from tutor.evals.judge import (
    DIMENSIONS,
    JudgeInput,
    RubricLabels,
    _kappa,
    agreement,
    cohen_kappa,
    judge_messages,
    judge_reply,
    load_calibration,
)
from tutor.settings import PROJECT_ROOT

CALIBRATION = PROJECT_ROOT / "evals" / "judge-calibration"
ALL_YES = dict.fromkeys(DIMENSIONS, "yes")
ITEM = JudgeInput(question="Q?", answer="B", learner="A", committed=True, reply="Not quite: B.")


def test_labels_are_forced_through_the_schema() -> None:
    assert RubricLabels.model_validate(ALL_YES).coherence == "yes"
    with pytest.raises(ValidationError):
        RubricLabels.model_validate(ALL_YES | {"coherence": "maybe"})
    with pytest.raises(ValidationError):
        RubricLabels.model_validate({k: v for k, v in ALL_YES.items() if k != "actionability"})
    schema = RubricLabels.model_json_schema()
    assert schema["properties"]["tutor_tone"]["enum"] == ["yes", "to some extent", "no"]
    assert set(schema["required"]) == set(DIMENSIONS)


async def test_judge_reply_validates_the_models_json() -> None:
    good = await judge_reply(ScriptedModel(json.dumps(ALL_YES)), ITEM)
    assert good.labels is not None and good.error is None
    bad = await judge_reply(ScriptedModel(json.dumps(ALL_YES | {"coherence": "perhaps"})), ITEM)
    assert bad.labels is None and bad.error


def test_the_judge_prompt_fences_the_learner_and_reply() -> None:
    text = judge_messages(ITEM)[1]["content"]
    assert "<learner>A</learner>" in text and "<reply>Not quite: B.</reply>" in text
    assert all(dim in text for dim in DIMENSIONS)


def test_kappa_matches_known_values_and_sklearn() -> None:
    a = ["yes", "yes", "no", "no", "yes", "to some extent"]
    b = ["yes", "no", "no", "no", "yes", "yes"]
    labels = sorted(set(a) | set(b))
    # po = 4/6; pe = (3/6*3/6) + (2/6*3/6) + (1/6*0) = 15/36
    assert _kappa(a, b, labels) == pytest.approx((4 / 6 - 15 / 36) / (1 - 15 / 36))
    assert cohen_kappa(a, b) == pytest.approx(_kappa(a, b, labels))
    assert cohen_kappa(a, a) == pytest.approx(1.0)
    assert cohen_kappa(["yes"] * 3, ["yes"] * 3) == 1.0
    assert cohen_kappa(["yes", "no"], ["no", "yes"]) == pytest.approx(-1.0)


def test_agreement_per_dimension() -> None:
    human = [
        RubricLabels.model_validate(ALL_YES),
        RubricLabels.model_validate(dict.fromkeys(DIMENSIONS, "no")),
    ]
    judged = [RubricLabels.model_validate(ALL_YES), RubricLabels.model_validate(ALL_YES)]
    rows = {r.dimension: r for r in agreement(human, [*judged])}
    assert rows["coherence"].accuracy == 0.5 and rows["coherence"].n == 2
    skipped = {r.dimension: r for r in agreement(human, [judged[0], None])}
    assert skipped["coherence"].n == 1 and skipped["coherence"].accuracy == 1.0


def test_the_calibration_set_is_large_and_varied() -> None:
    items = load_calibration(CALIBRATION)
    assert len(items) >= 30
    for dim in DIMENSIONS:
        assert len({getattr(i.labels, dim) for i in items}) >= 2, dim
    assert any(not i.context.committed for i in items)


def test_bad_calibration_file(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("items:\n  - id: a\n    context: {}\n    labels: {}\n")
    with pytest.raises(CaseError, match=r"x.yaml: field 'items.0.context"):
        load_calibration(tmp_path)


def test_calibrate_command_reports_accuracy_and_kappa(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tutor.cli.main import app

    class AlwaysYes:
        def __init__(self, settings: object) -> None:
            self.inner = ScriptedModel(json.dumps(ALL_YES))

        def warmup(self) -> None:
            return None

        async def complete_json(self, messages: object, schema: type[RubricLabels]) -> RubricLabels:
            return await self.inner.complete_json(messages, schema)  # type: ignore[arg-type]

    monkeypatch.setattr("tutor.gateway.gateway.Gateway", AlwaysYes)
    result = CliRunner().invoke(
        app, ["eval", "calibrate", "--json", "--judge-model", "fake/yes"],
        env={"TUTOR_HOME": str(tmp_path)},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    items = load_calibration(CALIBRATION)
    assert data["items"] == len(items) and data["errors"] == 0
    coherence = next(d for d in data["dimensions"] if d["dimension"] == "coherence")
    yes = sum(i.labels.coherence == "yes" for i in items) / len(items)
    assert coherence["accuracy"] == pytest.approx(yes)
    assert coherence["kappa"] == pytest.approx(0.0)  # a constant rater agrees by chance only


def test_judged_turn_defaults_to_the_first_reveal() -> None:
    from tutor.evals.judge import judged_turn
    from tutor.evals.transcript import EngineView, Transcript, TurnRecord

    view = EngineView(step_id="step-1", phase="ask", awaiting=True)
    turns = [
        TurnRecord(
            index=i, action="say", learner=str(i), text=f"reply {i}", before=view, after=view
        )
        for i in range(3)
    ]
    from tutor.engine.events import Verdict

    turns[2].verdicts.append(Verdict(step_id="step-1", guess="B", answer="B", correct=True))
    t = Transcript(case_id="c", model="m", prompt_hash="p", turns=turns)
    c = Case.model_validate({"id": "c", "start": "step-1", "turns": [{"say": "x"}, {"say": "y"}]})
    chosen = judged_turn(c, t)
    assert chosen is not None and chosen.index == 2
    c2 = Case.model_validate(
        {"id": "c", "start": "step-1", "judge_turn": 0, "turns": [{"say": "x"}]}
    )
    chosen = judged_turn(c2, t)
    assert chosen is not None and chosen.index == 1
