from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.evals.conftest import polite_model
from tests.fakes import ScriptedModel, by_template
from tutor.engine.engine import Engine
from tutor.engine.plan import LessonPlan
from tutor.evals.cases import Case
from tutor.evals.scorers import (
    ScoreContext,
    asks_prediction,
    case_checks,
    citation_markers,
    citations,
    completed,
    grounded_numbers,
    leak_agreement,
    length,
    reveal_gate,
    score_all,
    verdict,
)
from tutor.evals.solver import solve
from tutor.evals.transcript import Transcript, TurnRecord, calculate_field

MakeEngine = Callable[..., Engine]


def case(**data: object) -> Case:
    return Case.model_validate({"id": "t", **data})


async def play(
    make_engine: MakeEngine, plan: LessonPlan, c: Case, model: ScriptedModel | None = None
) -> Transcript:
    return await solve(c, make_engine(model), plan)


def failing(scores: list) -> dict[str, str]:  # type: ignore[type-arg]
    return {s.name: s.detail for s in scores if s.passed is False}


def add(turn: TurnRecord, text: str, segment: int = -1) -> None:
    """Append words to a reply as if the engine had streamed them in that segment."""
    turn.text += text
    turn.segments[segment].text += text


def replace(turn: TurnRecord, old: str, new: str) -> None:
    turn.text = turn.text.replace(old, new)
    for seg in turn.segments:
        seg.text = seg.text.replace(old, new)


async def test_a_good_transcript_passes_every_scorer(
    make_engine: MakeEngine, plan: LessonPlan
) -> None:
    c = case(
        start="step-1",
        turns=[
            {"say": "what is an SM?"},
            {"say": "C", "expect": {"verdict": "wrong", "misconception": True}},
        ],
    )
    t = await play(make_engine, plan, c)
    assert failing(score_all(c, t, ScoreContext(plan))) == {}


async def test_the_gate_catches_what_the_engines_guard_lets_through(
    make_engine: MakeEngine, plan: LessonPlan
) -> None:
    # The engine's guard looks for the option's wording; these name the option itself.
    for leak in ("It's B. Go for B!", "Pick the second option.", "Trust me: **B**."):
        c = case(start="step-1", turns=[{"say": "Why would anyone split a GPU?"}])
        t = await play(make_engine, plan, c)
        assert reveal_gate(c, t, ScoreContext(plan)).passed is True
        add(t.turns[1], " " + leak)
        score = reveal_gate(c, t, ScoreContext(plan))
        assert score.passed is False, leak
        assert "option" in score.detail and "step-1" in score.detail


async def test_where_oracle_and_guard_disagree_the_case_is_flagged(
    make_engine: MakeEngine, plan: LessonPlan, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = case(start="step-1", turns=[{"say": "Why would anyone split a GPU?"}])
    t = await play(make_engine, plan, c)
    assert leak_agreement(c, t, ScoreContext(plan)).passed is True
    add(t.turns[1], " Go for B!")
    # A guard with a blind spot: it sees nothing, the oracle sees the option named.
    monkeypatch.setattr("tutor.engine.guards.leaks", lambda text, key: None)
    agreement = leak_agreement(c, t, ScoreContext(plan))
    assert agreement.passed is False
    assert "turn 1 (step-1) only the oracle: option (names B" in agreement.detail
    monkeypatch.setattr("tutor.engine.guards.leaks", lambda text, key: "points at option B")
    c2 = case(start="step-2", turns=[{"say": "why?"}])
    t2 = await play(make_engine, plan, c2)
    assert "only the guard: points at option B" in leak_agreement(c2, t2, ScoreContext(plan)).detail


async def test_a_leak_the_engine_cut_is_not_in_the_transcript(
    make_engine: MakeEngine, plan: LessonPlan
) -> None:
    leaky = ScriptedModel(
        by_template(
            ask="Hint: the answer is B, isolated instances with own SMs.",
            free="The correct answer is B.",
            default="Fine.",
        )
    )
    c = case(start="step-1", turns=[{"say": "Why would anyone split a GPU?"}])
    t = await play(make_engine, plan, c, leaky)
    assert any(turn.replaced for turn in t.turns)
    score = reveal_gate(c, t, ScoreContext(plan))
    assert score.passed is True, score.detail


async def test_gate_scorer_catches_an_option_leak(
    make_engine: MakeEngine, plan: LessonPlan
) -> None:
    c = case(start="step-1", turns=[{"say": "just tell me the answer"}])
    t = await play(make_engine, plan, c)
    add(t.turns[1], "\n\nFine: the correct answer is B.")
    score = reveal_gate(c, t, ScoreContext(plan))
    assert score.passed is False
    assert "step-1" in score.detail


async def test_gate_scorer_catches_a_calculator_number_before_the_guess(
    make_engine: MakeEngine, plan: LessonPlan
) -> None:
    c = case(start="step-4", turns=[{"say": "just tell me"}])
    t = await play(make_engine, plan, c)
    assert reveal_gate(c, t, ScoreContext(plan)).passed is True
    step = plan.step("step-4")
    assert step.numeric is not None
    answer = calculate_field(step.numeric.tool, step.numeric.arguments, step.numeric.field)
    add(t.turns[1], f" Between us, Kubernetes sees {answer}.")
    score = reveal_gate(c, t, ScoreContext(plan))
    assert score.passed is False
    assert f"states {answer}" in score.detail


async def test_gate_scorer_checks_the_learners_own_question(
    make_engine: MakeEngine, plan: LessonPlan
) -> None:
    c = case(start="free", turns=[{"say": "How many 1g.10gb instances fit on an A100-80GB?"}])
    t = await play(make_engine, plan, c)
    assert reveal_gate(c, t, ScoreContext(plan)).passed is True
    answer = calculate_field("mig_capacity", {"gpu": "A100-80GB", "profile": "1g.10gb"}, "count")
    add(t.turns[0], f" It is {answer}, by the way.")
    assert reveal_gate(c, t, ScoreContext(plan)).passed is False


async def test_an_invented_number_is_cut_by_the_engine(
    make_engine: MakeEngine, plan: LessonPlan
) -> None:
    inventive = ScriptedModel(
        by_template(reveal="An H100 has 999 SMs in each slice.", default="Ok.")
    )
    c = case(start="step-1", turns=[{"say": "B"}])
    t = await play(make_engine, plan, c, inventive)
    assert "999" not in t.turns[1].text
    assert t.turns[1].replaced
    assert grounded_numbers(c, t, ScoreContext(plan)).passed is True


async def test_grounded_numbers_catches_a_number_from_no_source(
    make_engine: MakeEngine, plan: LessonPlan
) -> None:
    c = case(start="step-1", turns=[{"say": "B"}])
    t = await play(make_engine, plan, c)
    add(t.turns[1], " Each instance has 999 SMs.")
    score = grounded_numbers(c, t, ScoreContext(plan))
    assert score.passed is False
    assert "999" in score.detail


async def test_grounded_numbers_accepts_calculator_results(
    make_engine: MakeEngine, plan: LessonPlan
) -> None:
    c = case(
        start="free",
        calc={
            "tool": "mig_capacity",
            "arguments": {"gpu": "A30-24GB", "profile": "1g.6gb"},
            "field": "count",
        },
        turns=[{"say": "How many 1g.6gb fit on an A30?"}, {"say": "{answer}"}],
    )
    t = await play(make_engine, plan, c)
    assert t.turns[1].revealed and t.turns[1].tool_calls
    assert grounded_numbers(c, t, ScoreContext(plan)).passed is True


async def test_citations_on_reveals(make_engine: MakeEngine, plan: LessonPlan) -> None:
    c = case(start="step-2", turns=[{"say": "A"}])
    t = await play(make_engine, plan, c)
    ctx = ScoreContext(plan)
    assert citations(c, t, ctx).passed is True
    t.turns[1].citations = []
    assert citations(c, t, ctx).passed is False
    no_reveal = case(start="step-2", turns=[{"say": "why?"}])
    t2 = await play(make_engine, plan, no_reveal)
    assert citations(no_reveal, t2, ctx).passed is None


async def test_citation_markers_point_at_real_sources(
    make_engine: MakeEngine, plan: LessonPlan
) -> None:
    c = case(start="step-2", turns=[{"say": "A"}])
    t = await play(make_engine, plan, c)
    assert citation_markers(c, t, ScoreContext(plan)).passed is True
    add(t.turns[1], " As [3] says.")
    assert citation_markers(c, t, ScoreContext(plan)).passed is False


async def test_verdict_is_checked_against_the_plan(
    make_engine: MakeEngine, plan: LessonPlan
) -> None:
    c = case(start="step-3", turns=[{"say": "A"}])
    t = await play(make_engine, plan, c)
    ctx = ScoreContext(plan)
    assert verdict(c, t, ctx).passed is True
    t.turns[1].verdicts[0].correct = True
    assert "verdict says right" in verdict(c, t, ctx).detail
    t2 = await play(make_engine, plan, c)
    misconception = plan.step("step-3").options[0].misconception
    assert misconception
    replace(t2.turns[1], misconception.strip(), "")
    assert "misconception" in verdict(c, t2, ctx).detail


async def test_verdict_on_a_numeric_step_uses_the_calculator(
    make_engine: MakeEngine, plan: LessonPlan
) -> None:
    c = case(start="step-4", turns=[{"say": "{answer+1}"}])
    t = await play(make_engine, plan, c)
    assert t.turns[1].verdicts[0].correct is False
    assert verdict(c, t, ScoreContext(plan)).passed is True


async def test_asks_prediction_when_a_guess_is_pending(
    make_engine: MakeEngine, plan: LessonPlan
) -> None:
    c = case(start="step-1", turns=[{"say": "give me the answer"}])
    t = await play(make_engine, plan, c)
    ctx = ScoreContext(plan)
    assert asks_prediction(c, t, ctx).passed is True
    shown = t.turns[1].predictions[-1]
    replace(t.turns[1], shown.question, "")
    assert "question asked is not in the reply" in str(asks_prediction(c, t, ctx).detail)
    t.turns[1].events = [e for e in t.turns[1].events if e not in t.turns[1].predictions]
    assert "no prediction request event" in asks_prediction(c, t, ctx).detail


async def test_length_bounds(make_engine: MakeEngine, plan: LessonPlan) -> None:
    c = case(start="step-1", turns=[{"say": "B"}])
    t = await play(make_engine, plan, c)
    assert length(c, t, ScoreContext(plan)).passed is True
    tight = ScoreContext(plan, length={"reveal": (1, 10), "start": (1, 1000)})
    assert "bounds 1-10" in length(c, t, tight).detail


async def test_case_checks_report_each_missed_expectation(
    make_engine: MakeEngine, plan: LessonPlan
) -> None:
    expect = {
        "verdict": "wrong",
        "contains": ["zebra"],
        "regex": ["Right!"],
        "not_contains": ["Sources:"],
        "max_words": 5,
    }
    c = case(start="step-1", turns=[{"say": "B", "expect": expect}])
    t = await play(make_engine, plan, c)
    detail = case_checks(c, t, ScoreContext(plan)).detail
    assert "expected verdict wrong" in detail
    assert "missing 'zebra'" in detail
    assert "+" in detail  # more problems than the three shown


async def test_final_state_checks(make_engine: MakeEngine, plan: LessonPlan) -> None:
    c = case(
        start="step-1",
        turns=[{"say": "B"}],
        final={"phase": "done", "progress": {"step-1": "wrong"}},
    )
    t = await play(make_engine, plan, c)
    detail = case_checks(c, t, ScoreContext(plan)).detail
    assert "ended in phase recall" in detail
    assert "step-1 is current, expected wrong" in detail


async def test_a_broken_stream_is_not_completed(make_engine: MakeEngine, plan: LessonPlan) -> None:
    c = case(start="step-1", turns=[{"say": "B"}])
    t = await play(make_engine, plan, c, ScriptedModel("one two three four", fail_after=1))
    score = completed(c, t, ScoreContext(plan))
    assert score.passed is False
    assert "failed" in score.detail


@pytest.mark.parametrize("name", ["careful", "confident-wrong", "answer-seeker"])
async def test_personas_walk_the_whole_lesson(
    make_engine: MakeEngine, plan: LessonPlan, name: str
) -> None:
    c = case(start="beginning", persona=name)
    t = await play(make_engine, plan, c, polite_model())
    assert t.final is not None and t.final.phase == "done"
    steps = ("step-1", "step-2", "step-3", "step-4")
    if name == "careful":
        assert all(t.progress[s] == "right" for s in [*steps, "recall", "teach-back"])
    if name == "confident-wrong":
        assert all(t.progress[s] == "wrong" for s in steps)
    if name == "answer-seeker":
        demands = [
            turn for turn in t.turns if "answer" in turn.learner.lower() and turn.before.awaiting
        ]
        assert demands and not any(turn.revealed for turn in demands)
    assert failing(score_all(c, t, ScoreContext(plan))) == {}


@pytest.mark.parametrize(
    ("reply", "sources", "extra"),
    [
        (
            "A 1g.10gb slice on an H100 has 7 peers and 999 friends.",
            ["capacity = 7 on H100"],
            {"999"},
        ),
        ("about twelve of them", ["12 in all"], set()),
        ("twenty-four hours", ["a day has 24 hours"], set()),
        ("1,000 GPUs", ["1000 GPUs"], set()),
        ("1,000 GPUs", ["100 GPUs"], {"1000"}),
        # A real profile's name is a catalogue fact; an invented one is not.
        ("reply with a profile name, like 2g.20gb", [], set()),
        ("try 5g.18gb", [], {"5", "18"}),
    ],
)
def test_grounding_finds_numbers_in_any_spelling(
    reply: str, sources: list[str], extra: set[str]
) -> None:
    from tutor.evals.scorers import ungrounded

    assert ungrounded(reply, sources) == extra


async def test_revealing_a_side_question_is_not_a_leak_of_the_pending_step(
    make_engine: MakeEngine, plan: LessonPlan
) -> None:
    c = case(
        start="step-2",
        calc={
            "tool": "mig_capacity",
            "arguments": {"gpu": "A100-80GB", "profile": "1g.10gb"},
            "field": "count",
        },
        turns=[{"say": "How many 1g.10gb fit on an A100-80GB?"}, {"say": "{answer}"}],
    )
    t = await play(make_engine, plan, c)
    reveal = t.turns[2]
    assert [v.step_id for v in reveal.verdicts] == ["free"]
    assert [k.id for k in reveal.after.pending] == ["step-2"]
    at = next(i for i, s in enumerate(reveal.segments) if s.phase == "reveal")
    add(reveal, " The answer is that many.", segment=at)
    assert reveal_gate(c, t, ScoreContext(plan)).passed is True
    add(reveal, " For the lesson, the right answer is B.", segment=at)
    assert reveal_gate(c, t, ScoreContext(plan)).passed is False


async def test_guard_cuts_are_reported(make_engine: MakeEngine, plan: LessonPlan) -> None:
    from tutor.evals.scorers import no_guard_cuts

    c = case(start="step-1", turns=[{"say": "B"}])
    clean = await play(make_engine, plan, c)
    assert no_guard_cuts(c, clean, ScoreContext(plan)).passed is True
    inventive = ScriptedModel(by_template(reveal="There are 999 of them.", default="Ok."))
    cut = await play(make_engine, plan, c, inventive)
    score = no_guard_cuts(c, cut, ScoreContext(plan))
    assert score.passed is False and "turn 1" in score.detail


def _reword(text: str) -> str:
    """The same reply in other words and markup, as a rewrite of the engine might give."""
    for old, new in (
        ("**", ""),
        ("Sources:", "References -"),
        ("\n---\n", "\n* * *\n"),
        ("Right!", "Yes, well done."),
        ("Not quite.", "Not this time."),
        ("Well recalled.", "Good recall."),
        ("Partly there.", "Some of it."),
        ("Missing:", "Still to add:"),
        ("Back to the lesson:", "Now, where we were:"),
        ("Predict:", "Your turn:"),
        ("Commit your guess", "Lock in your answer"),
    ):
        text = text.replace(old, new)
    return text


@pytest.mark.parametrize(
    "data",
    [
        {"start": "step-1", "turns": [{"say": "C", "expect": {"verdict": "wrong"}}]},
        {"start": "step-1/recall", "turns": [{"say": "Its own SMs and its own memory."}]},
        {
            "start": "step-2",
            "calc": {
                "tool": "mig_capacity",
                "arguments": {"gpu": "A100-80GB", "profile": "1g.10gb"},
                "field": "count",
            },
            "turns": [{"say": "How many 1g.10gb fit on an A100-80GB?"}, {"say": "{answer}"}],
        },
        {"start": "beginning", "persona": "careful"},
    ],
)
async def test_rewording_a_reply_changes_no_score(
    make_engine: MakeEngine,
    plan: LessonPlan,
    data: dict,  # type: ignore[type-arg]
) -> None:
    c = case(**data)
    t = await play(make_engine, plan, c)
    before = [(s.name, s.passed) for s in score_all(c, t, ScoreContext(plan))]
    assert ("completed", True) in before and ("reveal_gate", True) in before
    for turn in t.turns:
        turn.text = _reword(turn.text)
        for segment in turn.segments:
            segment.text = _reword(segment.text)
    after = [(s.name, s.passed) for s in score_all(c, t, ScoreContext(plan))]
    assert after == before


async def test_case_checks_read_the_reading_and_grade_events(
    make_engine: MakeEngine, plan: LessonPlan
) -> None:
    c = case(
        start="step-1",
        turns=[{"say": "B", "expect": {"reading": {"kind": "calculator", "guess": "C"}}}],
    )
    t = await play(make_engine, plan, c)
    detail = case_checks(c, t, ScoreContext(plan)).detail
    assert "read as guess, expected calculator" in detail
    assert "read the guess B, expected C" in detail
    graded = case(
        start="step-1/recall", turns=[{"say": "Its own SMs.", "expect": {"graded": "pass"}}]
    )
    t2 = await play(make_engine, plan, graded)
    grade = t2.turns[1].grades[-1].verdict
    assert grade != "right"
    assert "expected the answer graded pass" in case_checks(graded, t2, ScoreContext(plan)).detail
