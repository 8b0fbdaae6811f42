"""Timing markers for benchmarks/startup.py: written straight to a file descriptor,
because Textual captures sys.stdout and sys.stderr while it runs."""

from __future__ import annotations

import os
import time

BENCH_ENV = "TUTOR_TUI_BENCH"
QUESTION_ENV = "TUTOR_TUI_BENCH_QUESTION"
"""If set, the app also asks this after the lesson opens, so the embedding model and
the generation path are loaded before the last marker (the peak-RSS figure)."""
MARKER = "TUTOR_BENCH"


def peak_rss_kb() -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class BenchReporter:
    def __init__(self, fd: int = 2, *, question: str | None = None) -> None:
        self.fd = fd
        self.question = question
        self.t0 = time.monotonic()

    @classmethod
    def from_env(cls) -> BenchReporter | None:
        if not os.environ.get(BENCH_ENV):
            return None
        return cls(question=os.environ.get(QUESTION_ENV) or None)

    def mark(self, name: str, **values: object) -> None:
        extra = "".join(f" {k}={v}" for k, v in values.items())
        line = f"{MARKER} {name} t={time.monotonic() - self.t0:.4f}{extra}\n"
        os.write(self.fd, line.encode())
