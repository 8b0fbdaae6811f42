"""The reading suite: learner questions labelled with the calculator call they mean.

`evals/reading/*.yaml` holds the cases and `evals/reading/suite.yaml` the goals. A label
is a tool call (or `clarify`, or `none` for "not a calculator question"), never an answer.
The scorer compares the reader's call with the label after both have been through the
tool's argument model, so defaults are filled in and names are the catalogue's own.

Over 400 lines: the case models, their loader's error messages and the scorer's call
canonicalisation.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
)

from tutor.datafile import describe_location, read_data
from tutor.mig.catalogue import MigError, find_gpu, find_model, find_profile
from tutor.mig.tools import TOOLS
from tutor.reading.types import Context, Reading

GOALS_FILE = "suite.yaml"

# The operations a label may name: tool -> the result fields it may ask for.
OPERATIONS: dict[str, tuple[str, ...]] = {
    "mig_capacity": ("count",),
    "mig_check": ("valid",),
    "mig_fit": ("profile", "fits", "max_sequences"),
    "mig_timeslice": ("count", "resource"),
    "mig_resource": ("resource",),
    "mig_profiles": ("max_instances", "profiles"),
    "mig_enumerate": ("layouts",),
    "mig_pack": ("gpus_needed",),
}
WORD_LABELS = ("clarify", "none")
# Arguments whose order carries no meaning: compared as multisets.
UNORDERED = ("profiles", "existing", "pinned")


class ReadingSuiteError(ValueError):
    """A reading-suite file is missing or invalid; the message is one line."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExpectedCall(_Strict):
    tool: str
    field: str
    arguments: dict[str, Any] = Field(default_factory=dict)


def _expect_kind(value: Any) -> str:
    return "word" if isinstance(value, str) else "call"


Expect = Annotated[
    Annotated[Literal["clarify", "none"], Tag("word")] | Annotated[ExpectedCall, Tag("call")],
    Discriminator(_expect_kind),
]


class ReadingCase(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=40)
    text: str = Field(min_length=1, max_length=2000)
    previous: str | None = Field(
        default=None,
        min_length=1,
        max_length=2000,
        description="the message this one corrects, or whose question back it answers",
    )
    expect: Expect
    note: str = Field(default="", description="why the label is what it is, where not obvious")

    @property
    def operation(self) -> str:
        if isinstance(self.expect, str):
            return self.expect
        return f"{self.expect.tool}.{self.expect.field}"


class CaseFile(_Strict):
    cases: list[ReadingCase] = Field(min_length=1)


class Goals(_Strict):
    exact_match: float = Field(0.98, ge=0, le=1, description="share of cases read exactly")
    silent_misreads: int = Field(0, ge=0, description="most silent misreads allowed")


class GoalsFile(_Strict):
    goals: Goals = Field(default_factory=lambda: Goals())


@dataclass(frozen=True)
class SuiteCase:
    case: ReadingCase
    file: Path


@dataclass(frozen=True)
class Suite:
    goals: Goals
    cases: list[SuiteCase]


# ---- loading ----------------------------------------------------------------------------


def _shape_message(path: Path, raw: Any, exc: ValidationError) -> str:
    err = exc.errors()[0]
    # The discriminator's tags ("word", "call") are not fields the author wrote.
    loc = tuple(p for p in err["loc"] if p not in ("word", "call"))
    msg = str(err["msg"]).removeprefix("Value error, ").splitlines()[0]
    if err["type"] == "literal_error" and loc and loc[-1] == "expect":
        msg = "write clarify, none, or a call {tool, field, arguments}"
    return f"{path}: field {describe_location(raw, loc)}: {msg}"


def _name_problem(kind: str, written: str, canonical: str) -> str | None:
    if written == canonical:
        return None
    return f"{kind} {written!r} is not the catalogue's spelling; write {canonical!r}"


def _names_problem(tool: str, args: dict[str, Any]) -> tuple[str, str] | None:
    """Labels spell GPUs, profiles and models exactly as the catalogue does."""
    gpu_name = args.get("gpu")
    if isinstance(gpu_name, str):
        try:
            gpu = find_gpu(gpu_name)
        except MigError as exc:
            return "gpu", str(exc)
        problem = _name_problem("GPU", gpu_name, gpu.id)
        if problem:
            return "gpu", problem
        profile_names: list[tuple[str, str]] = []
        if isinstance(args.get("profile"), str):
            profile_names.append(("profile", args["profile"]))
        for key in ("profiles", "existing"):
            for i, name in enumerate(args.get(key) or []):
                profile_names.append((f"{key}[{i}]", str(name)))
        for i, pin in enumerate(args.get("pinned") or []):
            if isinstance(pin, dict) and "profile" in pin:
                profile_names.append((f"pinned[{i}].profile", str(pin["profile"])))
        for where, name in profile_names:
            try:
                canonical = find_profile(gpu, name).name
            except MigError as exc:
                return where, str(exc)
            problem = _name_problem("profile", name, canonical)
            if problem:
                return where, problem
    model_name = args.get("model")
    if isinstance(model_name, str):
        try:
            canonical = find_model(model_name)[0]
        except MigError as exc:
            return "model", str(exc)
        problem = _name_problem("model", model_name, canonical)
        if problem:
            return "model", problem
    if tool == "mig_pack":
        for i, tenant in enumerate(args.get("tenants") or []):
            want = f"tenant-{i + 1}"
            if isinstance(tenant, dict) and tenant.get("name") != want:
                return f"tenants[{i}].name", f"tenants are named in the order stated; write {want}"
    return None


def label_problem(call: ExpectedCall) -> tuple[str, str] | None:
    """(where, what is wrong and how to fix it) for a label that is not a valid call."""
    if call.tool not in OPERATIONS:
        return "tool", f"unknown tool {call.tool!r}; use one of {', '.join(OPERATIONS)}"
    fields = OPERATIONS[call.tool]
    if call.field not in fields:
        return "field", f"{call.tool} answers {', '.join(fields)}, not {call.field!r}"
    try:
        TOOLS[call.tool].args_model.model_validate(call.arguments)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ").splitlines()[0]
        return ("arguments." + where if where else "arguments"), msg
    named = _names_problem(call.tool, call.arguments)
    if named:
        return "arguments." + named[0], named[1]
    if call.tool == "mig_fit" and call.field == "fits" and not call.arguments.get("profile"):
        return "arguments.profile", "a 'does it fit' label names the profile it asks about"
    return None


def load_case_file(path: Path) -> list[ReadingCase]:
    raw = read_data(path, ReadingSuiteError, "reading case file")
    try:
        parsed = CaseFile.model_validate(raw)
    except ValidationError as exc:
        raise ReadingSuiteError(_shape_message(path, raw, exc)) from exc
    for case in parsed.cases:
        if isinstance(case.expect, ExpectedCall):
            problem = label_problem(case.expect)
            if problem:
                where, msg = problem
                raise ReadingSuiteError(f"{path}: field cases[{case.id}].expect.{where}: {msg}")
    return parsed.cases


def load_goals(path: Path) -> Goals:
    raw = read_data(path, ReadingSuiteError, "reading suite goals file")
    try:
        return GoalsFile.model_validate(raw or {}).goals
    except ValidationError as exc:
        raise ReadingSuiteError(_shape_message(path, raw, exc)) from exc


def load_suite(folder: Path) -> Suite:
    """Every *.yaml in `folder` but the goals file, with ids and texts unique across files."""
    if not folder.is_dir():
        raise ReadingSuiteError(f"{folder}: reading suite folder not found")
    goals_path = folder / GOALS_FILE
    goals = load_goals(goals_path) if goals_path.exists() else Goals()
    files = sorted(p for p in folder.glob("*.yaml") if p.name != GOALS_FILE)
    if not files:
        raise ReadingSuiteError(f"{folder}: no case files (*.yaml) in the reading suite")
    cases: list[SuiteCase] = []
    seen_ids: dict[str, Path] = {}
    seen_texts: dict[tuple[str | None, str], str] = {}
    for path in files:
        for case in load_case_file(path):
            if case.id in seen_ids:
                raise ReadingSuiteError(
                    f"{path}: field cases[{case.id}].id: also used in {seen_ids[case.id]}; "
                    "give each case its own id"
                )
            key = (case.previous, case.text.strip().lower())
            if key in seen_texts:
                raise ReadingSuiteError(
                    f"{path}: field cases[{case.id}].text: the same question as case "
                    f"{seen_texts[key]}; drop one or vary it"
                )
            seen_ids[case.id] = path
            seen_texts[key] = case.id
            cases.append(SuiteCase(case=case, file=path))
    return Suite(goals=goals, cases=cases)


# ---- comparing calls --------------------------------------------------------------------


@dataclass(frozen=True)
class Canonical:
    """A call with every default filled in and every name as the catalogue spells it."""

    tool: str
    field: str
    arguments: dict[str, Any]
    error: str | None = None
    """Set when the arguments do not validate: the call could not run as read."""


def _canonical_profile(gpu: str | None, name: Any) -> Any:
    if not isinstance(name, str) or gpu is None:
        return name
    try:
        return find_profile(gpu, name).name
    except MigError:
        return name


def canonical(tool: str, field_name: str, arguments: dict[str, Any]) -> Canonical:
    spec = TOOLS.get(tool)
    if spec is None:
        return Canonical(tool, field_name, dict(arguments), error=f"unknown tool {tool!r}")
    try:
        args = spec.args_model.model_validate(arguments).model_dump(mode="json")
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "arguments"
        return Canonical(tool, field_name, dict(arguments), error=f"{where}: {err['msg']}")
    gpu: str | None = None
    if isinstance(args.get("gpu"), str):
        try:
            gpu = find_gpu(args["gpu"]).id
            args["gpu"] = gpu
        except MigError:
            gpu = None
    if "profile" in args:
        args["profile"] = _canonical_profile(gpu, args["profile"])
    for key in ("profiles", "existing"):
        if isinstance(args.get(key), list):
            args[key] = sorted(str(_canonical_profile(gpu, p)) for p in args[key])
    if isinstance(args.get("pinned"), list):
        pins = [
            {"profile": _canonical_profile(gpu, p["profile"]), "slot": p["slot"]}
            for p in args["pinned"]
        ]
        args["pinned"] = sorted(pins, key=lambda p: (str(p["profile"]), int(p["slot"])))
    if isinstance(args.get("model"), str):
        # An unknown model stays as read, so it differs from any label.
        with contextlib.suppress(MigError):
            args["model"] = find_model(args["model"])[0]
    return Canonical(tool, field_name, args)


def differing(expected: Canonical, got: Canonical) -> list[str]:
    """Names of the arguments (and 'tool'/'field') on which two calls differ."""
    out: list[str] = []
    if expected.tool != got.tool:
        out.append("tool")
    if expected.field != got.field:
        out.append("field")
    for key in sorted(set(expected.arguments) | set(got.arguments)):
        if expected.arguments.get(key) != got.arguments.get(key):
            out.append(key)
    return out


def _defaults(tool: str) -> dict[str, Any]:
    spec = TOOLS.get(tool)
    if spec is None:
        return {}
    out: dict[str, Any] = {}
    for name, info in spec.args_model.model_fields.items():
        if not info.is_required():
            default = info.get_default(call_default_factory=True)
            out[name] = (
                default.model_dump(mode="json") if isinstance(default, BaseModel) else default
            )
    return out


def describe(call: Canonical) -> str:
    """mig_fit.profile(gpu=H100-80GB, model=Qwen2.5-7B, weights_dtype=int4): defaults left out."""
    defaults = _defaults(call.tool)
    shown = [
        f"{k}={_show(v)}"
        for k, v in call.arguments.items()
        if not (k in defaults and defaults[k] == v)
    ]
    text = f"{call.tool}.{call.field}({', '.join(shown)})"
    return f"{text} [invalid: {call.error}]" if call.error else text


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, dict):
        if set(value) == {"profile", "slot"}:
            return f"{value['profile']}@{value['slot']}"
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items() if v is not None) + "}"
    return str(value)


def describe_reading(reading: Reading) -> str:
    if reading.kind == "calculator" and reading.call is not None:
        call = reading.call
        text = describe(canonical(call.tool, call.field, call.arguments))
        notes = [f"assumed {a.name}" for a in reading.assumed]
        notes += [f"unused {u!r}" for u in reading.unused]
        return text + (f" ({'; '.join(notes)})" if notes else "")
    if reading.kind == "clarify":
        return f"clarify: {reading.question}" if reading.question else "clarify"
    return f"none ({reading.kind})"


# ---- scoring ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    correct: bool
    silent: bool
    got: str


def _names_assumed(reading: Reading) -> set[str]:
    names: set[str] = set()
    for arg in reading.assumed:
        # "pinned[0].slot" or "tenants.1" assume part of the argument they belong to.
        names.add(re.split(r"[.\[]", arg.name, maxsplit=1)[0])
    return names


def score(expect: ExpectedCall | str, reading: Reading) -> Verdict:
    """Is the reading the labelled one, and if not, did it misread without saying so?

    A misread is silent when the reader made a calculator call that differs from the
    label while naming none of the differing arguments as assumed and leaving nothing in
    `unused`: the learner would see a confident wrong calculation.
    """
    got = describe_reading(reading)
    is_call = reading.kind == "calculator" and reading.call is not None
    noticed = bool(reading.assumed) or bool(reading.unused)
    if isinstance(expect, str):
        if expect == "clarify":
            correct = reading.kind == "clarify"
        else:
            correct = reading.kind not in ("calculator", "clarify")
        return Verdict(correct=correct, silent=is_call and not noticed, got=got)
    if not is_call:
        return Verdict(correct=False, silent=False, got=got)
    assert reading.call is not None
    want = canonical(expect.tool, expect.field, expect.arguments)
    have = canonical(reading.call.tool, reading.call.field, reading.call.arguments)
    diff = differing(want, have)
    if not diff and have.error is None:
        return Verdict(correct=True, silent=False, got=got)
    flagged = bool(set(diff) & _names_assumed(reading)) or bool(reading.unused)
    return Verdict(correct=False, silent=not flagged, got=got)


@dataclass
class CaseResult:
    id: str
    file: str
    operation: str
    text: str
    previous: str | None
    expected: str
    got: str
    correct: bool
    silent: bool
    error: str | None = None


@dataclass
class OperationScore:
    cases: int = 0
    correct: int = 0

    @property
    def accuracy(self) -> float:
        return self.correct / self.cases if self.cases else 0.0


@dataclass
class Report:
    goals: Goals
    results: list[CaseResult]
    operations: dict[str, OperationScore] = field(default_factory=dict)

    @property
    def cases(self) -> int:
        return len(self.results)

    @property
    def correct(self) -> int:
        return sum(r.correct for r in self.results)

    @property
    def exact_match(self) -> float:
        return self.correct / self.cases if self.cases else 0.0

    @property
    def silent_misreads(self) -> int:
        return sum(r.silent for r in self.results)

    @property
    def errors(self) -> int:
        return sum(r.error is not None for r in self.results)

    @property
    def corrections(self) -> OperationScore:
        rows = [r for r in self.results if r.previous is not None]
        return OperationScore(cases=len(rows), correct=sum(r.correct for r in rows))

    @property
    def failures(self) -> list[CaseResult]:
        return [r for r in self.results if not r.correct]

    @property
    def passed(self) -> bool:
        return (
            self.exact_match >= self.goals.exact_match
            and self.silent_misreads <= self.goals.silent_misreads
            and self.errors == 0
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "correct": self.correct,
            "exact_match": round(self.exact_match, 4),
            "silent_misreads": self.silent_misreads,
            "errors": self.errors,
            "goals": self.goals.model_dump(),
            "passed": self.passed,
            "operations": {
                name: {"cases": s.cases, "correct": s.correct, "accuracy": round(s.accuracy, 4)}
                for name, s in self.operations.items()
            },
            "corrections": {
                "cases": self.corrections.cases,
                "correct": self.corrections.correct,
            },
            "failures": [
                {
                    "id": r.id,
                    "file": r.file,
                    "operation": r.operation,
                    "previous": r.previous,
                    "text": r.text,
                    "expected": r.expected,
                    "got": r.got,
                    "silent": r.silent,
                    "error": r.error,
                }
                for r in self.failures
            ],
        }


Reader = Callable[[str, Context], Reading]


def follow_up(first: Reading) -> Context:
    """The context a follow-up is read in, as the engine keeps it: the call it may amend,
    or the question asked back that it may answer."""
    asked = (first.clarified or None) if first.kind == "clarify" else None
    return Context(previous=first.call, previous_arguments=first.arguments, clarifying=asked)


def read_case(read: Reader, case: ReadingCase) -> Reading:
    """A follow-up is read after its previous message, with that reading as context."""
    if case.previous is None:
        return read(case.text, Context())
    return read(case.text, follow_up(read(case.previous, Context())))


def expected_text(expect: ExpectedCall | str) -> str:
    if isinstance(expect, str):
        return expect
    return describe(canonical(expect.tool, expect.field, expect.arguments))


def run_suite(suite: Suite, read: Reader) -> Report:
    report = Report(goals=suite.goals, results=[])
    order = [f"{t}.{f}" for t, fs in OPERATIONS.items() for f in fs] + list(WORD_LABELS)
    for name in order:
        report.operations[name] = OperationScore()
    for item in suite.cases:
        case = item.case
        error: str | None = None
        try:
            verdict = score(case.expect, read_case(read, case))
        except Exception as exc:  # a reader crash is a failed case, reported with its cause
            error = f"{type(exc).__name__}: {exc}"
            verdict = Verdict(correct=False, silent=False, got=f"error: {error}")
        op = report.operations[case.operation]
        op.cases += 1
        op.correct += verdict.correct
        report.results.append(
            CaseResult(
                id=case.id,
                file=item.file.name,
                operation=case.operation,
                text=case.text,
                previous=case.previous,
                expected=expected_text(case.expect),
                got=verdict.got,
                correct=verdict.correct,
                silent=verdict.silent,
                error=error,
            )
        )
    report.operations = {k: v for k, v in report.operations.items() if v.cases}
    return report


def timed_reads(suite: Suite, read: Reader) -> list[tuple[str, Context]]:
    """Every message the suite sends the reader, with the context it is read in."""
    calls: list[tuple[str, Context]] = []
    for item in suite.cases:
        case = item.case
        if case.previous is None:
            calls.append((case.text, Context()))
            continue
        first = read(case.previous, Context())
        calls.append((case.previous, Context()))
        calls.append((case.text, follow_up(first)))
    return calls


def time_reads(calls: list[tuple[str, Context]], read: Reader) -> list[float]:
    """Milliseconds per read, one figure per message."""
    out: list[float] = []
    for text, context in calls:
        start = time.perf_counter()
        read(text, context)
        out.append((time.perf_counter() - start) * 1000)
    return out
