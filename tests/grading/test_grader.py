"""The grader on the lesson's own rubrics: the issue's examples, each verdict, the feedback."""

from __future__ import annotations

import time

import pytest

from tutor.engine.events import EVENT_ADAPTER, Graded
from tutor.engine.plan import LessonPlan
from tutor.grading import Rubric, RubricError, feedback, grade, self_check_prompt
from tutor.grading.grader import MAX_CHARS


def test_own_sms_denied_is_a_contradiction_not_praise(rubrics: dict[str, Rubric]) -> None:
    g = grade("instances do not get their own SMs or L2, they share them", rubrics["step-1"])
    assert g.verdict == "contradicts"
    assert {p.id: p.status for p in g.points}["own-sms"] == "contradicted"
    named = {c.id for c in g.contradictions}
    assert {"mig-shares-sms", "mig-shares-l2"} <= named
    text = feedback(g, rubrics["step-1"])
    assert "Well recalled" not in text and "**Right.**" not in text
    assert "You said MIG instances share the SMs" in text
    assert "(source: mig-concepts)" in text


def test_sources_are_named_by_their_titles(rubrics: dict[str, Rubric]) -> None:
    from tutor.grading import source_titles

    from .conftest import ROOT

    titles = source_titles(ROOT / "corpus")
    assert titles["mig-concepts"].startswith("MIG concepts")
    g = grade("MIG takes turns on the GPU", rubrics["step-2"])
    reply = feedback(g, rubrics["step-2"], titles)
    assert f"(source: {titles['mig-concepts']})" in reply


def test_swapped_modes_name_both_misconceptions(rubrics: dict[str, Rubric]) -> None:
    text = "time-slicing is the one with dedicated memory per tenant, MIG takes turns"
    g = grade(text, rubrics["step-2"])
    assert g.verdict == "contradicts"
    named = {c.id for c in g.contradictions}
    assert {"ts-dedicated", "mig-takes-turns"} <= named
    reply = feedback(g, rubrics["step-2"])
    assert "You said time-slicing gives each tenant dedicated memory or compute; it doesn't" in (
        reply
    )
    assert "replicas share the whole GPU's memory" in reply


@pytest.mark.parametrize("step", ["step-1", "step-2", "step-3", "step-4", "recall", "teach-back"])
@pytest.mark.parametrize("answer", ["", "   ", "hmm", "ok so", "asdf qwer", "I had lunch"])
def test_an_answer_that_names_nothing_is_cant_tell(
    rubrics: dict[str, Rubric], step: str, answer: str
) -> None:
    g = grade(answer, rubrics[step])
    assert g.verdict == "cant_tell"
    assert g.self_check
    assert not g.said


def test_cant_tell_hands_the_check_to_the_learner(rubrics: dict[str, Rubric]) -> None:
    rubric = rubrics["step-1"]
    reply = feedback(grade("no idea", rubric), rubric)
    assert reply == self_check_prompt(rubric)
    assert "Did yours say each instance has its own L2 cache? (yes/no)" in reply
    # One question per point, numbered, and the strong answer point by point above them.
    assert reply.count("(yes/no)") == len(rubric.points)
    for point in rubric.points:
        assert f". {point.description}" in reply
    assert "Partly" not in reply and "Right" not in reply


def test_right_answer_is_right_and_says_so(rubrics: dict[str, Rubric]) -> None:
    rubric = rubrics["step-1"]
    g = grade("Its own SMs, its own slice of memory and its own L2 cache.", rubric)
    assert g.verdict == "right"
    assert [p.status for p in g.points] == ["said", "said", "said"]
    assert feedback(g, rubric).startswith("**Right.** You made every point")


def test_partly_names_what_is_missing(rubrics: dict[str, Rubric]) -> None:
    rubric = rubrics["step-1"]
    g = grade("Its own SMs and its own memory.", rubric)
    assert g.verdict == "partly"
    reply = feedback(g, rubric)
    assert "Missing: its own L2 cache, isolated in hardware." in reply


def test_teach_back_names_the_strongest_missing_point(rubrics: dict[str, Rubric]) -> None:
    rubric = rubrics["teach-back"]
    g = grade("MIG gives each instance its own SMs and memory.", rubric)
    assert g.verdict == "partly"
    reply = feedback(g, rubric)
    # "when" is the required point the answer leaves out.
    assert "The strongest point to add: when switching is worth it" in reply


def test_teach_back_contradiction_is_named(rubrics: dict[str, Rubric]) -> None:
    rubric = rubrics["teach-back"]
    g = grade("We'd switch to MIG if we wanted tenants to take turns on the whole GPU.", rubric)
    assert g.verdict == "contradicts"
    assert [c.id for c in g.contradictions] == ["mig-takes-turns"]
    assert "MIG does not take turns" in feedback(g, rubric)


def test_points_count_only_for_the_right_subject(rubrics: dict[str, Rubric]) -> None:
    rubric = rubrics["step-2"]
    # The right words said of the wrong mode are not a point.
    g = grade("Time-slicing gives each tenant a hardware partition.", rubric)
    assert {p.id: p.status for p in g.points}["mig-isolation"] == "missing"
    assert g.verdict == "contradicts"
    # Said of no mode at all, the grader cannot place them.
    g = grade("One is isolated in hardware, the other takes turns.", rubric)
    assert g.verdict == "cant_tell"


def test_a_copy_of_the_question_is_cant_tell(rubrics: dict[str, Rubric]) -> None:
    for step, rubric in rubrics.items():
        g = grade(rubric.question, rubric)
        assert g.verdict == "cant_tell", step
        assert g.reason == "a copy of the question"


def test_a_list_of_keywords_is_cant_tell(rubrics: dict[str, Rubric]) -> None:
    g = grade("isolation, turns, noisy neighbour, partition", rubrics["step-2"])
    assert (g.verdict, g.reason) == ("cant_tell", "a list of words with no claim")


def test_the_strong_answer_of_every_rubric_is_right(rubrics: dict[str, Rubric]) -> None:
    for step, rubric in rubrics.items():
        assert grade(rubric.answer, rubric).verdict == "right", step


def test_grade_converts_to_the_engine_event(rubrics: dict[str, Rubric]) -> None:
    g = grade("instances do not get their own SMs or L2, they share them", rubrics["step-1"])
    event = g.to_event("step-1")
    assert isinstance(event, Graded)
    assert event.verdict == "contradicts" and not event.self_check
    assert [p.point_id for p in event.points] == ["own-sms", "own-memory", "own-l2"]
    assert event.contradictions[0].source == "mig-concepts"
    assert event.contradictions[0].evidence == "instances do not get their own SMs or L2"
    # It survives the JSONL round trip the faces use.
    assert EVENT_ADAPTER.validate_json(event.model_dump_json()) == event


def test_a_megabyte_answer_grades_fast(rubrics: dict[str, Rubric]) -> None:
    for text in ("a" * 1_000_000, "not own " * 125_000, "(" * 1_000_000):
        started = time.perf_counter()
        g = grade(text, rubrics["teach-back"])
        assert time.perf_counter() - started < 0.1
        assert g.verdict == "cant_tell" and "too long" in g.reason


def test_a_long_but_allowed_answer_grades_in_milliseconds(rubrics: dict[str, Rubric]) -> None:
    text = ("MIG gives each instance its own SMs and L2, so no noisy neighbour; " * 60)[
        : MAX_CHARS - 1
    ]
    started = time.perf_counter()
    grade(text, rubrics["teach-back"])
    assert time.perf_counter() - started < 1.0


def test_a_step_without_a_rubric_is_a_clear_error(plan: LessonPlan) -> None:
    plain = plan.step("step-1").model_copy(update={"recall": None})
    with pytest.raises(RubricError, match="step step-1 has no recall question"):
        Rubric.from_step(plain)


def test_legacy_synonym_points_still_grade(plan: LessonPlan) -> None:
    # A plan written before claims: its points grade by synonyms, either way round.
    step = plan.step("step-1")
    assert step.recall is not None
    points = [p.model_copy(update={"claims": [], "denied": None}) for p in step.recall.points]
    recall = step.recall.model_copy(update={"points": points, "contradictions": []})
    rubric = Rubric.from_step(step.model_copy(update={"recall": recall}))
    assert grade("own SMs, memory and L2 cache", rubric).verdict == "right"


# One right, one negated and one swapped (or misconception) answer per recall question and
# the teach-back, with the misconception the grader must name.
PER_QUESTION = [
    ("step-1", "Each instance has its own SMs, its own HBM slice and its own L2.", "right", None),
    ("step-1", "An instance does not get its own memory.", "contradicts", "mig-shares-memory"),
    ("step-1", "MIG gives each workload the whole GPU in turns.", "contradicts",
     "mig-takes-turns"),
    ("step-2", "MIG isolates tenants in hardware; time-slicing has them take turns.", "right",
     None),
    ("step-2", "MIG does not isolate the tenants at all.", "contradicts", "mig-not-isolated"),
    ("step-2", "Time-slicing gives dedicated memory; MIG takes turns.", "contradicts",
     "ts-dedicated"),
    ("step-3", "MIG for teams with latency SLOs, time-slicing for bursty notebooks.", "right",
     None),
    ("step-3", "Time-slicing never suits bursty work; MIG for production SLOs.", "contradicts",
     "ts-not-for-bursty"),
    ("step-3", "MIG for bursty notebooks, time-slicing for latency SLOs.", "contradicts",
     "mig-for-bursty"),
    ("step-4", "Hardware isolation, so a heavy tenant can slow the others.", "right", None),
    ("step-4", "Time-slicing still keeps every tenant isolated.", "contradicts",
     "keeps-isolation"),
    ("step-4", "It trades away flexibility.", "contradicts", "trades-flexibility"),
    ("recall", "MIG: isolated hardware slices, rigid. Time-slicing: turns, no isolation.",
     "right", None),
    ("recall", "MIG has no isolation between instances.", "contradicts", "mig-not-isolated"),
    ("recall", "MIG is the flexible one, time-slicing is rigid.", "contradicts", "mig-flexible"),
    ("teach-back", "If we needed guaranteed per-tenant SLOs: MIG gives each tenant its own SMs "
     "and memory, so no noisy neighbour.", "right", None),
    ("teach-back", "MIG does not isolate tenants in hardware.", "contradicts",
     "mig-not-isolated"),
    ("teach-back", "We'd switch if we wanted MIG to take turns on the whole GPU.", "contradicts",
     "mig-takes-turns"),
]  # fmt: skip


@pytest.mark.parametrize(("step", "answer", "verdict", "named"), PER_QUESTION)
def test_right_negated_and_swapped_per_question(
    rubrics: dict[str, Rubric], step: str, answer: str, verdict: str, named: str | None
) -> None:
    g = grade(answer, rubrics[step])
    assert g.verdict == verdict, (g.reason, [(p.id, p.status) for p in g.points])
    if named is not None:
        assert named in {c.id for c in g.contradictions}
        assert not g.said or verdict == "contradicts"
