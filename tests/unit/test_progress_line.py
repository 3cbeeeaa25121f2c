"""The progress line of a large simulation rewrites itself on standard error."""

import io
from datetime import UTC, datetime

from guichet_simulation.progress import ProgressLine


class Ticks:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        self.now += 1.0
        return self.now


def test_the_progress_line_rewrites_itself_on_standard_error():
    stream = io.StringIO()
    line = ProgressLine(stream, 1000, clock=Ticks())

    class P:
        filed, messages, written = 250, 4000, 0

    line(P, datetime(2026, 3, 1, tzinfo=UTC))
    P.written = 1000
    line(P, None)
    line.close()
    text = stream.getvalue()
    assert text.startswith("\rsimulate: 250/1000 dossiers filed, virtual date 2026-03-01, 4000 messages")
    assert "\rsimulate: writing 1000/1000 dossiers" in text and text.endswith("\n")
