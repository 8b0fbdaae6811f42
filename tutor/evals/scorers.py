"""Deterministic scorers: exact, cheap checks on a transcript.

Each scorer is a small function `(case, transcript, context) -> Score`. `passed` is None
when the check does not apply to the case (no reveal happened, say), so pass rates count
only cases the check could judge.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pydantic import BaseModel

from tutor.engine.guards import leaks
from tutor.engine.numbers import first_number, normalise, numbers_in
from tutor.engine.plan import LessonPlan, Step
from tutor.evals.cases import Case, Expect
from tutor.evals.solver import expected_turn_index
from tutor.evals.transcript import PendingKey, Transcript, TurnRecord, calculate_field

_MARKER = re.compile(r"\[\d+\]")
_ASKS = re.compile(r"\b(commit|guess|predict)", re.I)
_SAYS_RIGHT = re.compile(r"\b(right|correct)\b", re.I)
_SAYS_WRONG = re.compile(r"\b(not quite|not right|incorrect|wrong)\b", re.I)
_SEPARATOR = "\n---\n"
# Fixed examples in the engine's own wording ("reply with a profile name, like 2g.20gb"):
# format hints, not facts about the learner's question.
_ENGINE_EXAMPLES = "like 2g.20gb"

DEFAULT_LENGTH: dict[str, tuple[int, int]] = {
    "start": (5, 400),
    "ask": (5, 250),
    "reveal": (15, 600),
    "recall": (5, 400),
    "teach_back": (5, 400),
    "free": (3, 350),
    "done": (3, 300),
}


class Score(BaseModel):
    name: str
    passed: bool | None
    detail: str = ""


@dataclass(frozen=True)
class ScoreContext:
    plan: LessonPlan
    length: dict[str, tuple[int, int]] = field(default_factory=lambda: dict(DEFAULT_LENGTH))


Scorer = Callable[[Case, Transcript, ScoreContext], Score]


def _result(name: str, problems: list[str], applicable: bool = True) -> Score:
    if not applicable:
        return Score(name=name, passed=None, detail="not applicable")
    if problems:
        more = f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""
        return Score(name=name, passed=False, detail="; ".join(problems[:3]) + more)
    return Score(name=name, passed=True)


def _words(text: str) -> int:
    return len(re.findall(r"\S+", text))


def _flat(text: str) -> str:
    return " ".join(text.split()).lower()


# ------------------------------------------------------------------ reveal gate


def _mask_shown(text: str, key: PendingKey) -> str:
    """Blank out the question and options as shown: they may contain any option's wording."""
    for piece in sorted(key.shown_text.split("\n"), key=len, reverse=True):
        piece = piece.strip()
        if len(piece) >= 12:
            text = text.replace(piece, " ")
    return text


_ANNOUNCES = "announces an answer"


def key_leak(text: str, key: PendingKey) -> str | None:
    return leaks(_mask_shown(text, key), key.answer_key())


def reveal_gate(case: Case, transcript: Transcript, ctx: ScoreContext) -> Score:
    """No reply states a pending answer before the learner committed a guess to it."""
    problems: list[str] = []
    checked = False
    for turn in transcript.turns:
        revealed = {v.step_id for v in turn.verdicts}
        before = {k.id for k in turn.before.pending}
        for key in turn.before.pending:
            if key.id in revealed:
                continue
            checked = True
            why = key_leak(turn.text, key)
            if why == _ANNOUNCES and revealed:
                # "The answer is ..." in a turn that revealed another question speaks of that
                # one; only a leak specific to this key (its number, option, phrase) counts.
                why = None
            if why:
                problems.append(f"turn {turn.index} {why} for {key.id} before a guess")
        for key in turn.after.pending:
            if key.id in before and key.id not in revealed:
                continue
            # A question asked after a reveal starts after the separator; the reveal above
            # it may legitimately state other numbers.
            segment = turn.text.rsplit(_SEPARATOR, 1)[-1] if turn.revealed else turn.text
            checked = True
            why = key_leak(segment, key)
            if why:
                problems.append(f"turn {turn.index} {why} for {key.id} as it asks")
    return _result("reveal_gate", problems, applicable=checked)


# ------------------------------------------------------------------ prediction requests


def asks_prediction(case: Case, transcript: Transcript, ctx: ScoreContext) -> Score:
    """Whenever a guess is pending after a turn, the turn asked for it (event and words)."""
    problems: list[str] = []
    checked = False
    for turn in transcript.turns:
        if turn.failed or turn.commit_rejected or not turn.after.awaiting:
            continue
        checked = True
        if not turn.predictions:
            problems.append(f"turn {turn.index}: no prediction request event")
        elif not _ASKS.search(turn.text.rsplit(_SEPARATOR, 1)[-1]):
            problems.append(f"turn {turn.index}: the reply never asks for a guess")
    return _result("asks_prediction", problems, applicable=checked)


# ------------------------------------------------------------------ grounded numbers


def _step_texts(step: Step) -> list[str]:
    texts = [step.title, step.concept, step.question, step.explanation, step.model_answer or ""]
    for option in step.options:
        texts += [option.text, option.misconception or ""]
    if step.recall is not None:
        texts += [step.recall.question, step.recall.answer]
        texts += [p.description for p in step.recall.points]
        # "You named 2 of 3 points": counts of the rubric are the engine's, not facts.
        texts.append(" ".join(str(i) for i in range(len(step.recall.points) + 1)))
    if step.rubric:
        texts += [p.description for p in step.rubric]
        texts.append(" ".join(str(i) for i in range(len(step.rubric) + 1)))
    return texts


def allowed_sources(turn: TurnRecord, transcript: Transcript, plan: LessonPlan) -> list[str]:
    """What a reply may take numbers from: calculator results, cited passages, the lesson
    plan of the steps in play (itself a cited source), and what the learner wrote."""
    import json

    texts = [plan.title, plan.intro, plan.win, plan.closing, _ENGINE_EXAMPLES]
    texts += [t.learner for t in transcript.turns[: turn.index + 1]]
    for citation in turn.citations:
        texts += [citation.text, citation.label, citation.url or ""]
    for record in turn.tool_calls:
        texts += [json.dumps(record.result), json.dumps(record.arguments), record.diagram or ""]
    for key in (*turn.before.pending, *turn.after.pending):
        texts.append(key.shown_text)
    step_ids = {turn.before.step_id, turn.after.step_id, turn.step_id}
    step_ids |= {v.step_id for v in turn.verdicts}
    for step in plan.steps:
        if step.id in step_ids:
            texts += _step_texts(step)
    return texts


@lru_cache(maxsize=8192)
def _numbers(text: str) -> frozenset[str]:
    return frozenset(numbers_in(text))


def ungrounded(reply: str, sources: list[str]) -> set[str]:
    """guards.ungrounded_numbers, memoised: the plan's texts recur in every turn scored."""
    allowed: set[str] = set()
    for text in sources:
        allowed |= _numbers(text)
    return set(_numbers(reply) - allowed)


def grounded_numbers(case: Case, transcript: Transcript, ctx: ScoreContext) -> Score:
    """Every number a reply states is in a calculator result, a cited passage or the plan."""
    problems: list[str] = []
    checked = False
    for turn in transcript.turns:
        if not turn.text:
            continue
        checked = True
        text = _MARKER.sub(" ", turn.text)
        extra = ungrounded(text, allowed_sources(turn, transcript, ctx.plan))
        if extra:
            problems.append(f"turn {turn.index} states {', '.join(sorted(extra))} from no source")
    return _result("grounded_numbers", problems, applicable=checked)


# ------------------------------------------------------------------ citations


def citations(case: Case, transcript: Transcript, ctx: ScoreContext) -> Score:
    """Every reveal cites at least one source (a passage, or the calculator for numbers)."""
    problems: list[str] = []
    checked = False
    for turn in transcript.turns:
        if not turn.revealed:
            continue
        checked = True
        step_reveal = any(v.step_id != "free" for v in turn.verdicts)
        if step_reveal and not turn.citations:
            problems.append(f"turn {turn.index}: reveal without a cited passage")
        elif not turn.citations and not turn.tool_calls:
            problems.append(f"turn {turn.index}: reveal without a source")
        elif "Sources:" not in turn.text:
            problems.append(f"turn {turn.index}: no Sources line in the reply")
    return _result("citations", problems, applicable=checked)


def citation_markers(case: Case, transcript: Transcript, ctx: ScoreContext) -> Score:
    """Every [n] in a reply points at a source the turn actually cited."""
    problems: list[str] = []
    checked = False
    for turn in transcript.turns:
        markers = {int(m[1:-1]) for m in _MARKER.findall(turn.text)}
        if not markers:
            continue
        checked = True
        bad = sorted(n for n in markers if n < 1 or n > len(turn.citations))
        if bad:
            problems.append(
                f"turn {turn.index} cites [{bad[0]}] with {len(turn.citations)} sources"
            )
    return _result("citation_markers", problems, applicable=checked)


# ------------------------------------------------------------------ verdict


def _expected_correct(turn: TurnRecord, step_id: str, guess: str, plan: LessonPlan) -> bool | None:
    if step_id == "free":
        key = next((k for k in turn.before.pending if k.id == "free"), None)
        tool = next((t for t in turn.tool_calls), None)
        if key is None or tool is None:
            return None
        value: Any = None
        result = tool.result if isinstance(tool.result, dict) else {}
        for field_name in ("count", "valid", "profile"):
            if field_name in result:
                value = calculate_field(tool.name, tool.arguments, field_name)
                break
        return _matches(guess, value)
    step = plan.step(step_id)
    if step.options:
        right = step.correct_option
        return right is not None and guess.upper() == right.key
    if step.numeric is not None:
        value = calculate_field(step.numeric.tool, step.numeric.arguments, step.numeric.field)
        return _matches(guess, value, step.tolerance)
    return None


def _matches(guess: str, value: Any, tolerance: float = 0.0) -> bool | None:
    if isinstance(value, bool):
        return (guess.strip().lower() in ("yes", "true", "valid")) == value
    if isinstance(value, int | float):
        number = first_number(guess)
        return number is not None and abs(number - float(value)) <= tolerance
    if isinstance(value, str):
        return guess.strip().lower() == value.lower()
    return None


def verdict(case: Case, transcript: Transcript, ctx: ScoreContext) -> Score:
    """The engine's verdict matches the key, and the reply states it, the answer and,
    for a wrong option, the misconception behind it."""
    problems: list[str] = []
    checked = False
    for turn in transcript.turns:
        for v in turn.verdicts:
            checked = True
            where = f"turn {turn.index} ({v.step_id}, guess {v.guess})"
            expected = _expected_correct(turn, v.step_id, v.guess, ctx.plan)
            if expected is not None and expected != v.correct:
                problems.append(f"{where}: verdict says {'right' if v.correct else 'wrong'}")
            head = turn.text[:200]
            says = (
                _SAYS_WRONG.search(head)
                if not v.correct
                else (_SAYS_RIGHT.search(head) if not _SAYS_WRONG.search(head) else None)
            )
            if v.answer != "unknown" and not says:
                problems.append(
                    f"{where}: the reply does not say it is {'right' if v.correct else 'wrong'}"
                )
            if v.answer != "unknown" and _flat(v.answer) not in _flat(turn.text):
                problems.append(f"{where}: the reply does not state the answer {v.answer!r}")
            if not v.correct and v.step_id != "free":
                step = ctx.plan.step(v.step_id)
                chosen = next((o for o in step.options if o.key == v.guess), None)
                if chosen is not None and chosen.misconception:
                    head_words = _flat(chosen.misconception)[:60]
                    if head_words not in _flat(turn.text):
                        problems.append(f"{where}: the misconception is not addressed")
    return _result("verdict", problems, applicable=checked)


# ------------------------------------------------------------------ length


def length(case: Case, transcript: Transcript, ctx: ScoreContext) -> Score:
    """Replies stay within the per-phase word bounds (suite.yaml `length`)."""
    problems: list[str] = []
    for turn in transcript.turns:
        if not turn.text:
            continue
        phase = "start" if turn.action == "start" else (turn.phase or "free")
        low, high = ctx.length.get(phase, (1, 600))
        words = _words(turn.text)
        if words < low or words > high:
            problems.append(f"turn {turn.index} ({phase}) has {words} words, bounds {low}-{high}")
    return _result("length", problems, applicable=any(t.text for t in transcript.turns))


# ------------------------------------------------------------------ the case's own checks


def _turn_problems(turn: TurnRecord, expect: Expect) -> list[str]:
    out: list[str] = []
    text, flat = turn.text, _flat(turn.text)
    at = f"turn {turn.index}"
    if expect.reveal is not None and turn.revealed != expect.reveal:
        out.append(f"{at}: {'no reveal' if expect.reveal else 'revealed'}")
    if expect.verdict is not None:
        got = [("right" if v.correct else "wrong") for v in turn.verdicts]
        if expect.verdict not in got:
            out.append(f"{at}: expected verdict {expect.verdict}, got {got or 'none'}")
    if expect.misconception is not None:
        stated = False
        for v in turn.verdicts:
            if v.misconception and _flat(v.misconception)[:60] in flat:
                stated = True
        if stated != expect.misconception:
            out.append(f"{at}: misconception {'missing' if expect.misconception else 'stated'}")
    if expect.answer is not None:
        value = calculate_field(expect.answer.tool, expect.answer.arguments, expect.answer.field)
        shown = (
            normalise(float(value))
            if isinstance(value, int | float) and not isinstance(value, bool)
            else str(value)
        )
        answers = [v.answer for v in turn.verdicts]
        exact = re.compile(rf"(?<![\w.]){re.escape(shown)}(?![\w.])", re.I)
        if not any(exact.search(a) for a in answers):
            out.append(f"{at}: expected the answer {shown}, revealed {answers or 'nothing'}")
    if expect.asks_prediction is not None and bool(turn.predictions) != expect.asks_prediction:
        out.append(f"{at}: prediction request {'missing' if expect.asks_prediction else 'sent'}")
    if expect.phase is not None and turn.phase != expect.phase:
        out.append(f"{at}: phase {turn.phase}, expected {expect.phase}")
    if expect.graded is not None:
        passed = re.search(r"\*\*(Well recalled|Strong explanation)\.\*\*", text) is not None
        partial = "**Partly there.**" in text
        if (expect.graded == "pass" and not passed) or (expect.graded == "partial" and not partial):
            out.append(f"{at}: expected the answer graded {expect.graded}")
    for needle in expect.contains:
        if needle.lower() not in text.lower():
            out.append(f"{at}: missing {needle!r}")
    for needle in expect.not_contains:
        if needle.lower() in text.lower():
            out.append(f"{at}: contains {needle!r}")
    for pattern in expect.regex:
        if not re.search(pattern, text, re.I | re.S):
            out.append(f"{at}: no match for /{pattern}/")
    for pattern in expect.not_regex:
        if re.search(pattern, text, re.I | re.S):
            out.append(f"{at}: matches /{pattern}/")
    words = _words(text)
    if expect.min_words is not None and words < expect.min_words:
        out.append(f"{at}: {words} words < {expect.min_words}")
    if expect.max_words is not None and words > expect.max_words:
        out.append(f"{at}: {words} words > {expect.max_words}")
    return out


def case_checks(case: Case, transcript: Transcript, ctx: ScoreContext) -> Score:
    """The case's own expectations: per-turn `expect` blocks and the `final` state."""
    problems: list[str] = []
    applicable = case.final is not None or any(t.expect for t in case.turns)
    for i, turn in enumerate(case.turns):
        if turn.expect is None:
            continue
        index = expected_turn_index(case, transcript, i)
        if index is None:
            problems.append(f"case turn {i} never ran")
            continue
        problems += _turn_problems(transcript.turns[index], turn.expect)
    final = case.final
    if final is not None and transcript.final is not None:
        if final.phase is not None and transcript.final.phase != final.phase:
            problems.append(f"ended in phase {transcript.final.phase}, expected {final.phase}")
        if final.step is not None and transcript.final.step_id != final.step:
            problems.append(f"ended at {transcript.final.step_id}, expected {final.step}")
        for step_id, status in final.progress.items():
            got = transcript.progress.get(step_id)
            if got != status:
                problems.append(f"{step_id} is {got}, expected {status}")
    return _result("case_checks", problems, applicable=applicable)


def completed(case: Case, transcript: Transcript, ctx: ScoreContext) -> Score:
    """Every turn ran: no crash, no failed model call, no rejected commit."""
    problems: list[str] = []
    if transcript.error:
        problems.append(f"crashed: {transcript.error}")
    for turn in transcript.turns:
        if turn.failed:
            problems.append(f"turn {turn.index} failed: {turn.failed}")
        if turn.commit_rejected:
            problems.append(f"turn {turn.index} commit rejected: {turn.commit_rejected}")
    return _result("completed", problems)


def no_guard_cuts(case: Case, transcript: Transcript, ctx: ScoreContext) -> Score:
    """The model's own words survived the engine's guards in every turn. A cut is safe (the
    learner sees the deterministic template) but shows a prompt or model that wanders."""
    cut = [f"turn {t.index} ({t.phase})" for t in transcript.turns if t.replaced]
    return _result("no_guard_cuts", [f"a guard cut the model's note in {c}" for c in cut])


SCORERS: dict[str, Scorer] = {
    "reveal_gate": reveal_gate,
    "asks_prediction": asks_prediction,
    "grounded_numbers": grounded_numbers,
    "citations": citations,
    "citation_markers": citation_markers,
    "verdict": verdict,
    "length": length,
    "case_checks": case_checks,
    "completed": completed,
    "no_guard_cuts": no_guard_cuts,
}


def score_all(case: Case, transcript: Transcript, ctx: ScoreContext) -> list[Score]:
    return [scorer(case, transcript, ctx) for scorer in SCORERS.values()]
