"""The end of a process's log, for an error message that says why a process died."""

from __future__ import annotations

from pathlib import Path


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:]) or "(empty)"
    except OSError:
        return "(no log)"
