"""`tutor prompts ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="prompts commands.", no_args_is_help=True)
