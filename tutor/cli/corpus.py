"""`tutor corpus ...`: build, add to, fetch into, inspect and search the reference corpus."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from tutor.cli.common import fail, get_settings, print_json

if TYPE_CHECKING:
    from tutor.corpus.index import BuildStats
    from tutor.settings import Settings

app = typer.Typer(help="Build and search the reference corpus.", no_args_is_help=True)


@contextmanager
def _progress_bar(enabled: bool = True) -> Iterator[Callable[[str, float | None], None]]:
    """A rich progress bar on stderr, fed by the (message, fraction) progress callback."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    if not enabled or not console.is_terminal:

        def quiet(_message: str, _fraction: float | None) -> None:
            return None

        yield quiet
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("indexing", total=1.0)

        def update(message: str, fraction: float | None) -> None:
            bar.update(task, description=message, completed=fraction or 0.0)

        yield update


def _report_warnings(stats: BuildStats) -> None:
    for warning in stats.warnings:
        typer.echo(f"warning: {warning}", err=True)


def _build(settings: Settings, *, force: bool = False) -> BuildStats:
    from tutor.corpus.errors import CorpusError
    from tutor.corpus.index import build_index

    try:
        with _progress_bar() as progress:
            stats = build_index(settings, progress=progress, force=force)
    except CorpusError as exc:
        fail(str(exc))
    _report_warnings(stats)
    return stats


def _summary(stats: BuildStats) -> str:
    if stats.noop:
        return (
            f"index up to date: {stats.chunks} passages from {stats.files} files "
            f"({stats.seconds:.2f}s)"
        )
    return (
        f"indexed {stats.files} files ({stats.files_changed} changed, {stats.files_removed} "
        f"removed): {stats.chunks} passages, +{stats.chunks_added} -{stats.chunks_removed} "
        f"in {stats.seconds:.1f}s"
    )


@app.command("build")
def build(
    ctx: typer.Context,
    force: bool = typer.Option(False, "--force", help="Re-embed everything, even unchanged files."),
    as_json: bool = typer.Option(False, "--json", help="Print the build statistics as JSON."),
) -> None:
    """Index the project's notes, fetched pages and your documents (only what changed)."""
    stats = _build(get_settings(ctx), force=force)
    if as_json:
        print_json(stats.to_dict())
    else:
        if stats.rebuilt:
            typer.echo(f"rebuilt from scratch: {stats.rebuilt}")
        typer.echo(_summary(stats))


@app.command("add")
def add(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(..., help="Files or folders (.md, .txt, .html)."),
) -> None:
    """Copy your documents into the tutor's folder (kept across rebuilds) and index them."""
    from tutor.corpus.index import add_documents

    settings = get_settings(ctx)
    result = add_documents(settings, paths)
    for problem in result.skipped:
        typer.echo(f"warning: {problem}", err=True)
    if not result.added:
        fail("no document was added; see the warnings above")
    for path in result.added:
        typer.echo(f"added {path}")
    typer.echo(_summary(_build(settings)))


@app.command("fetch")
def fetch(ctx: typer.Context) -> None:
    """Download the NVIDIA pages in corpus/sources.yaml (when online) and index them."""
    from tutor.corpus.errors import CorpusError
    from tutor.corpus.fetch import fetch_sources

    settings = get_settings(ctx)
    try:
        with _progress_bar() as progress:
            result = fetch_sources(settings, progress=progress)
    except CorpusError as exc:
        fail(str(exc))
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if result.offline:
        typer.echo(result.offline)
    else:
        typer.echo(
            f"fetched {len(result.saved)} new or changed and {len(result.unchanged)} "
            f"unchanged of {result.total} pages into {settings.fetched_dir}"
        )
    typer.echo(_summary(_build(settings)))


@app.command("stats")
def stats(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Show what the index holds, where it lives, and whether it is up to date."""
    from tutor.corpus.index import index_summary

    summary = index_summary(get_settings(ctx))
    if as_json:
        print_json(summary)
        return
    typer.echo(f"backend:   {summary['backend']}")
    typer.echo(f"manifest:  {summary['manifest']}")
    typer.echo(f"built:     {summary['built_at'] or 'never'}")
    typer.echo(f"files:     {summary['files']}  passages: {summary['chunks']}")
    for kind, count in sorted(summary["by_kind"].items()):
        typer.echo(f"  {kind:<10} {count} passages")
    typer.echo(
        f"pending:   {summary['pending']} files changed since the last build"
        if summary["pending"]
        else "pending:   none"
    )


@app.command("search")
def search(
    ctx: typer.Context,
    query: str = typer.Argument(..., help="What to look for."),
    k: int = typer.Option(5, "-k", "--k", min=1, max=50, help="How many passages."),
    topic: list[str] = typer.Option([], "--topic", help="Only these topics (repeatable)."),
    kind: list[str] = typer.Option(
        [], "--kind", help="Only these kinds: reference, lesson, fetched, user (repeatable)."
    ),
    doc: list[str] = typer.Option([], "--doc", help="Only these documents (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Print hits as JSON."),
) -> None:
    """Hybrid (dense + BM25) search with citations."""
    from tutor.corpus.errors import CorpusError
    from tutor.corpus.retrieval import Retriever

    settings = get_settings(ctx)
    _build(settings)
    retriever = Retriever(settings)
    try:
        hits = retriever.search(
            query, k, topics=topic or None, kinds=kind or None, docs=doc or None
        )
        empty = retriever.chunk_count == 0
    except CorpusError as exc:
        fail(str(exc))
    if as_json:
        print_json([h.to_dict() for h in hits])
        return
    if empty:
        fail(
            "the index is empty; add documents with 'tutor corpus add PATH' or check "
            f"corpus_dir ({settings.corpus_dir})"
        )
    if not hits:
        typer.echo("no passage matches")
        return
    from rich.console import Console
    from rich.markup import escape

    console = Console()
    for i, hit in enumerate(hits, 1):
        console.print(
            f"[bold]{i}. {escape(hit.heading_path)}[/bold]  "
            f"[dim]{hit.score:.4f}  {escape(hit.url or hit.doc)}[/dim]"
        )
        text = hit.text if len(hit.text) <= 400 else hit.text[:400].rsplit(" ", 1)[0] + " …"
        console.print(escape(text), highlight=False)
        console.print()
