"""The answer suite run as a test, and `tutor eval answers` with its goals and exit codes."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tutor.cli.main import app
from tutor.engine.plan import LessonPlan
from tutor.grading.suite import SuiteError, evaluate, load_suite

from .conftest import PLAN_PATH, ROOT

SUITE = ROOT / "evals" / "answers"
runner = CliRunner()


def test_the_answer_suite_meets_its_goals(plan: LessonPlan) -> None:
    suites = load_suite(SUITE, plan)
    report = evaluate(suites)
    assert report.total >= 150
    assert report.praised_wrong == [], [o.id for o in report.praised_wrong]
    assert report.rejected_right == [], [o.id for o in report.rejected_right]
    assert report.agreement >= 0.9
    named, labelled = report.misconception_named
    assert named >= 0.9 * labelled


def test_the_suite_covers_every_question_and_every_kind(plan: LessonPlan) -> None:
    suites = load_suite(SUITE, plan)
    steps = {s.step for s, _, _ in suites}
    graded = {s.id for s in plan.steps if s.recall is not None or s.kind == "teach_back"}
    assert steps == graded
    kinds = Counter(a.kind for s, _, _ in suites for a in s.answers)
    for kind in ("right", "partly", "negated", "swapped", "misconception", "wrong-sentence",
                 "off-topic", "gibberish", "copy", "keywords"):  # fmt: skip
        assert kinds[kind] >= 3, kind
    per_step = Counter(s.step for s, _, _ in suites for _ in s.answers)
    assert min(per_step.values()) >= 25


def test_the_issues_examples_are_in_the_suite(plan: LessonPlan) -> None:
    texts = {a.text: a.verdict for s, _, _ in load_suite(SUITE, plan) for a in s.answers}
    assert texts["instances do not get their own SMs or L2, they share them"] == "contradicts"
    assert (
        texts["time-slicing is the one with dedicated memory per tenant, MIG takes turns"]
        == "contradicts"
    )


def _write(folder: Path, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a.yaml").write_text(body, encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("step: step-9\nanswers: [{id: a, kind: right, verdict: right, text: x}]\n",
         "field step: no step 'step-9' in the plan"),
        ("step: step-1\nanswers: [{id: a, kind: right, verdict: right, text: x, points: [own]}]\n",
         "field answers[a].points: unknown ['own']"),
        ("step: step-1\nanswers: [{id: a, kind: nice, verdict: right, text: x}]\n",
         "field answers[a].kind: Input should be"),
        ("step: step-1\nanswers: [{id: a, kind: negated, verdict: contradicts, text: x}]\n",
         "field answers[a].contradictions: a contradicts label must name the misconception"),
        ("step: step-1\nanswers: [{id: a, kind: right, verdict: great, text: x}]\n",
         "field answers[a].verdict: Input should be 'right', 'partly'"),
    ],
)  # fmt: skip
def test_bad_answer_files_name_file_and_field(
    tmp_path: Path, plan: LessonPlan, body: str, message: str
) -> None:
    folder = _write(tmp_path / "answers", body)
    with pytest.raises(SuiteError) as err:
        load_suite(folder, plan)
    assert str(err.value).startswith(str(folder / "a.yaml")), str(err.value)
    assert message in str(err.value)


def test_cli_prints_agreement_per_verdict_and_passes() -> None:
    result = runner.invoke(app, ["eval", "answers"])
    assert result.exit_code == 0, result.output
    for verdict in ("right", "partly", "contradicts", "cant_tell"):
        assert any(line.startswith(verdict) for line in result.output.splitlines()), verdict
    assert "wrong answers praised    0   goal 0   ok" in result.output


def test_cli_json(tmp_path: Path) -> None:
    result = runner.invoke(app, ["eval", "answers", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["answers"] >= 150 and data["wrong_praised"] == []
    assert set(data["per_verdict"]) == {"right", "partly", "contradicts", "cant_tell"}


def test_cli_exits_1_when_a_wrong_answer_is_praised(tmp_path: Path) -> None:
    # A misconception labelled as if it were right: the grader disagrees, so the goal
    # "every right answer accepted" is missed.
    folder = _write(
        tmp_path / "answers",
        "step: step-1\nanswers:\n"
        "  - {id: a, kind: right, verdict: right, points: [own-sms],\n"
        '     text: "MIG runs each workload on the whole GPU in turns"}\n'
        "  - {id: b, kind: negated, verdict: contradicts, contradictions: [mig-shares-sms],\n"
        '     text: "Its own SMs, its own memory and its own L2 cache."}\n',
    )
    result = runner.invoke(app, ["eval", "answers", "--folder", str(folder), "--plan",
                                 str(PLAN_PATH)])  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "wrong answers praised    1   goal 0   MISSED" in result.output
    assert "right answers rejected   1   goal 0   MISSED" in result.output
    assert "a (step-1, right): labelled right, graded contradicts" in result.output


def test_cli_exits_2_on_a_bad_file(tmp_path: Path) -> None:
    folder = _write(tmp_path / "answers", "step: [\n")
    result = runner.invoke(app, ["eval", "answers", "--folder", str(folder)])
    assert result.exit_code == 2
    assert result.output.strip().startswith("error: ") and "not valid YAML" in result.output


def test_right_answers_with_the_modes_swapped_are_never_praised(plan: LessonPlan) -> None:
    # Every right answer that names both modes, with MIG and time-slicing swapped, states
    # the misconceptions the lesson warns about: none may come out right or even partly.
    import re

    from tutor.grading import grade

    names = re.compile(r"\b(MIG|[Tt]ime[- ]slicing|TS)\b")

    def swap(text: str) -> str:
        return names.sub(lambda m: "time-slicing" if m.group(1) == "MIG" else "MIG", text)

    swapped = 0
    for suite, rubric, _ in load_suite(SUITE, plan):
        if suite.step not in ("step-2", "step-3", "recall"):
            continue
        for a in suite.answers:
            text = swap(a.text)
            if a.verdict != "right" or text == a.text:
                continue
            swapped += 1
            assert grade(text, rubric).verdict == "contradicts", text
    assert swapped >= 30
