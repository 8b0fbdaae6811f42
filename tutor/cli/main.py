"""The `tutor` command: the root of every sub-command."""

from __future__ import annotations

import typer

from tutor import __version__
from tutor.cli import chat, corpus, doctor, eval, mig, prompts, sessions
from tutor.cli.common import fail
from tutor.settings import SettingsError, load_settings

app = typer.Typer(
    name="tutor",
    help="A Socratic tutor for NVIDIA Multi-Instance GPU: predict first, then reveal.",
    invoke_without_command=True,
    add_completion=False,
)
app.add_typer(mig.app, name="mig", help="MIG profile calculator: profiles, placements, fit.")
app.add_typer(corpus.app, name="corpus", help="Build and search the reference corpus.")
app.add_typer(eval.app, name="eval", help="Run and compare the tutor eval suite.")
app.add_typer(sessions.app, name="sessions", help="List and export learning sessions.")
app.add_typer(prompts.app, name="prompts", help="Check the teacher-editable prompts.")
app.command("doctor")(doctor.doctor)
app.command("chat")(chat.chat)
app.command("ask")(chat.ask)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tutor {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    try:
        ctx.obj = load_settings()
    except SettingsError as exc:
        fail(str(exc))
    if ctx.invoked_subcommand is None:
        chat.open_app(ctx.obj)


def run() -> None:
    app()
