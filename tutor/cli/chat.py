"""`tutor chat --plain` and `tutor ask`: the engine over stdin/stdout.

Plain mode reads one learner message per line, for scripts and screen readers;
`--jsonl` prints every engine event as one JSON line instead of prose.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Coroutine
from typing import Any, TextIO

import typer

from tutor.cli.common import fail, get_settings
from tutor.engine.events import Event, TextDelta, TurnDone, TurnFailed
from tutor.settings import Settings


def _run(coro: Coroutine[Any, Any, int]) -> int:
    """Run a chat coroutine; setup failures become one line on stderr, not a traceback."""
    from tutor.engine.plan import PlanError
    from tutor.engine.prompts import PromptError
    from tutor.engine.record import RecordError
    from tutor.gateway.types import GatewayError

    try:
        return asyncio.run(coro)
    except KeyboardInterrupt:
        return 130
    except (GatewayError, PlanError, PromptError, RecordError) as exc:
        fail(str(exc))


def with_model(settings: Settings, model: str | None) -> Settings:
    if not model:
        return settings
    return settings.model_copy(update={"model": settings.model.model_copy(update={"name": model})})


async def _emit(events: AsyncIterator[Event], out: TextIO, jsonl: bool) -> bool:
    """Print a turn's events; return False when the turn failed."""
    import json

    from tutor.redact import clean, clean_tree

    ok = True
    async for event in events:
        # model and document text may carry escape codes or an echoed key; neither reaches
        # the terminal or a script's log
        if jsonl:
            out.write(json.dumps(clean_tree(event.model_dump(mode="json"))) + "\n")
        elif isinstance(event, TextDelta):
            out.write(clean(event.text))
        elif isinstance(event, TurnDone):
            out.write("\n\n")
        elif isinstance(event, TurnFailed):
            out.write(f"\n[error] {clean(event.message)}\n")
        if isinstance(event, TurnFailed):
            ok = False
        out.flush()
    return ok


async def run_plain(
    settings: Settings, *, jsonl: bool, resume: bool, inp: TextIO, out: TextIO
) -> int:
    from tutor.engine.factory import build_engine

    def progress(message: str, _fraction: float | None) -> None:
        if not jsonl:
            sys.stderr.write(f"[{message}]\n")

    engine = await asyncio.to_thread(build_engine, settings, resume=resume, progress=progress)
    # a failed opening turn is a failure too: scripts must see a non-zero exit
    failures = 0 if await _emit(engine.start(), out, jsonl) else 1
    interactive = inp.isatty()
    while True:
        if interactive:
            out.write("you> ")
            out.flush()
        line = await asyncio.to_thread(inp.readline)
        if not line:
            break
        text = line.strip()
        if not text:
            continue
        if text in {"/quit", "/exit"}:
            break
        if not await _emit(engine.send(text), out, jsonl):
            failures += 1
    return 1 if failures else 0


def chat(
    ctx: typer.Context,
    plain: bool = typer.Option(False, "--plain", help="Line-by-line over stdin/stdout."),
    jsonl: bool = typer.Option(False, "--jsonl", help="With --plain: one JSON event per line."),
    resume: bool = typer.Option(False, "--resume", help="--plain: continue the latest session."),
    new: bool = typer.Option(False, "--new", help="The app: start a fresh session."),
    model: str | None = typer.Option(None, "--model", help="A litellm model string."),
) -> None:
    """Learn the lesson: the Textual app (resumes your last session), or --plain."""
    settings = with_model(get_settings(ctx), model)
    if not plain and not jsonl:
        open_app(settings, resume=not new)
        return
    raise typer.Exit(
        _run(run_plain(settings, jsonl=jsonl, resume=resume, inp=sys.stdin, out=sys.stdout))
    )


async def run_ask(settings: Settings, question: str, guess: str | None, jsonl: bool) -> int:
    from tutor.engine.factory import build_engine

    # One question and out: worth waiting for the hybrid search rather than keywords.
    engine = await asyncio.to_thread(build_engine, settings, background=False)
    engine.leave_lesson()
    ok = await _emit(engine.send(question), sys.stdout, jsonl)
    if ok and guess is not None and engine.committed_guess is None and engine.awaiting_guess:
        ok = await _emit(engine.send(guess), sys.stdout, jsonl)
    return 0 if ok else 1


def ask(
    ctx: typer.Context,
    question: str = typer.Argument(..., help="Your question, in quotes."),
    guess: str | None = typer.Option(
        None, "--guess", help="Your guess, committed if the question has a checkable answer."
    ),
    jsonl: bool = typer.Option(False, "--jsonl", help="One JSON event per line."),
    model: str | None = typer.Option(None, "--model", help="A litellm model string."),
) -> None:
    """Ask one free question in a fresh session (checkable answers still want a guess)."""
    settings = with_model(get_settings(ctx), model)
    if not question.strip():
        fail("the question is empty")
    raise typer.Exit(_run(run_ask(settings, question, guess, jsonl)))


def open_app(settings: Settings, *, resume: bool = True) -> None:
    """Launch the Textual app; the engine loads in the background once it is on screen."""
    from tutor.tui.app import run_app

    run_app(settings, resume=resume)
