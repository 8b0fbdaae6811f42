"""Starting the app from the CLI (`tutor`) or `python -m tutor.tui`."""

from __future__ import annotations

import argparse
import os

from tutor.settings import load_settings
from tutor.tui.bench import BENCH_ENV


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tutor.tui", description=__doc__)
    parser.add_argument("--fresh", action="store_true", help="start a new session")
    parser.add_argument(
        "--bench",
        action="store_true",
        help="headless: print timing markers to stderr and exit when ready",
    )
    args = parser.parse_args(argv)
    if args.bench:
        os.environ[BENCH_ENV] = "1"
    from tutor.tui.app import run_app

    run_app(load_settings(), resume=not args.fresh)
