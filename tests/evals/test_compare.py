"""Compare as a teacher uses it: a prompt edit shows up as a wording diff, or as a plain
notice that no case rendered the edited file."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fakes import ScriptedModel
from tutor.engine.plan import LessonPlan
from tutor.engine.prompts import PROMPT_VARIABLES, PromptSet, load_prompts
from tutor.evals.cache import ResponseCache
from tutor.evals.cases import load_cases
from tutor.evals.report import (
    EMBEDDED_WORDS,
    html_report,
    prompt_notices,
    word_diff,
    wording_changes,
)
from tutor.evals.runner import CaseResult, RunOptions, RunSummary, run_cases, summarise
from tutor.evals.suite import Suite
from tutor.settings import PROJECT_ROOT

PROMPT_CASES = PROJECT_ROOT / "evals" / "cases" / "prompts.yaml"


def echo_model(name: str, local: bool) -> ScriptedModel:
    """Words its note from the prompt it was given: an edited prompt changes the reply."""

    def reply(prompt: str) -> str:
        if "Think first." in prompt:
            return "Think first, then commit your guess."
        return "Take a moment and commit your guess."

    return ScriptedModel(reply, name=name, local=local)


async def rendered_by(model: ScriptedModel, plan: LessonPlan, prompts: PromptSet) -> set[str]:
    cases = load_cases(PROMPT_CASES, plan)
    opts = RunOptions(model_name=model.name, prompts=prompts, plan=plan)
    results = await run_cases(
        cases, opts, model_factory=lambda: model, cache=ResponseCache(Path("."), enabled=False)
    )
    assert all(r.score("completed").passed for r in results)  # type: ignore[union-attr]
    return {p for r in results for t in r.transcript.turns for p in t.prompts_rendered}


async def test_the_prompt_cases_render_every_prompt_file_for_a_hosted_model(
    plan: LessonPlan, prompts: PromptSet
) -> None:
    files = await rendered_by(echo_model("fake/hosted", local=False), plan, prompts)
    assert files == {f"{name}.md" for name in PROMPT_VARIABLES}


async def test_the_prompt_cases_render_ask_md_for_the_embedded_model(
    plan: LessonPlan, prompts: PromptSet
) -> None:
    files = await rendered_by(echo_model("local/smollm2", local=True), plan, prompts)
    # What compare tells a teacher about the embedded model must match what it does.
    assert files == {"system.md", *EMBEDDED_WORDS}


def test_word_diff_marks_what_each_side_lost_and_gained() -> None:
    left, right = word_diff("Take a moment and commit.", "Think first, then commit.")
    assert left == [("del", "Take a moment and "), ("same", "commit.")]
    assert right == [("ins", "Think first, then "), ("same", "commit.")]
    assert "".join(w for _, w in left) == "Take a moment and commit."
    assert "".join(w for _, w in right) == "Think first, then commit."


def _variant(tmp_path: Path) -> Path:
    folder = tmp_path / "prompts-variant"
    shutil.copytree(PROJECT_ROOT / "prompts", folder)
    ask = folder / "ask.md"
    ask.write_text(ask.read_text(encoding="utf-8") + "\nThink first.\n", encoding="utf-8")
    return folder


class EchoGateway(ScriptedModel):
    """The CLI's gateway, replaced by the echoing model under the embedded model's name."""

    def __init__(self, settings: object) -> None:
        super().__init__(echo_model("local/smollm2", True)._reply, name="local/smollm2")

    def warmup(self) -> None:
        return None


def _run(args: list[str], env: dict[str, str]) -> dict:  # type: ignore[type-arg]
    from tutor.cli.main import app

    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code in (0, 1), result.output
    data: dict = json.loads(result.stdout)  # type: ignore[type-arg]
    return data


@pytest.mark.parametrize(
    ("cases", "diffs"),
    [("steps.yaml", False), ("prompts.yaml", True)],
)
def test_a_teachers_prompt_edit_is_a_wording_diff_or_a_plain_notice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cases: str, diffs: bool
) -> None:
    monkeypatch.setattr("tutor.gateway.gateway.Gateway", EchoGateway)
    env = {"TUTOR_HOME": str(tmp_path / "home")}
    glob = str(PROJECT_ROOT / "evals" / "cases" / cases)
    base = ["eval", "run", "--cases", glob, "--no-judge", "--json"]
    _run(base, env)
    _run([*base, "--prompts", str(_variant(tmp_path))], env)
    report = tmp_path / "report.html"
    compared = _run(["eval", "compare", "previous", "latest", "--json", "--html", str(report)], env)
    (latest,) = compared["wording"].values()
    page = report.read_text(encoding="utf-8")
    if diffs:
        # The edit changed what the model said: each changed reply is shown, even though
        # every check still gives the same result.
        assert latest and all("Think first" in w["after"] for w in latest)
        assert not any(compared["changes"].values())
        assert any(n.startswith("ask.md differs; ") for n in compared["notices"])
        assert "<ins>Think first, then </ins>" in page and "<details id='case-" in page
        assert re.search(r"<details id='case-[^']+' open>", page)
        from tutor.cli.main import app

        shown = CliRunner().invoke(app, ["eval", "compare", "previous", "latest"], env=env)
        assert shown.exit_code == 0, shown.output
        assert "[-Take a moment and-]" in shown.output
        assert "{+Think first, then+}" in shown.output
        assert "Every check gave the same result" in shown.output
    else:
        assert latest == []
        assert compared["notices"] == [
            "ask.md differs, but no case rendered it: with the embedded model (local/smollm2) "
            "only ask.md is worded by the model, and these cases start at a resumed step"
        ]
        assert "ask.md differs, but no case rendered it" in page


async def test_a_file_no_case_reached_is_named_with_its_situation(
    tmp_path: Path, plan: LessonPlan, prompts: PromptSet
) -> None:
    folder = tmp_path / "variant"
    shutil.copytree(PROJECT_ROOT / "prompts", folder)
    (folder / "teach_back.md").write_text("Be brief: $question $learner_answer $hits $misses "
                                          "$model_answer\n", encoding="utf-8")
    variant = load_prompts(folder)
    model = echo_model("fake/hosted", local=False)
    cases = load_cases(PROMPT_CASES, plan)[:1]
    runs: list[tuple[RunSummary | None, list[CaseResult]]] = []
    for prompt_set in (prompts, variant):
        opts = RunOptions(model_name=model.name, prompts=prompt_set, plan=plan)
        results = await run_cases(
            cases, opts, model_factory=lambda: model, cache=ResponseCache(tmp_path, enabled=False)
        )
        summary = summarise(results, opts, Suite(), run_id=prompt_set.digest, started="",
                            seconds=0)  # fmt: skip
        runs.append((summary, results))
    (notice,) = prompt_notices(runs)
    assert notice.text == (
        "teach_back.md differs, but no case rendered it: no case reached a teach-back being "
        "graded"
    )
    assert wording_changes(runs[0][1], runs[1][1]) == []
    page = html_report([("a", *runs[0]), ("b", *runs[1])])
    assert "teach_back.md differs" in page


async def test_replies_where_oracle_and_guard_disagree_are_listed_for_a_reader(
    tmp_path: Path, plan: LessonPlan, prompts: PromptSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rich.console import Console

    from tutor.evals.cases import Case
    from tutor.evals.report import print_summary

    # A guard that objects to everything: it and the oracle now disagree on every reply.
    monkeypatch.setattr("tutor.engine.guards.leaks", lambda text, key: "points at option B")
    case = Case.model_validate({"id": "why", "start": "step-2", "turns": [{"say": "why?"}]})
    model = echo_model("fake/hosted", local=False)
    opts = RunOptions(model_name=model.name, prompts=prompts, plan=plan)
    results = await run_cases(
        [case], opts, model_factory=lambda: model, cache=ResponseCache(tmp_path, enabled=False)
    )
    summary = summarise(results, opts, Suite(), run_id="r", started="", seconds=0)
    assert list(summary.disagreements) == ["why"]
    assert "only the guard: points at option B" in summary.disagreements["why"]
    console = Console(record=True, width=200)
    print_summary(summary, console)
    printed = console.export_text()
    assert "disagree" in printed and "why:" in printed
    page = html_report([("r", summary, results)])
    assert "disagree on these replies" in page and "href='#case-why'" in page
