"""A progress line on a terminal for large simulations: standard output carries the JSON alone."""

from __future__ import annotations

import time
from datetime import datetime
from typing import IO

MIN_DOSSIERS = 200  # smaller scenarios finish before a line would help
EVERY_SECONDS = 0.5


class ProgressLine:
    def __init__(self, stream: IO[str], total: int, clock=time.monotonic):
        self.stream, self.total, self._clock = stream, total, clock
        self._started = self._shown = clock()
        self._last = ""

    def __call__(self, progress, now: datetime | None) -> None:
        moment = self._clock()
        if moment - self._shown < EVERY_SECONDS:
            return
        self._shown = moment
        elapsed = moment - self._started
        if now is not None:
            text = (
                f"simulate: {progress.filed}/{self.total} dossiers filed, virtual date {now:%Y-%m-%d}, "
                f"{progress.messages} messages, {elapsed:.0f} s"
            )
        else:
            text = f"simulate: writing {progress.written}/{self.total} dossiers, {elapsed:.0f} s"
        self.stream.write("\r" + text.ljust(len(self._last)))
        self.stream.flush()
        self._last = text

    def close(self) -> None:
        if self._last:
            self.stream.write("\n")
            self.stream.flush()
