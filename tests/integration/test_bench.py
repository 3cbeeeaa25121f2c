"""`guichet bench` end to end on the real RabbitMQ: the four services as processes, 5 dossiers,
then the raw relay chain; the figures must be there and make sense."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

BROKER = os.environ.get("GUICHET_TEST_BROKER", "amqp://guest:guest@127.0.0.1:5672//")


@pytest.mark.broker
def test_bench_five_dossiers_reports_every_figure():
    # No skip when the broker is down: `guichet bench` exits 3 and the assertion below fails.
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "guichet_cli",
            "bench",
            "--dossiers",
            "5",
            "--broker",
            BROKER,
            "--json",
            "--timeout",
            "120",
            "--supervision",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    figures = json.loads(proc.stdout)

    assert figures["dossiers_done"] == 5
    # The supervision service beside the bus took the agencies' copies and shows the five dossiers.
    supervision = figures["supervision"]
    assert supervision["copies"] > 0 and supervision["lag_ms"]["max"] >= supervision["lag_ms"]["p50"] >= 0
    assert supervision["dossiers_in_store"] == 5 and supervision["caught_up_s"] is not None
    # The services batch up to `guichet run`'s prefetch; the raw relay keeps the prefetch it always had.
    assert (figures["prefetch"], figures["relay_prefetch"]) == (100, 20)
    assert figures["outcomes"] == {"titre_remis": 5}
    assert figures["dossiers_per_s"] > 0
    assert figures["messages_per_s"] > 0
    assert figures["error_queue"] == 0 and figures["unrouted"] == 0
    for agency in ("ofii", "smoe", "consulat", "prefecture"):
        assert figures["peak_rss_mib"][agency] > 0, agency
    assert "all" in figures["latency_ms"] and len(figures["latency_ms"]) > 1
    for hop, s in figures["latency_ms"].items():
        assert s["n"] > 0, hop
        assert s["p99"] >= s["p50"] >= 0, (hop, s)

    raw = figures["raw"]
    assert raw["hops"] == round(figures["deliveries_per_dossier"])
    assert raw["messages_per_s"] > 0
    assert raw["delivered_to_sink"] == 5
    assert figures["ratio"] > 0


def test_bench_refuses_the_in_memory_broker():
    proc = subprocess.run(
        [sys.executable, "-m", "guichet_cli", "bench", "--broker", "memory://"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "amqp://" in proc.stderr
