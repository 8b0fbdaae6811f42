"""`tutor prompts check`: render every teacher-editable prompt with sample values."""

from __future__ import annotations

from pathlib import Path

import typer

from tutor.cli.common import fail, get_settings

app = typer.Typer(help="Check the teacher-editable prompts.", no_args_is_help=True)


@app.command("check")
def check(
    ctx: typer.Context,
    folder: Path | None = typer.Argument(None, help="A prompts folder (default: settings)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only the verdict."),
) -> None:
    """Load and render every prompt; name the file and variable on any error."""
    from tutor.engine.prompts import PROMPT_VARIABLES, PromptError, load_prompts, render_all

    target = folder or get_settings(ctx).prompts_dir
    try:
        prompts = load_prompts(target)
        rendered = render_all(prompts)
    except PromptError as exc:
        fail(str(exc))
    if not quiet:
        for name, text in rendered.items():
            variables = ", ".join("$" + v for v in sorted(PROMPT_VARIABLES[name]))
            typer.echo(f"--- {name}.md  (variables: {variables})")
            typer.echo(text.rstrip() + "\n")
    typer.echo(f"ok: {len(rendered)} prompts in {target}, hash {prompts.digest}")
