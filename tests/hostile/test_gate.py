"""The gate knows the options: nothing shown before a guess names, places or leans on one."""

from __future__ import annotations

import pytest

from tests.fakes import ScriptedModel, by_template
from tutor.engine.engine import Engine
from tutor.engine.events import TurnDone
from tutor.engine.guards import (
    AnswerKey,
    distinctive_words,
    leaks,
    leans,
    note_leaks,
    settles_pending,
    step_key,
    withhold_passage,
)
from tutor.engine.plan import LessonPlan, load_plan
from tutor.engine.prompts import load_prompts
from tutor.engine.record import Record
from tutor.settings import load_settings


@pytest.fixture(scope="module")
def plan() -> LessonPlan:
    return load_plan(load_settings().lesson_plan_file)


@pytest.fixture(scope="module")
def step1(plan: LessonPlan) -> AnswerKey:
    return step_key(plan.steps[0])


@pytest.fixture(scope="module")
def step2(plan: LessonPlan) -> AnswerKey:
    return step_key(plan.step("step-2"))


def fair_option(key: AnswerKey) -> str:
    """The letter of the step-2 distractor whose own word is 'fair'."""
    return next(k for k, words in distinctive_words(key).items() if "fair" in words)


@pytest.mark.parametrize(
    "sentence",
    [
        "It's {key}.",
        "Go for {key}!",
        "**{key}**",
        "I'd pick {key} here.",
        "Option {key} fits best.",
        "{key} is the right one.",
        "Pick the {ordinal} option.",
        "I'd say the {ordinal} one.",
        "Option {cardinal} is my bet.",
    ],
)
def test_the_key_option_named_by_letter_or_place_is_a_leak(step1: AnswerKey, sentence: str) -> None:
    assert step1.option_key is not None
    index = [k for k, _ in step1.options].index(step1.option_key)
    text = sentence.format(
        key=step1.option_key,
        ordinal=("first", "second", "third", "fourth")[index],
        cardinal=("one", "two", "three", "four")[index],
    )
    assert leaks(text, step1) is not None, text


def test_a_sentence_that_settles_the_keys_claims_is_a_leak(step1: AnswerKey) -> None:
    assert step1.option_key is not None
    own = sorted(distinctive_words(step1)[step1.option_key])
    sentence = f"Each instance keeps its {own[0]} and its {own[1]} to itself."
    assert leaks(sentence, step1) is not None


@pytest.mark.parametrize(
    "sentence",
    [
        "Take a moment and commit your guess.",
        "Take a moment: which option do you think is right?",
        "Take a moment: it's a trick question, isn't it?",
        "A tenant might notice a difference.",
    ],
)
def test_neutral_invitations_pass(step1: AnswerKey, step2: AnswerKey, sentence: str) -> None:
    assert note_leaks(sentence, step1) is None
    assert note_leaks(sentence, step2) is None


def test_the_most_fair_option_leans_toward_a_distractor(step2: AnswerKey) -> None:
    # what the embedded model was seen to write at step 2; "fair" is a wrong option's word
    sentence = "Take a moment: choose the option that is the most fair."
    assert leaks(sentence, step2) is None, "it does not point at the key..."
    assert leans(sentence, step2) is not None, "...but it leans, so it is cut"
    assert fair_option(step2) != step2.option_key


@pytest.mark.parametrize(
    "sentence",
    [
        "Take a moment: is it {wrong}?",
        "Think of the {wrong_ordinal} option.",
        "Take a moment: which would be the safest choice here?",
        "Take a moment: which one is the most {fair} of all?",
    ],
)
def test_a_lean_toward_any_option_is_cut(step2: AnswerKey, sentence: str) -> None:
    wrong = fair_option(step2)
    index = [k for k, _ in step2.options].index(wrong)
    text = sentence.format(
        wrong=wrong, wrong_ordinal=("first", "second", "third", "fourth")[index], fair="fair"
    )
    assert note_leaks(text, step2) is not None, text


def test_a_question_that_would_settle_the_pending_step_is_recognised(step1: AnswerKey) -> None:
    assert settles_pending("Does MIG give each instance its own SMs and L2 cache?", step1)
    assert settles_pending("What does MIG do to an H100?", step1), "the pending question itself"
    assert settles_pending("How long does a reboot take?", step1) is None


def test_an_added_document_is_never_quoted_while_a_guess_is_pending(step1: AnswerKey) -> None:
    harmless = "Notes on drivers and their versions."
    assert withhold_passage(harmless, step1, added=True) is not None
    assert withhold_passage(harmless, step1, added=False) is None
    assert withhold_passage(harmless, None, added=True) is None, "after the reveal it may be"
    injected = "It's B, go for B. MIG turns one H100 into up to seven separate GPUs."
    assert withhold_passage(injected, step1) is not None, "a leak even if not marked added"


async def test_the_engine_cuts_a_hosted_note_that_names_the_option(plan: LessonPlan) -> None:
    settings = load_settings()
    model = ScriptedModel(by_template(ask="Take a moment. It's B. Go for B!"), local=False)
    engine = Engine(
        plan=plan,
        prompts=load_prompts(settings.prompts_dir),
        model=model,  # type: ignore[arg-type]
        record=Record(settings.sessions_db),
    )
    events = [e async for e in engine.start()]
    turn = next(e for e in events if isinstance(e, TurnDone))
    assert "It's B" not in turn.text and "Go for B" not in turn.text
    assert engine.awaiting_guess


def test_a_later_steps_answer_is_withheld_until_that_step(plan: LessonPlan) -> None:
    steps = [s for s in plan.steps if s.kind == "step" and s.options]
    current, later = step_key(steps[0]), step_key(steps[1])
    assert later.option_key is not None
    own = sorted(distinctive_words(later)[later.option_key])
    passage = f"In short: {own[0]}, {own[1]} and {own[-1]} decide it."
    assert withhold_passage(passage, current) is None, "not the pending step's answer"
    assert withhold_passage(passage, current, later=[later]) is not None
    assert withhold_passage(passage, None, later=[later]) is not None, "even with no guess due"
