"""`tutor eval answers`: the grader against the labelled learner answers in evals/answers."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from tutor.grading.suite import Report

ANSWERS_HELP = (
    "Grade every learner answer in evals/answers/*.yaml against its step's rubric and compare "
    "the verdict (right, partly, contradicts, can't tell) with its label."
    "\n\n"
    "Prints the agreement per labelled verdict, the exact verdict agreement, the count of "
    "wrong answers praised (graded right though labelled otherwise), right answers not "
    "accepted, and every disagreement. Goals: 0 wrong answers praised, every right answer "
    "accepted, at least 90% exact agreement. Exit code 1: a goal was missed; 2: a bad answer "
    "file or lesson plan."
)


def answers(
    ctx: typer.Context,
    folder: Path | None = typer.Option(
        None, "--folder", help="Answer suite folder (evals/answers)."
    ),
    plan_file: Path | None = typer.Option(None, "--plan", help="Lesson plan (the configured one)."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures and misses as JSON."),
    min_agreement: float = typer.Option(
        0.9, "--min-agreement", min=0.0, max=1.0, help="Goal for exact verdict agreement."
    ),
) -> None:
    """Verdict agreement of the grader on the answer suite, and wrong answers praised."""
    from tutor.cli.common import fail, get_settings, print_json
    from tutor.engine.plan import PlanError, load_plan
    from tutor.grading.suite import SuiteError, evaluate, load_suite

    settings = get_settings(ctx)
    try:
        plan = load_plan(plan_file or settings.lesson_plan_file)
        suites = load_suite(folder or settings.evals_dir / "answers", plan)
    except (PlanError, SuiteError) as exc:
        fail(str(exc))
    report = evaluate(suites)
    missed = report.goals(min_agreement)
    if as_json:
        print_json(_as_dict(report, missed))
    else:
        print_report(report, missed, min_agreement)
    if missed:
        raise typer.Exit(1)


def _as_dict(report: Report, missed: list[str]) -> dict[str, object]:
    named, contra = report.misconception_named
    return {
        "answers": report.total,
        "agreement": report.agreement,
        "per_verdict": {
            v: {"agreed": a, "labelled": n} for v, (a, n) in report.per_verdict().items()
        },
        "wrong_praised": [o.id for o in report.praised_wrong],
        "right_rejected": [o.id for o in report.rejected_right],
        "point_agreement": report.point_agreement,
        "misconception_named": {"named": named, "labelled": contra},
        "disagreements": [o.model_dump() for o in report.outcomes if o.expected != o.got],
        "goals_missed": missed,
    }


def print_report(report: Report, missed: list[str], min_agreement: float) -> None:
    typer.echo(f"{'labelled verdict':<18} {'answers':>7} {'agreed':>6} {'share':>7}")
    for verdict, (agreed, labelled) in report.per_verdict().items():
        share = f"{agreed / labelled:.1%}" if labelled else "-"
        typer.echo(f"{verdict:<18} {labelled:>7} {agreed:>6} {share:>7}")
    typer.echo("")
    agreed = sum(o.expected == o.got for o in report.outcomes)
    ok = report.agreement >= min_agreement
    typer.echo(
        f"exact verdict agreement  {agreed}/{report.total} = {report.agreement:.1%}   "
        f"goal >= {min_agreement:.0%}   {'ok' if ok else 'MISSED'}"
    )
    praised = len(report.praised_wrong)
    typer.echo(f"wrong answers praised    {praised}   goal 0   {'ok' if not praised else 'MISSED'}")
    rejected = len(report.rejected_right)
    typer.echo(
        f"right answers rejected   {rejected}   goal 0   {'ok' if not rejected else 'MISSED'}"
    )
    named, contra = report.misconception_named
    typer.echo(f"misconception named      {named}/{contra} of the contradicting answers")
    typer.echo(f"points exactly as label  {report.point_agreement:.1%}")
    misses = [o for o in report.outcomes if o.expected != o.got]
    if misses:
        typer.echo("")
        typer.echo(f"disagreements ({len(misses)}):")
        for o in misses:
            typer.echo(f"  {o.id} ({o.step}, {o.kind}): labelled {o.expected}, graded {o.got}"
                       f" ({o.reason})")  # fmt: skip
    if missed:
        typer.echo("")
        for line in missed:
            typer.echo(f"goal missed: {line}")
