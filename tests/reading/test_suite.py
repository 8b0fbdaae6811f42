"""The reading suite: its case files, the loader's errors, and the scorer's match/silent logic.

The scorer is tested on hand-built Readings, so these tests hold whatever the reader does.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tutor.reading.suite import (
    OPERATIONS,
    ExpectedCall,
    Goals,
    ReadingSuiteError,
    Suite,
    SuiteCase,
    load_case_file,
    load_suite,
    run_suite,
    score,
)
from tutor.reading.types import Argument, Context, Reading, ToolCall

SUITE_DIR = Path(__file__).resolve().parents[2] / "evals" / "reading"


# ---- the shipped suite ------------------------------------------------------------------


def test_the_shipped_suite_covers_every_operation() -> None:
    suite = load_suite(SUITE_DIR)
    cases = [c.case for c in suite.cases]
    assert len(cases) >= 330
    ops = Counter(c.operation for c in cases)
    for tool, fields in OPERATIONS.items():
        for field in fields:
            assert ops[f"{tool}.{field}"] >= 15, f"{tool}.{field} has {ops[f'{tool}.{field}']}"
    assert ops["clarify"] >= 30
    assert ops["none"] >= 40
    assert sum(c.previous is not None for c in cases) >= 25
    assert suite.goals.exact_match == pytest.approx(0.98)
    assert suite.goals.silent_misreads == 0


def test_every_answer_case_follows_a_question_asked_back() -> None:
    # The premise of answers.yaml: its `previous` message really gets a clarify, so each
    # case tests reading an answer, not a correction of a finished calculation.
    from tutor.reading import read

    answers = [c.case for c in load_suite(SUITE_DIR).cases if c.file.name == "answers.yaml"]
    assert len(answers) >= 40
    for case in answers:
        assert case.previous is not None
        first = read(case.previous, Context())
        assert first.kind == "clarify" and first.clarified == case.previous, case.id


def test_a_follow_up_to_a_clarify_is_read_as_its_answer() -> None:
    reader = FakeReader(
        {"how many 1g.10gb fit on an a100?": Reading(
            kind="clarify", question="Which GPU?", clarified="how many 1g.10gb fit on an a100?"
        )}
    )  # fmt: skip
    case = {"id": "a", "previous": "how many 1g.10gb fit on an a100?", "text": "80gb",
            "expect": "none"}  # fmt: skip
    run_suite(_suite(case), reader)
    context = reader.contexts[-1][1]
    assert context.clarifying == "how many 1g.10gb fit on an a100?" and context.previous is None


def test_the_issue_examples_are_in_the_suite_as_written() -> None:
    by_text = {c.case.text: c.case.expect for c in load_suite(SUITE_DIR).cases}
    examples: dict[str, dict[str, Any]] = {
        "Which H100 80GB profile holds Qwen2.5-7B in 4-bit?": {
            "tool": "mig_fit",
            "field": "profile",
            "arguments": {"gpu": "H100-80GB", "model": "Qwen2.5-7B", "weights_dtype": "int4"},
        },
        "Smallest H100-80GB profile for Llama-3.1-8B in bf16 with a 32k context window?": {
            "tool": "mig_fit",
            "field": "profile",
            "arguments": {
                "gpu": "H100-80GB",
                "model": "Llama-3.1-8B",
                "weights_dtype": "bf16",
                "context": 32768,
            },
        },
        "If a 3g.40gb is already at slot 4 on an H100 80GB, how many 2g.20gb can I add?": {
            "tool": "mig_capacity",
            "field": "count",
            "arguments": {
                "gpu": "H100-80GB",
                "profile": "2g.20gb",
                "pinned": [{"profile": "3g.40gb", "slot": 4}],
            },
        },
        "We have 4 A30 GPUs sliced 3 ways. How many GPUs does Kubernetes show?": {
            "tool": "mig_timeslice",
            "field": "count",
            "arguments": {"gpus": 4, "replicas": 3},
        },
    }
    for text, label in examples.items():
        assert by_text[text] == ExpectedCall.model_validate(label), text


def test_most_word_labels_look_numeric() -> None:
    # The word labels are only a test of the reader if they look like calculator questions.
    suite = load_suite(SUITE_DIR)
    digits = [c.case for c in suite.cases if c.case.expect in ("clarify", "none")]
    with_digit = [c for c in digits if any(ch.isdigit() for ch in c.text)]
    assert len(with_digit) >= len(digits) // 2


# ---- the loader's errors ----------------------------------------------------------------


def _write(folder: Path, body: str, name: str = "bad.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(body, encoding="utf-8")
    return path


def _case(expect: str, extra: str = "") -> str:
    return f"cases:\n  - id: a\n    text: 'a question'\n{extra}    expect: {expect}\n"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            _case("{tool: mig_magic, field: count}"),
            "field cases[a].expect.tool: unknown tool 'mig_magic'",
        ),
        (
            _case("{tool: mig_capacity, field: valid, arguments: {gpu: A30-24GB}}"),
            "field cases[a].expect.field: mig_capacity answers count, not 'valid'",
        ),
        (
            _case("{tool: mig_capacity, field: count, arguments: {profile: 1g.6gb}}"),
            "field cases[a].expect.arguments.gpu: Field required",
        ),
        (
            _case("{tool: mig_profiles, field: profiles, arguments: {gpu: H100 80GB}}"),
            "field cases[a].expect.arguments.gpu: GPU 'H100 80GB' is not the catalogue's "
            "spelling; write 'H100-80GB'",
        ),
        (
            _case("{tool: mig_profiles, field: profiles, arguments: {gpu: X9000}}"),
            "field cases[a].expect.arguments.gpu: unknown GPU 'X9000'",
        ),
        (
            _case(
                "{tool: mig_capacity, field: count, arguments: {gpu: H100-80GB, profile: 1g.12gb}}"
            ),
            "field cases[a].expect.arguments.profile: unknown profile '1g.12gb' for H100-80GB",
        ),
        (
            _case(
                "{tool: mig_capacity, field: count, arguments: {gpu: A100-80GB, profile: 1g10gb}}"
            ),
            "field cases[a].expect.arguments.profile: profile '1g10gb' is not the catalogue's "
            "spelling; write '1g.10gb'",
        ),
        (
            _case(
                "{tool: mig_check, field: valid, arguments: "
                "{gpu: A100-80GB, profiles: [3g.40gb, 2g.10gb]}}"
            ),
            "field cases[a].expect.arguments.profiles[1]: unknown profile '2g.10gb'",
        ),
        (
            _case(
                "{tool: mig_fit, field: profile, arguments: {gpu: A30-24GB, model: llama 3.1 8b}}"
            ),
            "field cases[a].expect.arguments.model: model 'llama 3.1 8b' is not the catalogue's "
            "spelling; write 'Llama-3.1-8B'",
        ),
        (
            _case("{tool: mig_fit, field: fits, arguments: {gpu: A30-24GB, model: Qwen3-8B}}"),
            "field cases[a].expect.arguments.profile: a 'does it fit' label names the profile",
        ),
        (
            _case(
                "{tool: mig_fit, field: profile, arguments: "
                "{gpu: A30-24GB, model: Qwen3-8B, context: 0}}"
            ),
            "field cases[a].expect.arguments.context: Input should be greater than or equal to 1",
        ),
        (
            _case(
                "{tool: mig_pack, field: gpus_needed, arguments: "
                "{gpu: A30-24GB, tenants: [{name: team-a, memory_gib: 5}]}}"
            ),
            "field cases[a].expect.arguments.tenants[0].name: tenants are named in the order "
            "stated; write tenant-1",
        ),
        (_case("maybe"), "field cases[a].expect: write clarify, none, or a call"),
        (
            _case("clarify", extra="    expected: none\n"),
            "field cases[a].expected: Extra inputs are not permitted",
        ),
        ("cases:\n  - id: a\n    expect: none\n", "field cases[a].text: Field required"),
        (
            "cases:\n  - id: Bad Id\n    text: x\n    expect: none\n",
            "field cases[Bad Id].id: String should match pattern",
        ),
        ("cases: []\n", "field cases: List should have at least 1 item"),
        ("cases:\n  - id: a\n    text: [unclosed\n", "not valid YAML at line"),
    ],
)
def test_the_loader_names_file_field_and_fix(tmp_path: Path, body: str, expected: str) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(ReadingSuiteError) as err:
        load_case_file(path)
    message = str(err.value)
    assert message.startswith(f"{path}: ")
    assert expected in message
    assert "\n" not in message


def test_a_good_file_loads_with_its_labels(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "cases:\n"
        "  - id: a\n    text: 'how many 1g.6gb on an a30'\n"
        "    expect: {tool: mig_capacity, field: count, "
        "arguments: {gpu: A30-24GB, profile: 1g.6gb}}\n"
        "  - id: b\n    text: 'why MIG?'\n    expect: none\n"
        "  - id: c\n    previous: 'how many 1g.6gb on an a30'\n    text: 'on a T4'\n"
        "    expect: clarify\n",
    )
    cases = load_case_file(path)
    assert [c.operation for c in cases] == ["mig_capacity.count", "none", "clarify"]
    assert cases[2].previous == "how many 1g.6gb on an a30"


def test_the_suite_rejects_an_id_used_in_two_files(tmp_path: Path) -> None:
    _write(tmp_path, "cases:\n  - id: a\n    text: one\n    expect: none\n", "one.yaml")
    two = _write(tmp_path, "cases:\n  - id: a\n    text: two\n    expect: none\n", "two.yaml")
    with pytest.raises(ReadingSuiteError, match=r"field cases\[a\]\.id: also used in .*one\.yaml"):
        load_suite(tmp_path)
    two.write_text("cases:\n  - id: b\n    text: ' ONE'\n    expect: none\n", encoding="utf-8")
    with pytest.raises(ReadingSuiteError, match="the same question as case a"):
        load_suite(tmp_path)


def test_the_suite_reads_goals_and_skips_the_goals_file_as_cases(tmp_path: Path) -> None:
    _write(tmp_path, "cases:\n  - id: a\n    text: one\n    expect: none\n", "one.yaml")
    _write(tmp_path, "goals:\n  exact_match: 0.5\n  silent_misreads: 3\n", "suite.yaml")
    suite = load_suite(tmp_path)
    assert [c.case.id for c in suite.cases] == ["a"]
    assert suite.goals == Goals(exact_match=0.5, silent_misreads=3)
    _write(tmp_path, "goals:\n  exact_match: 98\n", "suite.yaml")
    with pytest.raises(ReadingSuiteError, match=r"suite\.yaml: field goals\.exact_match: .*1"):
        load_suite(tmp_path)


def test_the_suite_needs_a_folder_with_case_files(tmp_path: Path) -> None:
    with pytest.raises(ReadingSuiteError, match="reading suite folder not found"):
        load_suite(tmp_path / "missing")
    with pytest.raises(ReadingSuiteError, match="no case files"):
        load_suite(tmp_path)


# ---- the scorer, on hand-built readings -------------------------------------------------


def _label(tool: str, field: str, **arguments: Any) -> ExpectedCall:
    return ExpectedCall(tool=tool, field=field, arguments=arguments)


def _call(
    tool: str,
    field: str,
    arguments: dict[str, Any],
    assumed: tuple[str, ...] = (),
    unused: tuple[str, ...] = (),
) -> Reading:
    args = [Argument(name=k, value=v, source="stated", words=str(v)) for k, v in arguments.items()]
    args += [Argument(name=n, value=None, source="assumed", words="default") for n in assumed]
    return Reading(
        kind="calculator",
        call=ToolCall(tool=tool, field=field, arguments=arguments),
        arguments=args,
        unused=list(unused),
    )


FIT = _label("mig_fit", "profile", gpu="H100-80GB", model="Llama-3.1-8B", context=32768)
FIT_ARGS = {"gpu": "H100-80GB", "model": "Llama-3.1-8B", "context": 32768}
CHECK = _label("mig_check", "valid", gpu="A100-80GB", profiles=["3g.40gb", "1g.10gb", "1g.10gb"])
PACK = _label(
    "mig_pack",
    "gpus_needed",
    gpu="A30-24GB",
    tenants=[{"name": "tenant-1", "memory_gib": 10}, {"name": "tenant-2", "memory_gib": 5}],
)


@pytest.mark.parametrize(
    ("expect", "reading", "correct", "silent"),
    [
        # defaults filled on both sides: an assumed default equals a label that omits it
        (
            FIT,
            _call("mig_fit", "profile", FIT_ARGS | {"batch": 1}, assumed=("batch",)),
            True,
            False,
        ),
        # the reader may spell names as the learner did; the catalogue resolves them
        (
            FIT,
            _call("mig_fit", "profile", FIT_ARGS | {"gpu": "h100 80gb", "model": "llama 3.1 8b"}),
            True,
            False,
        ),
        # profiles are a multiset: order does not matter, a missing copy does
        (
            CHECK,
            _call(
                "mig_check",
                "valid",
                {"gpu": "A100-80GB", "profiles": ["1g10gb", "3g.40gb", "1g.10gb"]},
            ),
            True,
            False,
        ),
        (
            CHECK,
            _call("mig_check", "valid", {"gpu": "A100-80GB", "profiles": ["3g.40gb", "1g.10gb"]}),
            False,
            True,
        ),
        # pinned instances: order does not matter either
        (
            _label(
                "mig_capacity",
                "count",
                gpu="H100-80GB",
                profile="2g.20gb",
                pinned=[{"profile": "3g.40gb", "slot": 4}, {"profile": "1g.10gb", "slot": 0}],
            ),
            _call(
                "mig_capacity",
                "count",
                {"gpu": "H100-80GB", "profile": "2g.20gb", "pinned": ["1g.10gb@0", "3g.40gb@4"]},
            ),
            True,
            False,
        ),
        # tenants keep their order (they are named tenant-1.. as stated)
        (
            PACK,
            _call(
                "mig_pack",
                "gpus_needed",
                {
                    "gpu": "A30-24GB",
                    "tenants": [
                        {"name": "tenant-1", "memory_gib": 5},
                        {"name": "tenant-2", "memory_gib": 10},
                    ],
                },
            ),
            False,
            True,
        ),
        # a wrong value the reader marked assumed is a miss, but not silent
        (
            FIT,
            _call("mig_fit", "profile", FIT_ARGS | {"context": 4096}, assumed=("context",)),
            False,
            False,
        ),
        # a wrong stated value with nothing flagged is silent
        (FIT, _call("mig_fit", "profile", FIT_ARGS | {"context": 4096}), False, True),
        # an assumption about some other argument does not excuse the wrong one
        (
            FIT,
            _call("mig_fit", "profile", FIT_ARGS | {"context": 4096}, assumed=("batch",)),
            False,
            True,
        ),
        # anything named back as not used is a notice
        (
            FIT,
            _call("mig_fit", "profile", FIT_ARGS | {"context": 4096}, unused=("32k",)),
            False,
            False,
        ),
        # a wrong answer field, every argument right: silent
        (
            FIT,
            _call("mig_fit", "fits", FIT_ARGS | {"profile": "3g.40gb"}, assumed=("batch",)),
            False,
            True,
        ),
        # a wrong tool with nothing flagged: silent
        (
            CHECK,
            _call("mig_capacity", "count", {"gpu": "A100-80GB", "profile": "3g.40gb"}),
            False,
            True,
        ),
        # asking back instead of calling is a miss, never silent
        (FIT, Reading(kind="clarify", question="Which GPU?"), False, False),
        (FIT, Reading(kind="free"), False, False),
        # clarify labels
        ("clarify", Reading(kind="clarify", question="Which GPU: H100 80GB or 94GB?"), True, False),
        ("clarify", Reading(kind="free"), False, False),
        ("clarify", _call("mig_profiles", "max_instances", {"gpu": "H100-80GB"}), False, True),
        (
            "clarify",
            _call("mig_profiles", "max_instances", {"gpu": "H100-80GB"}, assumed=("gpu",)),
            False,
            False,
        ),
        # none labels: any non-calculator, non-clarify reading is right
        ("none", Reading(kind="free"), True, False),
        ("none", Reading(kind="other"), True, False),
        ("none", Reading(kind="clarify", question="Which GPU?"), False, False),
        ("none", _call("mig_timeslice", "count", {"gpus": 1, "replicas": 4}), False, True),
        (
            "none",
            _call("mig_timeslice", "count", {"gpus": 1, "replicas": 4}, unused=("latency",)),
            False,
            False,
        ),
    ],
)
def test_score(expect: ExpectedCall | str, reading: Reading, correct: bool, silent: bool) -> None:
    verdict = score(expect, reading)
    assert (verdict.correct, verdict.silent) == (correct, silent), verdict.got


def test_a_nested_assumed_argument_flags_its_parent() -> None:
    label = _label(
        "mig_capacity",
        "count",
        gpu="H100-80GB",
        profile="2g.20gb",
        pinned=[{"profile": "3g.40gb", "slot": 4}],
    )
    reading = _call(
        "mig_capacity",
        "count",
        {"gpu": "H100-80GB", "profile": "2g.20gb", "pinned": ["3g.40gb@0"]},
        assumed=("pinned[0].slot",),
    )
    verdict = score(label, reading)
    assert not verdict.correct
    assert not verdict.silent


def test_a_call_that_does_not_validate_is_a_miss() -> None:
    verdict = score(FIT, _call("mig_fit", "profile", FIT_ARGS | {"context": 0}))
    assert not verdict.correct
    assert "invalid" in verdict.got


# ---- running a suite --------------------------------------------------------------------


class FakeReader:
    """Readings by text; a correction's reading depends on the context it is read in."""

    def __init__(self, readings: dict[str, Reading]) -> None:
        self.readings = readings
        self.contexts: list[tuple[str, Context]] = []

    def __call__(self, text: str, context: Context) -> Reading:
        self.contexts.append((text, context))
        if text == "crash":
            raise RuntimeError("reader bug")
        if text == "no, 32k context":
            assert context.previous is not None
            args = dict(context.previous.arguments) | {"context": 32768}
            return _call(context.previous.tool, context.previous.field, args)
        return self.readings.get(text, Reading(kind="free"))


def _suite(*cases: dict[str, Any], goals: Goals | None = None) -> Suite:
    from tutor.reading.suite import ReadingCase

    return Suite(
        goals=goals or Goals(),
        cases=[SuiteCase(ReadingCase.model_validate(c), Path("x.yaml")) for c in cases],
    )


FIT_CASE = {"id": "f", "text": "fit question", "expect": FIT.model_dump()}
CORRECTION = {
    "id": "c",
    "previous": "fit question at 4k",
    "text": "no, 32k context",
    "expect": FIT.model_dump(),
}
NONE_CASE = {"id": "n", "text": "why MIG?", "expect": "none"}


def test_run_suite_scores_per_operation_and_passes_the_previous_reading() -> None:
    fit_4k = FIT_ARGS | {"context": 4096}
    reader = FakeReader(
        {
            "fit question": _call("mig_fit", "profile", FIT_ARGS),
            "fit question at 4k": _call("mig_fit", "profile", fit_4k),
        }
    )
    report = run_suite(_suite(FIT_CASE, CORRECTION, NONE_CASE), reader)
    assert report.exact_match == 1.0
    assert report.passed
    assert {k: (v.cases, v.correct) for k, v in report.operations.items()} == {
        "mig_fit.profile": (2, 2),
        "none": (1, 1),
    }
    assert (report.corrections.cases, report.corrections.correct) == (1, 1)
    # the follow-up is read with the first reading's call as its context
    texts = [t for t, _ in reader.contexts]
    assert texts == ["fit question", "fit question at 4k", "no, 32k context", "why MIG?"]
    follow_up = reader.contexts[2][1]
    assert follow_up.previous is not None
    assert follow_up.previous.arguments["context"] == 4096


def test_run_suite_lists_failures_and_misses_its_goals() -> None:
    reader = FakeReader(
        {
            "fit question": _call("mig_fit", "profile", FIT_ARGS | {"context": 8192}),
            "why MIG?": _call("mig_profiles", "profiles", {"gpu": "A30-24GB"}),
        }
    )
    report = run_suite(_suite(FIT_CASE, NONE_CASE, goals=Goals(exact_match=0.0)), reader)
    assert report.exact_match == 0.0
    assert report.silent_misreads == 2
    assert not report.passed  # silent misreads over the goal, whatever the exact match
    data = report.to_dict()
    assert [f["id"] for f in data["failures"]] == ["f", "n"]
    first = data["failures"][0]
    assert first["expected"] == "mig_fit.profile(gpu=H100-80GB, model=Llama-3.1-8B, context=32768)"
    assert first["got"] == "mig_fit.profile(gpu=H100-80GB, model=Llama-3.1-8B, context=8192)"
    assert first["silent"] is True


def test_a_reader_crash_fails_its_case_and_the_run() -> None:
    crash = {"id": "x", "text": "crash", "expect": "none"}
    report = run_suite(_suite(crash, NONE_CASE, goals=Goals(exact_match=0.0)), FakeReader({}))
    assert report.errors == 1
    assert not report.passed
    assert report.failures[0].error == "RuntimeError: reader bug"


# ---- the command ------------------------------------------------------------------------


def _cli(monkeypatch: pytest.MonkeyPatch, folder: Path, reader: FakeReader, *extra: str) -> Any:
    import tutor.reading
    from tutor.cli.main import app

    monkeypatch.setattr(tutor.reading, "read", reader)
    return CliRunner().invoke(app, ["eval", "reading", "--folder", str(folder), *extra])


def _folder(tmp_path: Path) -> Path:
    _write(
        tmp_path,
        "cases:\n"
        "  - id: f\n    text: fit question\n"
        "    expect: {tool: mig_fit, field: profile, arguments: "
        "{gpu: H100-80GB, model: Llama-3.1-8B, context: 32768}}\n"
        "  - id: n\n    text: why MIG?\n    expect: none\n",
        "cases.yaml",
    )
    return tmp_path


def test_eval_reading_passes_and_prints_json(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    reader = FakeReader({"fit question": _call("mig_fit", "profile", FIT_ARGS)})
    result = _cli(monkeypatch, _folder(tmp_path), reader, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["exact_match"] == 1.0
    assert data["silent_misreads"] == 0
    assert data["operations"]["mig_fit.profile"] == {"cases": 1, "correct": 1, "accuracy": 1.0}


def test_eval_reading_lists_the_failing_case_and_exits_1(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    reader = FakeReader({"fit question": _call("mig_fit", "profile", FIT_ARGS | {"context": 8})})
    result = _cli(monkeypatch, _folder(tmp_path), reader)
    assert result.exit_code == 1
    out = result.stdout
    assert "mig_fit.profile" in out and "none" in out
    assert "exact match      1/2 = 50.0%   goal >= 98%   MISSED" in out
    assert "silent misreads  1   goal <= 0   MISSED" in out
    assert "f (cases.yaml)  SILENT" in out
    assert "text:     fit question" in out
    assert "expected: mig_fit.profile(gpu=H100-80GB, model=Llama-3.1-8B, context=32768)" in out
    assert "got:      mig_fit.profile(gpu=H100-80GB, model=Llama-3.1-8B, context=8)" in out


def test_eval_reading_names_a_bad_file_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _write(tmp_path, "cases:\n  - id: a\n    text: x\n    expect: maybe\n")
    result = _cli(monkeypatch, tmp_path, FakeReader({}))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "bad.yaml: field cases[a].expect: write clarify, none, or a call" in lines[0]
