"""`guichet bench` and `guichet chaos` on a signed bus: the services sign and check every message,
and each filing is signed with the key of the employer that files it (by SIRET), as the employers'
portal signs; nothing is refused. Without the employer's own key, the filing cannot be signed."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.services import guichet

pytestmark = pytest.mark.broker

BENCH_SIRET = "73282932000074"  # the employer of the example's carte bleue, bench's dossier
CHAOS_SIRET = "55208131766522"  # the employer of every chaos dossier


def keys_for(tmp_path, *sirets: str) -> list[str]:
    """`keys init` for the agencies, the worker and these employers; the options that sign with them."""
    root, directory = tmp_path / "keys", tmp_path / "public" / "directory.json"
    done = subprocess.run(
        guichet(
            "keys", "init", "--keys-root", str(root), "--directory", str(directory), "--employers", ",".join(sirets)
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    folders = os.pathsep.join(str(root / f) for f in ("ofii", "smoe", "consulat", "prefecture", "portal"))
    return ["--key-directory", str(directory), "--keys-dir", folders]


def test_bench_on_a_signed_bus_signs_each_filing_with_its_employers_key(amqp_url, tmp_path):
    # --rate: three dossiers, and no raw relay to measure after them.
    done = subprocess.run(
        guichet(
            "bench",
            "--broker",
            amqp_url,
            "--rate",
            "13",
            "--seconds",
            "3",
            "--timeout",
            "120",
            "--json",
            *keys_for(tmp_path, BENCH_SIRET),
        ),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout)
    assert figures["dossiers_done"] == figures["dossiers"] == 3
    assert figures["error_queue"] == 0, "a signature was refused"


def test_chaos_on_a_signed_bus_loses_nothing(amqp_url, tmp_path):
    done = subprocess.run(
        guichet(
            "chaos",
            "--broker",
            amqp_url,
            "--dossiers",
            "3",
            "--kill-every",
            "2",
            "--seed",
            "1",
            "--broker-restart",
            "none",
            "--timeout",
            "240",
            "--json",
            *keys_for(tmp_path, CHAOS_SIRET),
        ),
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["lost"] == 0 and report["duplicated"] == 0 and len(report["kills"]) >= 1


def test_bench_without_the_employers_key_cannot_sign_its_filing(amqp_url, tmp_path):
    done = subprocess.run(
        guichet(
            "bench",
            "--broker",
            amqp_url,
            "--rate",
            "13",
            "--seconds",
            "1",
            "--timeout",
            "60",
            *keys_for(tmp_path, CHAOS_SIRET),
        ),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr[-3000:]
    assert f"guichet bench: no valid signing key of employeur '{BENCH_SIRET}'" in done.stderr
    assert "Traceback" not in done.stderr
