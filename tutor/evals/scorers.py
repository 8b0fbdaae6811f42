"""Deterministic scorers: exact, cheap checks on a transcript.

Each scorer is a small function `(case, transcript, context) -> Score`. `passed` is None
when the check does not apply to the case (no reveal happened, say), so pass rates count
only cases the check could judge. Scorers read the engine's typed events and the
per-phase segments the solver records; none of them matches the engine's Markdown.

Over 400 lines: one small scorer function per check, each on the typed events.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pydantic import BaseModel

from tutor.engine.plan import LessonPlan, Step
from tutor.evals.cases import Case, Expect
from tutor.evals.oracle import all_numbers, find_leaks, mask_shown, spelled_numbers
from tutor.evals.solver import expected_turn_index
from tutor.evals.transcript import PendingKey, Segment, Transcript, TurnRecord, calculate_field

_MARKER = re.compile(r"\[\d+\]")
_PROFILE_NAME = re.compile(r"(?<![\w.])\d+g\.\d+gb(?:\+me)?(?![\w.])", re.I)

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


def _revealed_at(turn: TurnRecord, key_id: str) -> int | None:
    """Index of the segment in which the turn reveals `key_id`, if it does."""
    if key_id not in {v.step_id for v in turn.verdicts}:
        return None
    for i, segment in enumerate(turn.segments):
        if segment.phase == "reveal" and segment.step_id == key_id:
            return i
    return 0


def _asked_at(turn: TurnRecord, key_id: str) -> int:
    """Index of the last segment in which the turn asks `key_id` anew (0: the whole turn)."""
    found = 0
    for i, segment in enumerate(turn.segments):
        if segment.phase == "ask" and segment.step_id == key_id:
            found = i
    return found


def guarded_text(turn: TurnRecord) -> list[tuple[PendingKey, str]]:
    """Each answer that was pending while the learner read part of this turn, with that part:
    everything before its reveal, or everything from where a new question is asked."""
    out: list[tuple[PendingKey, str]] = []
    before = {k.id for k in turn.before.pending}
    segments: list[Segment] = turn.segments
    for key in turn.before.pending:
        end = _revealed_at(turn, key.id)
        out.append((key, "\n\n".join(s.text for s in segments[:end])))
    for key in turn.after.pending:
        if key.id in before and _revealed_at(turn, key.id) is None:
            continue
        start = _asked_at(turn, key.id)
        out.append((key, "\n\n".join(s.text for s in segments[start:])))
    return [(k, t) for k, t in out if t.strip()]


def reveal_gate(case: Case, transcript: Transcript, ctx: ScoreContext) -> Score:
    """No reply gives a pending answer away before the learner committed a guess to it,
    judged by the independent oracle (tutor.evals.oracle), not by the engine's guard."""
    problems: list[str] = []
    checked = False
    for turn in transcript.turns:
        for key, text in guarded_text(turn):
            checked = True
            found = find_leaks(text, key)
            if found:
                problems.append(f"turn {turn.index} {found[0]} for {key.id} before a guess")
    return _result("reveal_gate", problems, applicable=checked)


def _guard_says(text: str, key: PendingKey) -> str | None:
    """The engine's own leak check on the same text, to show where the two disagree.
    Both see the text with the question and the option listing blanked, so they judge
    the same words; the guard then applies its own rules (its "already shown" subtraction
    included)."""
    from tutor.engine.guards import AnswerKey, leaks

    answer_key = AnswerKey(
        option_key=key.option_key,
        option_text=key.option_text,
        number=key.number,
        phrases=tuple(key.phrases),
        shown_text=key.shown_text,
    )
    return leaks(mask_shown(text, key), answer_key)


def leak_agreement(case: Case, transcript: Transcript, ctx: ScoreContext) -> Score:
    """The oracle and the engine's guard agree on every guarded reply. A disagreement is
    not a leak by itself; it is a reply a person should read (the report lists them)."""
    problems: list[str] = []
    checked = False
    for turn in transcript.turns:
        for key, text in guarded_text(turn):
            checked = True
            oracle = find_leaks(text, key)
            guard = _guard_says(text, key)
            if bool(oracle) != bool(guard):
                said = f"oracle: {oracle[0]}" if oracle else f"guard: {guard}"
                problems.append(f"turn {turn.index} ({key.id}) only the {said}")
    return _result("leak_agreement", problems, applicable=checked)


# ------------------------------------------------------------------ prediction requests


def asks_prediction(case: Case, transcript: Transcript, ctx: ScoreContext) -> Score:
    """Whenever a guess is pending after a turn, the turn asked for it: a prediction event
    (the faces draw the options from it), and the question it names shown in the reply."""
    problems: list[str] = []
    checked = False
    for turn in transcript.turns:
        if turn.failed or turn.commit_rejected or not turn.after.awaiting:
            continue
        checked = True
        if not turn.predictions:
            problems.append(f"turn {turn.index}: no prediction request event")
            continue
        request = turn.predictions[-1]
        shown = _flat(turn.text)
        if _flat(request.question) not in shown:
            problems.append(f"turn {turn.index}: the question asked is not in the reply")
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
    texts = [plan.title, plan.intro, plan.win, plan.closing]
    texts += [t.learner for t in transcript.turns[: turn.index + 1]]
    for citation in [*turn.citations, *turn.retrieved]:
        texts += [citation.text, citation.label, citation.url or ""]
    for record in turn.tool_calls:
        texts += [json.dumps(record.result), json.dumps(record.arguments), record.diagram or ""]
    # The tutor's reading of the message states the calculator inputs it assumed.
    for reading in turn.readings:
        texts += [json.dumps(reading.arguments, default=str)]
        texts += [f"{a.value} {a.words}" for a in (*reading.stated, *reading.assumed)]
    # A grade's corrections come from the plan's claims, each naming its source document.
    for grade in turn.grades:
        texts += [json.dumps(c.model_dump(), default=str) for c in grade.contradictions]
        texts += [p.description for p in grade.points]
    for key in (*turn.before.pending, *turn.after.pending):
        texts.append(key.shown_text)
    step_ids = {turn.before.step_id, turn.after.step_id, turn.step_id}
    step_ids |= {v.step_id for v in turn.verdicts} | {p.step_id for p in turn.phases}
    for step in plan.steps:
        if step.id in step_ids:
            texts += _step_texts(step)
    return texts


@lru_cache(maxsize=8192)
def _numbers(text: str) -> frozenset[float]:
    return frozenset(all_numbers(text))


@lru_cache(maxsize=1)
def catalogue_profiles() -> frozenset[str]:
    """Every MIG profile name the calculator's catalogue holds, lower-cased."""
    from tutor.mig.tools import gpu_list, profile_list

    names: set[str] = set()
    for gpu in gpu_list().gpus:
        names |= {p.name.lower() for p in profile_list(gpu.id).profiles}
    return frozenset(names)


def _without_profile_names(text: str) -> str:
    """A real profile's name (2g.20gb) is a catalogue fact, not a number the reply claims."""
    known = catalogue_profiles()
    return _PROFILE_NAME.sub(lambda m: " " if m.group(0).lower() in known else m.group(0), text)


def _show(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def ungrounded(reply: str, sources: list[str]) -> set[str]:
    """Numbers the reply states that none of the sources holds (memoised per source)."""
    allowed: set[float] = set()
    for text in sources:
        allowed |= _numbers(text)
    extra = _numbers(_without_profile_names(reply)) - allowed
    return {_show(v) for v in extra}


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
    """Every reveal cites at least one source (a passage, or the calculator for numbers),
    and the reply names each source it cites."""
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
        unnamed = [c.title for c in turn.citations if _flat(c.title) not in _flat(turn.text)]
        if unnamed:
            problems.append(f"turn {turn.index}: cites {unnamed[0]!r} without naming it")
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
        numbers = spelled_numbers(guess) or sorted(all_numbers(guess))
        return bool(numbers) and abs(numbers[0] - float(value)) <= tolerance
    if isinstance(value, str):
        return guess.strip().lower() == value.lower()
    return None


def verdict(case: Case, transcript: Transcript, ctx: ScoreContext) -> Score:
    """The engine's verdict event matches the key computed here, and the reply states the
    answer and, for a wrong option, the misconception behind it (both from the plan)."""
    problems: list[str] = []
    checked = False
    for turn in transcript.turns:
        for v in turn.verdicts:
            checked = True
            where = f"turn {turn.index} ({v.step_id}, guess {v.guess})"
            expected = _expected_correct(turn, v.step_id, v.guess, ctx.plan)
            if expected is not None and expected != v.correct:
                problems.append(f"{where}: verdict says {'right' if v.correct else 'wrong'}")
            if v.answer != "unknown" and _flat(v.answer) not in _flat(turn.text):
                problems.append(f"{where}: the reply does not state the answer {v.answer!r}")
            if not v.correct and v.step_id != "free":
                step = ctx.plan.step(v.step_id)
                chosen = next((o for o in step.options if o.key == v.guess), None)
                if chosen is not None and chosen.misconception:
                    if v.misconception != chosen.misconception:
                        problems.append(f"{where}: the verdict names another misconception")
                    elif _flat(chosen.misconception)[:60] not in _flat(turn.text):
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


def _answer_shown(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _show(float(value))
    return str(value)


def _grade_of(turn: TurnRecord) -> str:
    grades = turn.grades
    if not grades:
        return "none"
    verdict = grades[-1].verdict
    return {"right": "pass", "partly": "partial"}.get(verdict, verdict)


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
        stated = any(v.misconception and _flat(v.misconception)[:60] in flat for v in turn.verdicts)
        if stated != expect.misconception:
            out.append(f"{at}: misconception {'missing' if expect.misconception else 'stated'}")
    if expect.answer is not None:
        value = calculate_field(expect.answer.tool, expect.answer.arguments, expect.answer.field)
        shown = _answer_shown(value)
        answers = [v.answer for v in turn.verdicts]
        exact = re.compile(rf"(?<![\w.]){re.escape(shown)}(?![\w.])", re.I)
        if not any(exact.search(a) for a in answers):
            out.append(f"{at}: expected the answer {shown}, revealed {answers or 'nothing'}")
    if expect.answer_known is not None:
        # The engine's verdict carries "unknown" when the calculator has no verified value.
        known = [v.answer != "unknown" for v in turn.verdicts]
        if expect.answer_known not in known:
            out.append(f"{at}: expected {'an' if expect.answer_known else 'no'} answer, got "
                       f"{[v.answer for v in turn.verdicts] or 'no reveal'}")  # fmt: skip
    if expect.asks_prediction is not None and bool(turn.predictions) != expect.asks_prediction:
        out.append(f"{at}: prediction request {'missing' if expect.asks_prediction else 'sent'}")
    if expect.asks_for is not None:
        asked = [p.step_id for p in turn.predictions]
        if expect.asks_for not in asked:
            out.append(f"{at}: expected a guess asked for {expect.asks_for}, asked {asked}")
    if expect.cites is not None and bool(turn.citations) != expect.cites:
        out.append(f"{at}: {'no source cited' if expect.cites else 'cites a source'}")
    if expect.phase is not None and turn.phase != expect.phase:
        out.append(f"{at}: phase {turn.phase}, expected {expect.phase}")
    if expect.graded is not None:
        grade = _grade_of(turn)
        if grade != expect.graded:
            out.append(f"{at}: expected the answer graded {expect.graded}, got {grade}")
    if expect.reading is not None:
        out += _reading_problems(turn, expect, at)
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


def _reading_problems(turn: TurnRecord, expect: Expect, at: str) -> list[str]:
    want = expect.reading
    assert want is not None
    readings = turn.readings
    if not readings:
        return [f"{at}: no reading event"]
    got = readings[-1]
    out = []
    if want.kind is not None and got.kind != want.kind:
        out.append(f"{at}: read as {got.kind}, expected {want.kind}")
    if want.tool is not None and got.tool != want.tool:
        out.append(f"{at}: read as tool {got.tool}, expected {want.tool}")
    if want.guess is not None and got.guess != want.guess:
        out.append(f"{at}: read the guess {got.guess}, expected {want.guess}")
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
    """Every turn ran: no crash, no case error, no failed model call, no rejected commit."""
    problems: list[str] = []
    if transcript.error:
        kind = "case error" if transcript.error_kind == "case" else "crashed"
        problems.append(f"{kind}: {transcript.error.removeprefix('case error: ')}")
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
    "completed": completed,
    "reveal_gate": reveal_gate,
    "leak_agreement": leak_agreement,
    "asks_prediction": asks_prediction,
    "grounded_numbers": grounded_numbers,
    "citations": citations,
    "citation_markers": citation_markers,
    "verdict": verdict,
    "length": length,
    "case_checks": case_checks,
    "no_guard_cuts": no_guard_cuts,
}


def score_all(case: Case, transcript: Transcript, ctx: ScoreContext) -> list[Score]:
    """Every scorer on the transcript. A case that did not run to the end can fail a check
    but never pass one: what it did not reach was not checked."""
    unfinished = bool(transcript.error) or transcript.provider_failed
    scores = []
    for name, scorer in SCORERS.items():
        score = scorer(case, transcript, ctx)
        if unfinished and name != "completed" and score.passed is True:
            score = Score(name=name, passed=None, detail="not applicable: the case did not finish")
        scores.append(score)
    return scores
