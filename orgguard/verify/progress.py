"""A tiny progress display: a redrawn bar on a terminal, plain lines in CI logs."""

from __future__ import annotations

import sys
import threading
from typing import TextIO


class Progress:
    def __init__(self, total: int, *, enabled: bool | None = None, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.total = total
        self.done = 0
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = True if enabled is None else enabled
        self._lock = threading.Lock()
        self._last_percent = -1

    def step(self, label: str) -> None:
        if not self.enabled:
            return
        with self._lock:
            self.done += 1
            if self.tty:
                width = 30
                filled = width * self.done // max(self.total, 1)
                bar = "#" * filled + "-" * (width - filled)
                self.stream.write(f"\rverify [{bar}] {self.done}/{self.total} {label[:40]:<40}")
                if self.done >= self.total:
                    self.stream.write("\n")
            else:
                percent = 100 * self.done // max(self.total, 1)
                # Plain lines, at most one per 10 %, so a thousand targets stay a readable log.
                if percent // 10 != self._last_percent // 10 or self.done == self.total:
                    self._last_percent = percent
                    self.stream.write(f"verify: {self.done}/{self.total} targets done ({percent}%), last {label}\n")
            self.stream.flush()
