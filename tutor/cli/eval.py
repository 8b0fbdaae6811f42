"""`tutor eval ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="eval commands.", no_args_is_help=True)


@app.command("retrieval")
def retrieval(
    ctx: typer.Context,
    k: int = typer.Option(5, "-k", "--k", min=1, max=50, help="Cut-off rank for recall."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures (and misses) as JSON."),
    verbose: bool = typer.Option(False, "-v", "--verbose", help="List the missed questions."),
) -> None:
    """Retrieval quality on evals/retrieval/questions.yaml: recall@k and MRR."""
    from tutor.cli.common import fail, get_settings, print_json
    from tutor.corpus.errors import CorpusError
    from tutor.corpus.evaluate import evaluate, load_questions
    from tutor.corpus.index import ensure_index
    from tutor.corpus.retrieval import Retriever

    settings = get_settings(ctx)
    try:
        questions = load_questions(settings.evals_dir / "retrieval" / "questions.yaml")
        ensure_index(settings)
        report = evaluate(Retriever(settings), questions, k)
    except CorpusError as exc:
        fail(str(exc))
    if as_json:
        print_json(report.to_dict())
        return
    typer.echo(f"questions: {report.questions}")
    typer.echo(f"recall@{k}: {report.recall_at_k:.3f}  (share of labelled passages in the top {k})")
    typer.echo(f"hit@{k}:    {report.hit_rate:.3f}  (questions with any labelled passage)")
    typer.echo(f"MRR:       {report.mrr:.3f}")
    if verbose:
        for miss in report.to_dict()["misses"]:
            typer.echo(
                f"  {miss['id']} rank={miss['first_rank']} recall={miss['recall']}: "
                f"{miss['question']}"
            )


# ---------------------------------------------------------------------- the tutor eval suite
#
# A teacher's flow for trying a prompt change:
#   cp -r prompts prompts-warmer            # a variant folder; edit any .md in it
#   tutor eval run                           # baseline with prompts/
#   tutor eval run --prompts prompts-warmer  # the variant
#   tutor eval compare previous latest --html report.html
# Both runs read the same cases; compare lists every case whose checks changed and the
# HTML report puts the variants side by side with each transcript expandable.
