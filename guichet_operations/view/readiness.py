"""The agencies' readiness as the operations view shows it: each service's heartbeat file
(`DATA_DIR/<agency>.alive`, written by its loop) and, when the service's HTTP address is given,
what its /readyz answers and a few of its /metrics."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

from guichet.serve import healthy
from schemas.base import AGENCIES

TIMEOUT_SECONDS = 2.0
METRIC_LINES = 8


def _get(url: str) -> tuple[int | None, str]:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            return response.status, response.read(20_000).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:  # /readyz answers 503 when not ready: that is an answer
        return exc.code, exc.read(2_000).decode("utf-8", "replace")
    except (OSError, ValueError) as exc:
        return None, f"{type(exc).__name__}: {exc}"


def metrics_sample(text: str) -> list[str]:
    """The first few samples of a Prometheus text exposition, comments left out."""
    return [line for line in text.splitlines() if line and not line.startswith("#")][:METRIC_LINES]


def readiness(data_dir: Path | None, urls: dict[str, str]) -> list[dict]:
    rows = []
    for agency in AGENCIES:
        row = {"agency": agency, "heartbeat": None, "url": urls.get(agency)}
        if data_dir is not None:
            row["heartbeat"] = healthy(agency, data_dir)
        if row["url"]:
            base = row["url"].rstrip("/")
            row["readyz_status"], row["readyz"] = _get(base + "/readyz")
            status, text = _get(base + "/metrics")
            row["metrics_status"] = status
            row["metrics"] = metrics_sample(text) if status == 200 else [text[:200]]
        rows.append(row)
    return rows
