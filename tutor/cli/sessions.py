"""`tutor sessions ...`: list past sessions and export a transcript."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from tutor.cli.common import fail, get_settings, print_json

if TYPE_CHECKING:
    from tutor.engine.record import Record

app = typer.Typer(help="List and export learning sessions.", no_args_is_help=True)


def _open(ctx: typer.Context) -> Record:
    from tutor.engine.record import Record, RecordError

    try:
        return Record(get_settings(ctx).sessions_db)
    except RecordError as exc:
        fail(str(exc))


@app.command("list")
def list_sessions(
    ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="JSON output.")
) -> None:
    """Every saved session, newest first."""
    sessions = _open(ctx).sessions()
    if as_json:
        print_json([s.model_dump() for s in sessions])
        return
    if not sessions:
        typer.echo("no sessions yet: start one with `tutor`")
        return
    for s in sessions:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(s.created_at))
        typer.echo(f"{s.id}  {when}  {s.model:<24} {s.turns:>3} turns  at {s.last_step or '-'}")


@app.command("export")
def export(
    ctx: typer.Context,
    session_id: str = typer.Argument(..., help="A session id from `tutor sessions list`."),
    fmt: str = typer.Option("md", "--format", help="Only 'md' (markdown) for now."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write here, not stdout."),
) -> None:
    """The transcript with predictions, reveals, citations and answers point by point."""
    from tutor.engine.export import transcript_markdown
    from tutor.engine.record import grades_markdown

    if fmt != "md":
        fail(f"unknown format {fmt!r}; use --format md")
    record = _open(ctx)
    if session_id == "latest":
        session_id = record.latest_session() or ""
    if not record.has_session(session_id):
        fail(f"no session {session_id!r}; see `tutor sessions list`")
    text = transcript_markdown(record, session_id)
    points = grades_markdown(record.grades(session_id))
    if points:
        # The verdict per point and per misconception, so a later review sees what was missed.
        text = text.rstrip("\n") + "\n\n" + points
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}")
