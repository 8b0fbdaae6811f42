"""`tutor eval reading`: the reader against the labelled learner questions in evals/reading."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from tutor.reading.suite import Report

READING_HELP = (
    "Read every learner question in evals/reading/*.yaml and compare the reading with its "
    "label: the exact calculator call, clarify, or none (not a calculator question)."
    "\n\n"
    "Prints the accuracy per operation (tool.field, clarify, none), the overall exact match, "
    "the silent misreads (a wrong call with no 'assumed' or 'not used' notice) and every "
    "failing case. Exit code 1: a goal in evals/reading/suite.yaml was missed; 2: a bad "
    "case file."
)


def reading(
    ctx: typer.Context,
    folder: Path | None = typer.Option(
        None, "--folder", help="Reading suite folder (evals/reading)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the figures and failures as JSON."),
) -> None:
    """Exact tool-call match of the reader on the reading suite, per operation."""
    from tutor.cli.common import fail, get_settings, print_json
    from tutor.reading.suite import ReadingSuiteError, load_suite, run_suite

    settings = get_settings(ctx)
    try:
        suite = load_suite(folder or settings.evals_dir / "reading")
    except ReadingSuiteError as exc:
        fail(str(exc))
    from tutor.reading import read

    report = run_suite(suite, read)
    if as_json:
        print_json(report.to_dict())
    else:
        print_report(report)
    if not report.passed:
        raise typer.Exit(1)


def _mark(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def print_report(report: Report) -> None:
    goals = report.goals
    typer.echo(f"{'operation':<28} {'cases':>5} {'right':>5} {'accuracy':>9}")
    for name, op in report.operations.items():
        typer.echo(f"{name:<28} {op.cases:>5} {op.correct:>5} {op.accuracy:>8.1%}")
    corr = report.corrections
    if corr.cases:
        share = corr.correct / corr.cases
        label = "(of which corrections)"
        typer.echo(f"{label:<28} {corr.cases:>5} {corr.correct:>5} {share:>8.1%}")
    typer.echo("")
    exact_ok = report.exact_match >= goals.exact_match
    silent_ok = report.silent_misreads <= goals.silent_misreads
    typer.echo(
        f"exact match      {report.correct}/{report.cases} = {report.exact_match:.1%}   "
        f"goal >= {goals.exact_match:.0%}   {_mark(exact_ok)}"
    )
    typer.echo(
        f"silent misreads  {report.silent_misreads}   "
        f"goal <= {goals.silent_misreads}   {_mark(silent_ok)}"
    )
    if report.errors:
        typer.echo(f"reader errors    {report.errors}   goal 0   MISSED")
    failures = report.failures
    if not failures:
        return
    typer.echo("")
    typer.echo(f"failing cases ({len(failures)}):")
    for r in failures:
        flag = "  SILENT" if r.silent else ""
        typer.echo(f"  {r.id} ({r.file}){flag}")
        if r.previous is not None:
            typer.echo(f"    after:    {r.previous}")
        typer.echo(f"    text:     {r.text}")
        typer.echo(f"    expected: {r.expected}")
        typer.echo(f"    got:      {r.got}")
