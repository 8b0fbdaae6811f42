"""Timing markers for benchmarks/startup.py: written straight to a file descriptor,
because Textual captures sys.stdout and sys.stderr while it runs."""

from __future__ import annotations

import os
import time

BENCH_ENV = "TUTOR_TUI_BENCH"
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
    def __init__(self, fd: int = 2, *, exit_when_ready: bool = True) -> None:
        self.fd = fd
        self.exit_when_ready = exit_when_ready
        self.t0 = time.monotonic()

    def mark(self, name: str, **values: object) -> None:
        extra = "".join(f" {k}={v}" for k, v in values.items())
        line = f"{MARKER} {name} t={time.monotonic() - self.t0:.4f}{extra}\n"
        os.write(self.fd, line.encode())
