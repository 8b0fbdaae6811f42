"""Reading the learner's yes/no self-check, and the reply to it."""

from __future__ import annotations

import pytest

from tutor.grading import Rubric, read_self_check, self_check_summary


@pytest.mark.parametrize(
    ("text", "n", "expected"),
    [
        ("yes", 3, [True, True, True]),
        ("no", 2, [False, False]),
        ("Yes!", 1, [True]),
        ("y n y", 3, [True, False, True]),
        ("yes, no, yes", 3, [True, False, True]),
        ("yep nope yeah", 3, [True, False, True]),
        ("all yes", 3, [True, True, True]),
        ("yes to all", 4, [True, True, True, True]),
        ("no to all", 3, [False, False, False]),
        ("both yes", 2, [True, True]),
        ("1 yes 2 no 3 yes", 3, [True, False, True]),
        ("1: yes, 2: no, 3: no", 3, [True, False, False]),
        ("yes to the first two, no to the last", 3, [True, True, False]),
        ("first yes, the rest no", 3, [True, False, False]),
        ("yes for 1 and 3, no for 2", 3, [True, False, True]),
        ("1 and 2 yes, 3 no", 3, [True, True, False]),
        ("I did not", 2, [False, False]),
        ("yes, I did", 3, [True, True, True]),
        ("none of them", 3, [False, False, False]),
        ("no, none", 2, [False, False]),
        ("yes for the first, no for the second and third", 3, [True, False, False]),
    ],
)
def test_replies_that_read(text: str, n: int, expected: list[bool]) -> None:
    assert read_self_check(text, n) == expected


@pytest.mark.parametrize(
    ("text", "n"),
    [
        ("", 3),
        ("maybe", 3),
        ("yes no", 3),  # two answers for three points
        ("1 yes 4 no", 3),  # no point 4
        ("yes to the first", 3),  # the others unanswered
        ("1 yes 1 no 2 yes 3 no", 3),  # point 1 answered twice
        ("what do you mean by L2 cache exactly", 3),
        ("yes", 0),
    ],
)
def test_replies_that_do_not_read(text: str, n: int) -> None:
    assert read_self_check(text, n) is None


def test_summary_names_what_to_look_at_again(rubrics: dict[str, Rubric]) -> None:
    rubric = rubrics["step-1"]
    text = self_check_summary([True, True, False], rubric)
    assert text == (
        "Noted: yours had 2 of 3 points. Worth another look: its own L2 cache, isolated in "
        "hardware."
    )
    assert self_check_summary([True] * 3, rubric) == "Noted: yours had all 3 points."
