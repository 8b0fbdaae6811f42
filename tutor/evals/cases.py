"""Eval cases as data: YAML files validated by pydantic.

A case file holds a `cases:` list (and optional `tags:` added to every case in it).
Each case names where the session starts, what the learner says, and what to expect.
Expected numbers are never typed: a case names a calculator call (`calc:`) and the
learner's messages may use `{answer}`, `{answer+1}` or `{answer-2}`, filled in from the
calculator at run time.
"""

from __future__ import annotations

import glob as globlib
import hashlib
import json
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tutor.engine.plan import LessonPlan

Phase = Literal["ask", "reveal", "recall", "teach_back", "free", "done"]
StepStatus = Literal["right", "wrong", "done", "pending", "current"]
PERSONAS = ("confident-wrong", "answer-seeker", "careful")
_PLACEHOLDER = re.compile(r"\{answer(?:([+-])(\d+))?\}")
_START = re.compile(r"^(beginning|free|[\w-]+(?:/(ask|recall|teach_back))?)$")


class CaseError(Exception):
    """A case file is malformed; the one-line message names the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CalcRef(_Strict):
    """A calculator call whose result field is the expected answer."""

    tool: str
    arguments: dict[str, Any]
    field: str


class ReadingExpect(_Strict):
    """How the tutor must have read the learner's message (its `reading` event)."""

    kind: Literal["guess", "calculator", "answer", "command", "free", "clarify", "other"] | None
    tool: str | None = None
    guess: str | None = None


class Expect(_Strict):
    """What one tutor turn must show; every field is optional. Each is checked against
    the engine's typed events, so rewording a reply cannot change the result."""

    reveal: bool | None = Field(None, description="the turn reveals an answer (a verdict)")
    verdict: Literal["right", "wrong"] | None = None
    misconception: bool | None = Field(
        None, description="the reply states the chosen wrong option's misconception"
    )
    answer: CalcRef | None = Field(None, description="the revealed answer equals this result")
    answer_known: bool | None = Field(
        None, description="false: the reveal says the calculator has no verified answer"
    )
    asks_prediction: bool | None = None
    asks_for: str | None = Field(
        None, description="the turn asks for a guess on this step id ('free': the learner's own)"
    )
    cites: bool | None = Field(None, description="the turn cites at least one source")
    phase: Phase | None = Field(None, description="the phase the turn reports")
    graded: Literal["pass", "partial", "contradicts", "cant_tell", "none"] | None = Field(
        None, description="recall/teach-back grade (its graded event); none: graded nothing"
    )
    reading: ReadingExpect | None = None
    contains: list[str] = Field(default_factory=list)
    not_contains: list[str] = Field(default_factory=list)
    regex: list[str] = Field(default_factory=list)
    not_regex: list[str] = Field(default_factory=list)
    min_words: int | None = Field(None, ge=0)
    max_words: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _patterns_compile(self) -> Expect:
        for pattern in (*self.regex, *self.not_regex):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad regex {pattern!r}: {exc}") from exc
        return self


class Turn(_Strict):
    """One learner action: `say` sends a message, `commit` commits a guess and reveals."""

    say: str | None = None
    commit: str | None = None
    expect: Expect | None = None

    @model_validator(mode="after")
    def _one_action(self) -> Turn:
        if (self.say is None) == (self.commit is None):
            raise ValueError("a turn needs exactly one of 'say' or 'commit'")
        return self

    @property
    def text(self) -> str:
        return self.say if self.say is not None else self.commit or ""


class Final(_Strict):
    """The state the session must end in (for whole-lesson and persona cases)."""

    phase: Phase | None = None
    step: str | None = None
    progress: dict[str, StepStatus] = Field(default_factory=dict)


class Case(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    start: str = Field(
        "beginning",
        description="'beginning' (the lesson's opening), 'free' (no step pending), "
        "'<step-id>' or '<step-id>/<phase>'",
    )
    calc: CalcRef | None = Field(None, description="fills {answer} in the learner's messages")
    turns: list[Turn] = Field(default_factory=list)
    persona: Literal["confident-wrong", "answer-seeker", "careful"] | None = None
    max_turns: int = Field(40, ge=1, le=200)
    final: Final | None = None
    judge: bool = Field(True, description="send a reply of this case to the rubric judge")
    judge_turn: int | None = Field(
        None, description="which turn the judge reads; default the first reveal, else the last"
    )

    @model_validator(mode="after")
    def _shape(self) -> Case:
        if not _START.match(self.start):
            raise ValueError(f"start {self.start!r} must be beginning, free, STEP or STEP/PHASE")
        if self.persona is None and not self.turns:
            raise ValueError("a case needs 'turns' or a 'persona'")
        if self.persona is not None and self.turns:
            raise ValueError("a persona case drives itself; drop 'turns'")
        uses_answer = any(_PLACEHOLDER.search(t.text) for t in self.turns)
        if uses_answer and self.calc is None and self.start in ("beginning", "free"):
            raise ValueError("{answer} needs 'calc' (or a numeric step as 'start')")
        return self

    @property
    def start_step(self) -> str | None:
        if self.start in ("beginning", "free"):
            return None
        return self.start.split("/")[0]

    @property
    def start_phase(self) -> Literal["ask", "recall", "teach_back"]:
        if "/" in self.start:
            phase = self.start.split("/")[1]
            if phase in ("recall", "teach_back"):
                return phase  # type: ignore[return-value]
        return "ask"

    def digest(self) -> str:
        """Content hash: a changed case misses the response cache."""
        raw = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


class CaseFile(_Strict):
    tags: list[str] = Field(default_factory=list)
    cases: list[Case] = Field(min_length=1)


def fill_answer(text: str, value: Any) -> str:
    """Replace {answer}, {answer+N}, {answer-N} with the calculator's value."""

    def sub(match: re.Match[str]) -> str:
        if value is None:
            raise ValueError("the calculator has no value for {answer} in this case")
        if match.group(1) is None:
            return str(value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"cannot add to a non-numeric answer {value!r}")
        delta = int(match.group(2)) * (1 if match.group(1) == "+" else -1)
        return str(value + delta)

    return _PLACEHOLDER.sub(sub, text)


def _where(loc: tuple[int | str, ...], raw: Any) -> str:
    """Turn pydantic's location into 'case <id> field <path>' for a one-line message."""
    if len(loc) >= 2 and loc[0] == "cases" and isinstance(loc[1], int):
        index = loc[1]
        case_id = None
        if isinstance(raw, dict) and isinstance(raw.get("cases"), list):
            items = raw["cases"]
            if index < len(items) and isinstance(items[index], dict):
                case_id = items[index].get("id")
        name = f"case '{case_id}'" if case_id else f"case #{index + 1}"
        rest = ".".join(str(p) for p in loc[2:]) or "(case)"
        return f"{name} field '{rest}'"
    return f"field '{'.'.join(str(p) for p in loc) or '(top level)'}'"


def load_case_file(path: Path, plan: LessonPlan | None = None) -> list[Case]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CaseError(f"{path}: case file not found") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        raise CaseError(f"{path}: not valid YAML{line}") from exc
    except UnicodeDecodeError as exc:
        raise CaseError(f"{path}: not UTF-8 text") from exc
    try:
        parsed = CaseFile.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        # Union and model-validator errors carry long prefixes; the first line is enough.
        msg = str(err["msg"]).removeprefix("Value error, ").splitlines()[0]
        raise CaseError(f"{path}: {_where(tuple(err['loc']), raw)}: {msg}") from exc
    cases = []
    for case in parsed.cases:
        case.tags = list(dict.fromkeys([*parsed.tags, *case.tags]))
        if plan is not None:
            _check_against_plan(path, case, plan)
        cases.append(case)
    return cases


def calc_refs(case: Case) -> list[tuple[str, CalcRef]]:
    refs = [("calc", case.calc)] if case.calc is not None else []
    for i, turn in enumerate(case.turns):
        if turn.expect is not None and turn.expect.answer is not None:
            refs.append((f"turns.{i}.expect.answer", turn.expect.answer))
    return refs


def _check_against_plan(path: Path, case: Case, plan: LessonPlan) -> None:
    from tutor.mig.tools import TOOLS

    for where, ref in calc_refs(case):
        if ref.tool not in TOOLS:
            raise CaseError(
                f"{path}: case '{case.id}' field '{where}.tool': unknown tool {ref.tool!r}; "
                f"known: {', '.join(TOOLS)}"
            )
    ids = [s.id for s in plan.steps]
    step_id = case.start_step
    if step_id is not None and step_id not in ids:
        raise CaseError(
            f"{path}: case '{case.id}' field 'start': no step {step_id!r} in the lesson plan "
            f"(steps: {', '.join(ids)})"
        )
    if case.final is not None:
        for key in case.final.progress:
            if key not in ids:
                raise CaseError(
                    f"{path}: case '{case.id}' field 'final.progress.{key}': no such step"
                )
    if step_id is not None and case.calc is None:
        step = plan.step(step_id)
        uses_answer = any(_PLACEHOLDER.search(t.text) for t in case.turns)
        if uses_answer and step.numeric is None:
            raise CaseError(
                f"{path}: case '{case.id}' field 'calc': {{answer}} needs a calculator key; "
                f"step {step_id} has none"
            )


def load_cases(pattern: str | Path, plan: LessonPlan | None = None) -> list[Case]:
    """Every case in the files matching `pattern`; ids must be unique across files."""
    paths = sorted(Path(p) for p in globlib.glob(str(pattern), recursive=True))
    if not paths:
        raise CaseError(f"{pattern}: no case files match")
    seen: dict[str, Path] = {}
    out: list[Case] = []
    for path in paths:
        for case in load_case_file(path, plan):
            if case.id in seen:
                raise CaseError(
                    f"{path}: case '{case.id}' field 'id': already used in {seen[case.id]}"
                )
            seen[case.id] = path
            out.append(case)
    return out
