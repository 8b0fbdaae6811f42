"""Judging recall and teach-back answers by what they claim about what.

A rubric point is a claim: a subject (MIG, time-slicing, the learner's cluster), what is
said of it, and whether it must be affirmed or denied. The grader reads the answer into
clauses, gives each clause its subject (pronouns and "the other one" included), reads
negation, contrast and comparison, and counts a point only when it is said of the right
subject with the right polarity. A claim that matches a misconception is named back with
its correction and source. It is deterministic, needs no model and takes a few ms.

API, for the engine:

* ``Rubric.from_step(step) -> Rubric``: the rubric of a step with a recall block, or of a
  teach-back step; ``RubricError`` when the step has neither.
* ``grade(answer, rubric) -> Grade``: ``verdict`` is ``right`` (every required point, no
  misconception), ``partly`` (some points, no misconception), ``contradicts`` (a
  misconception named in ``contradictions``) or ``cant_tell`` (too short, off-topic, a
  copy of the question, a word list, or the grader cannot place a claim); ``points`` holds
  a status per point (said / missing / contradicted / unsure) with the learner's clause as
  evidence. ``Grade.to_event(step_id)`` is the engine's ``Graded`` event.
* ``feedback(grade, rubric, sources=None) -> str``: the Markdown reply body. Right and
  partly name the points (partly names what is missing; a teach-back names the strongest
  missing point); contradicts names each misconception with its correction and source;
  can't tell shows the strong answer point by point and asks one yes/no question per point
  (``self_check_prompt``). ``sources`` maps corpus file stems to titles
  (``source_titles(corpus_dir)`` reads them from the documents' front matter).
* ``read_self_check(text, n_points) -> list[bool] | None``: the learner's yes/no reply
  ("yes", "y n y", "all yes", "yes to the first two, no to the last"); None when it cannot
  be read, so the tutor asks again. ``self_check_summary(answers, rubric)`` words the reply.
* Hosted models: ``ModelGrade`` is the schema a model fills (a status and a reason per
  point); ``model_grade_brief(answer, rubric)`` is the text to send it;
  ``parse_model_grade(reply, rubric)`` validates the reply and ``merge(grade, model,
  rubric)`` combines it with the deterministic grade, which keeps the last word on
  misconceptions.
* The learner record: ``Record.add_grade(session_id, grade.to_event(step_id))`` keeps the
  verdict per point and per misconception, ``Record.add_self_check`` the learner's yes/no
  per point, ``Record.to_review`` what a later review should target.
"""

from __future__ import annotations

from tutor.grading.feedback import (
    feedback,
    read_self_check,
    self_check_prompt,
    self_check_summary,
    source_titles,
)
from tutor.grading.grader import Grade, MisconceptionResult, PointResult, grade
from tutor.grading.hosted import (
    ModelGrade,
    ModelGradeError,
    ModelPointVerdict,
    merge,
    model_grade_brief,
    parse_model_grade,
)
from tutor.grading.rubric import Rubric, RubricError

__all__ = [
    "Grade",
    "MisconceptionResult",
    "ModelGrade",
    "ModelGradeError",
    "ModelPointVerdict",
    "PointResult",
    "Rubric",
    "RubricError",
    "feedback",
    "grade",
    "merge",
    "model_grade_brief",
    "parse_model_grade",
    "read_self_check",
    "self_check_prompt",
    "self_check_summary",
    "source_titles",
]
