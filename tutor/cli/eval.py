"""`tutor eval ...` commands.

Over 400 lines: one small function per `tutor eval` subcommand; the reading and answer
commands live in their own modules.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from tutor.cli.eval_answers import ANSWERS_HELP, answers
from tutor.cli.eval_reading import READING_HELP, reading

app = typer.Typer(help="eval commands.", no_args_is_help=True)
app.command("reading", help=READING_HELP)(reading)
app.command("answers", help=ANSWERS_HELP)(answers)


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
# Both runs read the same cases; compare shows every reply whose wording changed (side by
# side), every check that changed, and which edited prompt files no case rendered.

# Help texts: one string per paragraph, so the terminal rewraps them to its width.
_TEACHER_FLOW = (
    "To try a prompt change: copy prompts/ to a folder (cp -r prompts prompts-warm), edit "
    "any .md file in it, run the suite once as is and once with --prompts prompts-warm, then "
    "`tutor eval compare previous latest --html report.html` and open the report: which "
    "prompt files differ and how many cases rendered them, a prompts x cases matrix, "
    "per-dimension bar charts, each changed reply as a side-by-side diff and every "
    "transcript. evals/cases/prompts.yaml renders every prompt file at least once."
)
RUN_HELP = (
    "Run the eval suite: solve each case against the tutor, score it with the deterministic "
    "checks, send a sample to the rubric judge and check the gates in evals/suite.yaml."
    "\n\n"
    "Results go to <runs_dir>/<run-id>/results.jsonl and summary.json. Replies are cached by "
    "case, model (an embedded model by its file's hash), prompts, lesson plan, all of the "
    "tutor's code and, with --corpus, the corpus; a rerun with nothing changed is instant. "
    "Crashed cases and failed model calls are never cached. Exit code 1: a gate was missed "
    "(a crashed case misses the completed gate, and a gate with fewer applicable cases than "
    "suite.yaml's minimum fails); 2: a usage or setup error (bad case file, missing model)."
    "\n\n"
    "--ci is the CI configuration: the embedded local model, gates on, the judge on a fixed "
    "sample and reported only, passages from the lesson plan (no corpus)."
    "\n\n" + _TEACHER_FLOW
)
COMPARE_HELP = (
    "Show what changed between runs: every reply whose wording changed, side by side (even "
    "when every check still passes), the checks and judge labels that changed, and, for each "
    "prompt file that differs, how many cases rendered it (or why none did). Runs are ids, "
    "folders, 'latest' or 'previous'; the first run is the baseline."
    "\n\n" + _TEACHER_FLOW
)
CALIBRATE_HELP = (
    "How far to trust the judge: run it on the hand-labelled replies in "
    "evals/judge-calibration and report, per MRBench dimension, the exact-label accuracy and "
    "Cohen's kappa (0 = chance agreement, 1 = perfect)."
)


@app.command("run", help=RUN_HELP)
def run(
    ctx: typer.Context,
    model: str | None = typer.Option(None, "--model", help="Tutor model (litellm string)."),
    judge_model: str | None = typer.Option(
        None, "--judge-model", help="Judge model; default settings.judge."
    ),
    prompts: Path | None = typer.Option(
        None, "--prompts", help="Prompt folder to evaluate (a copy of prompts/ you edited)."
    ),
    cases: str | None = typer.Option(None, "--cases", help="Glob of case files."),
    tag: list[str] = typer.Option([], "--tag", help="Only cases with this tag (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    no_judge: bool = typer.Option(False, "--no-judge", help="Skip the rubric judge."),
    judge_sample: int | None = typer.Option(
        None, "--judge-sample", min=0, help="Judge only this many cases (a fixed sample)."
    ),
    ci: bool = typer.Option(
        False, "--ci", help="CI configuration: embedded model, gates on, judge on a sample."
    ),
    corpus: bool | None = typer.Option(
        None, "--corpus/--no-corpus", help="Retrieve passages for reveals (default: off)."
    ),
    concurrency: int | None = typer.Option(
        None, "--concurrency", min=1, help="Cases at once for hosted models (local: 1)."
    ),
    no_cache: bool = typer.Option(False, "--no-cache", help="Ignore cached replies."),
    suite_file: Path | None = typer.Option(None, "--suite", help="Suite file (evals/suite.yaml)."),
) -> None:
    """Run the eval suite: solve each case, score it, judge a sample, check the gates."""
    import asyncio
    import time
    from datetime import datetime

    from rich.console import Console

    from tutor.cli.common import fail, get_settings, print_json
    from tutor.engine.plan import PlanError, load_plan
    from tutor.engine.prompts import PromptError, load_prompts
    from tutor.evals.cache import ResponseCache
    from tutor.evals.cases import CaseError, load_cases
    from tutor.evals.report import print_summary
    from tutor.evals.runner import (
        RunOptions,
        model_key,
        new_run_id,
        run_cases,
        summarise,
        summary_json,
        tree_digest,
        write_run,
    )
    from tutor.evals.suite import load_suite
    from tutor.gateway.types import GatewayError
    from tutor.redact import redact

    settings = get_settings(ctx)
    suite_path = suite_file or settings.evals_dir / "suite.yaml"
    try:
        suite = load_suite(suite_path)
        plan = load_plan(settings.lesson_plan_file)
        prompt_set = load_prompts(prompts or settings.prompts_dir)
        pattern = cases or str(suite_path.parent / suite.cases)
        selected = load_cases(pattern, plan)
    except (CaseError, PlanError, PromptError) as exc:
        fail(str(exc))
    wanted = tag or (suite.ci.tags if ci else [])
    if wanted:
        selected = [c for c in selected if set(wanted) & set(c.tags)]
        if not selected:
            fail(f"no case has the tag(s) {', '.join(wanted)}")

    if ci:
        model_name = model or suite.ci.model
        judge_name: str | None = judge_model or suite.ci.judge_model
        sample: int | None = suite.ci.judge_sample if judge_sample is None else judge_sample
        use_corpus = suite.ci.corpus if corpus is None else corpus
    else:
        model_name = model or settings.model.name
        judge_name = judge_model or settings.judge.name
        sample = suite.judge_sample if judge_sample is None else judge_sample
        use_corpus = bool(corpus)
    if no_judge or sample == 0:
        judge_name = None
    tutor_settings = settings.model.model_copy(
        update={"name": model_name, "temperature": suite.temperature}
    )
    judge_settings = settings.judge.model_copy(
        update={"name": judge_name or settings.judge.name, "temperature": 0.0}
    )
    local = tutor_settings.is_local or (judge_name is not None and judge_settings.is_local)
    # One in-process model on one thread: parallel cases would only interleave.
    workers = 1 if local else (concurrency or suite.concurrency)

    def make_tutor() -> Any:
        from tutor.gateway.gateway import Gateway

        gateway = Gateway(tutor_settings)
        gateway.warmup()  # a missing model fails here, once, with a plain message
        return gateway

    def make_judge() -> Any:
        from tutor.gateway.gateway import Gateway

        gateway = Gateway(judge_settings)
        gateway.warmup()
        return gateway

    retriever = None
    if use_corpus:
        from tutor.engine.factory import open_retriever

        try:
            retriever = open_retriever(settings, lambda _m, _f: None)
        except ImportError as exc:
            typer.echo(f"note: no corpus retrieval ({exc}); reveals cite the plan", err=True)

    try:
        tutor_key = model_key(model_name, tutor_settings.api_base, tutor_settings.gguf_path)
        judge_key = (
            model_key(judge_settings.name, judge_settings.api_base, judge_settings.gguf_path)
            if judge_name
            else ""
        )
    except GatewayError as exc:
        fail(redact(str(exc)))
    corpus_key = None
    if retriever is not None:
        corpus_key = tree_digest(settings.corpus_dir)
        for extra in (settings.user_docs_dir, settings.fetched_dir):
            if extra.is_dir():
                corpus_key += tree_digest(extra)
    options = RunOptions(
        model_name=model_name,
        prompts=prompt_set,
        plan=plan,
        judge_name=judge_name,
        corpus=retriever is not None,
        temperature=suite.temperature,
        concurrency=workers,
        judge_sample=sample,
        model_key=tutor_key,
        judge_key=judge_key,
        corpus_key=corpus_key,
    )
    started = datetime.now().isoformat(timespec="seconds")
    clock = time.perf_counter()
    cache = ResponseCache(settings.cache_dir / "evals", enabled=not no_cache)
    console = Console(stderr=as_json)
    try:
        results = asyncio.run(
            run_cases(
                selected,
                options,
                model_factory=make_tutor,
                judge_factory=make_judge if judge_name else None,
                retriever=retriever,
                cache=cache,
                progress=console.is_terminal,
            )
        )
    except GatewayError as exc:
        fail(redact(str(exc)))
    seconds = time.perf_counter() - clock
    run_id = new_run_id(settings.runs_dir, model_name, prompt_set.digest)
    subset = cases is not None or bool(tag)
    summary = summarise(
        results, options, suite, run_id=run_id, started=started, seconds=seconds, subset=subset
    )
    folder = write_run(settings.runs_dir / run_id, results, summary)
    if as_json:
        print_json(summary_json(summary) | {"folder": str(folder)})
    else:
        print_summary(summary, console)
        console.print(f"[dim]results: {folder}[/]")
    if ci and seconds > suite.ci.budget_seconds:
        typer.echo(
            f"warning: the CI run took {seconds:.0f}s, over its {suite.ci.budget_seconds:.0f}s "
            "budget", err=True,
        )  # fmt: skip
    if not summary.passed:
        raise typer.Exit(1)


@app.command("compare", help=COMPARE_HELP)
def compare(
    ctx: typer.Context,
    runs: list[str] = typer.Argument(
        ..., help="Two or more runs: ids, folders, 'latest' or 'previous'."
    ),
    html_file: Path | None = typer.Option(
        None, "--html", help="Write a self-contained HTML report to this file."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the changes as JSON."),
) -> None:
    """List the cases whose checks changed from the first run to each other run."""
    from dataclasses import asdict

    from rich.console import Console

    from tutor.cli.common import fail, get_settings, print_json
    from tutor.evals.report import (
        compare_runs,
        html_report,
        print_changes,
        prompt_notices,
        wording_changes,
    )
    from tutor.evals.runner import read_run, resolve_run

    if len(runs) < 2:
        fail("compare needs two runs, e.g. `tutor eval compare previous latest`")
    settings = get_settings(ctx)
    loaded = []
    for name in runs:
        try:
            folder = resolve_run(settings.runs_dir, name)
            summary, results = read_run(folder)
        except (FileNotFoundError, ValueError) as exc:
            fail(str(exc).splitlines()[0])
        loaded.append((folder.name, summary, results))
    console = Console()
    everything = {}
    wording_all = {}
    notices_all = []
    base_name, base_summary, base_results = loaded[0]
    for name, summary, results in loaded[1:]:
        changes = compare_runs(base_results, results)
        wording = wording_changes(base_results, results)
        notices = prompt_notices([(base_summary, base_results), (summary, results)])
        everything[name] = [asdict(c) for c in changes]
        wording_all[name] = [
            {"case_id": w.case_id, "turn": w.turn, "before": w.before, "after": w.after}
            for w in wording
        ]
        notices_all += [n.text for n in notices]
        if not as_json:
            print_changes(changes, base_name, name, console, wording=wording, notices=notices)
    if html_file is not None:
        html_file.write_text(html_report(loaded), encoding="utf-8")
        if not as_json:
            console.print(f"report: {html_file}")
    if as_json:
        print_json(
            {
                "base": base_name,
                "notices": notices_all,
                "changes": everything,
                "wording": wording_all,
            }
        )


@app.command("calibrate", help=CALIBRATE_HELP)
def calibrate(
    ctx: typer.Context,
    judge_model: str | None = typer.Option(
        None, "--judge-model", help="Judge model; default settings.judge."
    ),
    folder: Path | None = typer.Option(
        None, "--folder", help="Hand-labelled replies (evals/judge-calibration)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the agreement as JSON."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Ignore cached judgements."),
) -> None:
    """How far to trust the judge: its labels against hand labels, per dimension."""
    import asyncio

    from rich.console import Console
    from rich.table import Table

    from tutor.cli.common import fail, get_settings, print_json
    from tutor.evals.cache import ResponseCache, cache_key
    from tutor.evals.cases import CaseError
    from tutor.evals.judge import JudgeResult, agreement, judge_reply, load_calibration
    from tutor.gateway.types import GatewayError
    from tutor.redact import redact

    settings = get_settings(ctx)
    try:
        items = load_calibration(folder or settings.evals_dir / "judge-calibration")
    except CaseError as exc:
        fail(str(exc))
    judge_settings = settings.judge.model_copy(
        update={"name": judge_model or settings.judge.name, "temperature": 0.0}
    )
    cache = ResponseCache(settings.cache_dir / "evals", enabled=not no_cache)
    console = Console(stderr=as_json)

    async def label_all() -> list[JudgeResult]:
        from tutor.gateway.gateway import Gateway

        gateway: Gateway | None = None
        out = []
        for item in items:
            key = cache_key(judge=judge_settings.name, item=item.context.model_dump(),
                            temperature=0.0)  # fmt: skip
            found = cache.get("judgements", key, JudgeResult)
            if found is None:
                if gateway is None:
                    gateway = Gateway(judge_settings)
                    gateway.warmup()
                found = await judge_reply(gateway, item.context)
                if found.error is None:
                    cache.put("judgements", key, found)
            out.append(found)
        return out

    try:
        with console.status(f"judging {len(items)} replies with {judge_settings.name}"):
            judged = asyncio.run(label_all())
    except GatewayError as exc:
        fail(redact(str(exc)))
    rows = agreement([i.labels for i in items], [j.labels for j in judged])
    errors = sum(j.labels is None for j in judged)
    if as_json:
        print_json({"judge": judge_settings.name, "items": len(items), "errors": errors,
                    "dimensions": [r.model_dump() for r in rows]})  # fmt: skip
        return
    table = Table(title=f"judge {judge_settings.name} vs hand labels ({len(items)} replies)",
                  title_justify="left")  # fmt: skip
    for column in ("dimension", "n", "accuracy", "Cohen's kappa"):
        table.add_column(column, justify="left" if column == "dimension" else "right")
    for r in rows:
        table.add_row(r.dimension, str(r.n), f"{r.accuracy:.2f}", f"{r.kappa:.2f}")
    console.print(table)
    if errors:
        console.print(f"[yellow]the judge gave no valid labels for {errors} reply(ies)[/]")
