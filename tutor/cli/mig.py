"""`tutor mig ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="mig commands.", no_args_is_help=True)
