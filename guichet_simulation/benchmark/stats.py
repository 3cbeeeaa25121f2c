"""Small, explicit statistics for the bench: nearest-rank percentiles and a process's peak RSS."""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path


def percentile(values: Iterable[float], q: float) -> float | None:
    """Nearest-rank percentile: a value that was actually observed, never an interpolation.

    With few samples p99 is the maximum; None when there is nothing to rank."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(values: Iterable[float], digits: int = 2) -> dict:
    """n, p50, p99 and max of a list of samples (milliseconds, say)."""
    values = list(values)
    out = {"n": len(values)}
    for name, q in (("p50", 50), ("p99", 99), ("max", 100)):
        value = percentile(values, q)
        out[name] = None if value is None else round(value, digits)
    return out


def peak_rss_kib(pid: int) -> int | None:
    """The kernel's high-water mark of the process's resident set (VmHWM), in KiB.

    One read at the end is enough: the kernel keeps the peak. None when the process is gone or
    /proc is not there (not Linux)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None


def mib(kib: int | None) -> float | None:
    return None if kib is None else round(kib / 1024, 1)


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 2) if seconds > 0 else 0.0
