"""Index builds in a child process, so the app's memory never holds the build's.

A build imports Chroma and embeds passages in batches; done inside the app, on top of
the chat model and the embedding model, that pushed a first run's peak RSS to the
limit. The child gets the settings as JSON on stdin and reports on stdout, one JSON
object a line: {"progress": message, "fraction": f}, then {"stats": ...} or {"error": ...}.
An interrupted child loses nothing: builds resume from what is already stored.

    python -m tutor.corpus.build_worker < settings.json
"""

from __future__ import annotations

import atexit
import json
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

from tutor.corpus.errors import CorpusError
from tutor.settings import Settings

Progress = Callable[[str, float | None], None]

_children: set[subprocess.Popen[str]] = set()
_children_lock = threading.Lock()


def _stop_children() -> None:
    # The app is closing: a half-done build resumes next time, so stop it now.
    with _children_lock:
        for child in list(_children):
            if child.poll() is None:
                child.terminate()


def build_in_subprocess(settings: Settings, progress: Progress) -> dict[str, Any]:
    """Run one build in a child Python; return its stats, raise CorpusError if it failed."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tutor.corpus.build_worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with _children_lock:
        if not _children:
            atexit.register(_stop_children)
        _children.add(proc)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    stderr: list[str] = []
    drain = threading.Thread(target=lambda: stderr.extend(proc.stderr or []), daemon=True)
    drain.start()
    stats: dict[str, Any] | None = None
    error: str | None = None
    try:
        proc.stdin.write(settings.model_dump_json())
        proc.stdin.close()
        for line in proc.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue  # a library printing to stdout; only our JSON lines count
            if not isinstance(message, dict):
                continue
            if "progress" in message:
                fraction = message.get("fraction")
                shown = float(fraction) if isinstance(fraction, int | float) else None
                progress(str(message["progress"]), shown)
            elif "stats" in message:
                stats = message["stats"]
            elif "error" in message:
                error = str(message["error"])
        code = proc.wait()
    finally:
        with _children_lock:
            _children.discard(proc)
    drain.join(timeout=5)
    if error is not None:
        raise CorpusError(error)
    if code != 0 or stats is None:
        last = next((s.strip() for s in reversed(stderr) if s.strip()), "no message")
        raise CorpusError(
            f"the index build stopped (exit {code}: {last}); run 'tutor corpus build' to see why"
        )
    return stats


def main() -> int:
    from tutor.corpus.index import build_index

    def say(payload: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(payload) + "\n")
        sys.stdout.flush()

    try:
        settings = Settings.model_validate_json(sys.stdin.read())
        stats = build_index(settings, progress=lambda m, f: say({"progress": m, "fraction": f}))
    except CorpusError as exc:
        say({"error": str(exc)})
        return 1
    say({"stats": stats.to_dict()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
