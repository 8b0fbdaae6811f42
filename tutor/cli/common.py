"""Helpers shared by every CLI module: settings in the context, one-line errors."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer

from tutor.settings import Settings, SettingsError, load_settings


def get_settings(ctx: typer.Context) -> Settings:
    """Settings are loaded once per process by the root callback and passed down in ctx.obj."""
    root = ctx.find_root()
    if not isinstance(root.obj, Settings):
        try:
            root.obj = load_settings()
        except SettingsError as exc:
            fail(str(exc))
    assert isinstance(root.obj, Settings)
    return root.obj


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one plain line to stderr and exit; never a traceback for user errors."""
    from tutor.redact import clean

    typer.echo(f"error: {' '.join(clean(message).split())}", err=True)
    raise typer.Exit(code)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
