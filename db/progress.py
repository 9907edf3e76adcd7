"""Progress reporting for long work: one callable signature, a terminal bar for the CLI."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

# progress(what is happening, fraction done in 0..1)
ProgressFn = Callable[[str, float], None]


def no_progress(_label: str, _fraction: float) -> None:
    return None


class TerminalProgress:
    """A one-line bar on stderr, redrawn at most ten times a second; plain lines when not a terminal."""

    def __init__(self, stream: TextIO | None = None, width: int = 30) -> None:
        self.stream = stream or sys.stderr
        self.width = width
        self._last_draw = 0.0
        self._last_label = ""
        self._interactive = self.stream.isatty()

    def __call__(self, label: str, fraction: float) -> None:
        fraction = min(max(fraction, 0.0), 1.0)
        now = time.monotonic()
        if self._interactive:
            if now - self._last_draw < 0.1 and fraction < 1.0 and label == self._last_label:
                return
            filled = int(self.width * fraction)
            bar = "#" * filled + "-" * (self.width - filled)
            self.stream.write(f"\r[{bar}] {fraction:6.1%}  {label[:60]:<60}")
            self.stream.flush()
        elif label != self._last_label:
            self.stream.write(f"{fraction:6.1%}  {label}\n")
        self._last_draw = now
        self._last_label = label

    def __enter__(self) -> TerminalProgress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._interactive and self._last_label:
            self.stream.write("\n")
            self.stream.flush()
