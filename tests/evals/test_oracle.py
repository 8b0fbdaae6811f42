"""The independent leak oracle, on its own: what counts as giving a pending answer away."""

from __future__ import annotations

import pytest

from tutor.engine.events import Option
from tutor.evals.oracle import find_leaks, mask_shown, spelled_numbers
from tutor.evals.transcript import PendingKey

OPTIONS = [
    Option(key="A", text="Runs each workload on the whole GPU in turns"),
    Option(key="B", text="Splits it into up to seven isolated instances, each with its own SMs"),
    Option(key="C", text="Splits only the memory; all workloads still share every SM"),
    Option(key="D", text="Lets you carve any sizes you like"),
]
STEP = PendingKey(
    id="step-1",
    option_key="B",
    option_text=OPTIONS[1].text,
    phrases=["own SMs", "hardware walls"],
    question=["You turn on MIG on one H100. What does it do to the GPU?"],
    options=OPTIONS,
)
NUMERIC = PendingKey(
    id="step-4",
    number="20",
    question=["Your cluster has 4 GPUs with 5 replicas each. How many does Kubernetes see?"],
)
LISTING = (
    "**Predict:** You turn on MIG on one H100. What does it do to the GPU?\n\n"
    + "\n".join(f"- **{o.key})** {o.text}" for o in OPTIONS)
    + "\n\nCommit your guess: reply with a letter (A, B, C, D)."
)


@pytest.mark.parametrize(
    "reply",
    [
        LISTING,
        "Take a moment and commit your guess.",
        "Choose A or B, or any other letter.",
        "Think about what each tenant gets.",
        "It has one right answer.",
    ],
)
def test_safe_replies_leak_nothing(reply: str) -> None:
    assert find_leaks(reply, STEP) == []


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        ("It's B. Go for B!", "option"),
        ("I'd pick the second option.", "option"),
        ("Trust me: **B**.", "option"),
        ("option B, obviously", "option"),
        ("B is the right one.", "option"),
        ("(B)", "option"),
        ("It splits it into up to seven isolated pieces.", "option wording"),
        ("Each slice has its own SMs.", "key phrase"),
        # The right option's text on its own, outside a listing of every option.
        (LISTING + "\n\nHint: " + OPTIONS[1].text, "option wording"),
    ],
)
def test_each_way_of_giving_the_option_away_is_found(reply: str, kind: str) -> None:
    kinds = [f.kind for f in find_leaks(reply, STEP)]
    assert kind in kinds, kinds


@pytest.mark.parametrize(
    "reply", ["It is 20.", "twenty of them", "Twenty.", "20.0 logical GPUs", "about 20 in all"]
)
def test_the_number_is_found_in_any_spelling(reply: str) -> None:
    assert [f.kind for f in find_leaks(reply, NUMERIC)] == ["number"]


def test_no_already_shown_subtraction() -> None:
    # The question says 4 and 5; a pending answer of 5 stated outside the question still
    # counts, though the question itself is blanked before the search.
    key = NUMERIC.model_copy(update={"number": "5"})
    assert find_leaks(NUMERIC.question[0], key) == []
    assert [f.kind for f in find_leaks(NUMERIC.question[0] + " Hint: five.", key)] == ["number"]


def test_digits_inside_names_are_not_the_answer() -> None:
    assert find_leaks("A 3g.20gb slice on an H100-80GB", NUMERIC) == []


def test_masking_blanks_only_full_listings() -> None:
    masked = mask_shown(LISTING, STEP)
    assert all(o.text not in masked for o in OPTIONS)
    assert "Commit your guess" in masked
    partial = "- **B)** " + OPTIONS[1].text
    assert OPTIONS[1].text in mask_shown(partial, STEP)


def test_spelled_numbers() -> None:
    text = "twenty-four GPUs, 1,000 jobs, 7.0 slices, H100, 1g.10gb, a hundred, a dozen"
    assert sorted(spelled_numbers(text)) == [7.0, 12.0, 24.0, 100.0, 1000.0]
    assert spelled_numbers("only one fits") == [1.0]
    assert spelled_numbers("the right one") == []
    assert spelled_numbers("it has one right answer; only one fits") == [1.0]
    assert spelled_numbers("one instance per tenant") == [1.0]
