"""Nothing lost, nothing doubled: `guichet chaos` on a small scale, with SIGKILLed services and a
RabbitMQ restart."""

import json
import socket
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.broker


def broker_port_open() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5672), timeout=2):
            return True
    except OSError:
        return False


def test_chaos_with_killed_services_and_a_broker_restart_loses_and_doubles_nothing(amqp_url):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "guichet_cli",
            "chaos",
            "--dossiers",
            "16",
            "--broker",
            amqp_url,
            "--kill-every",
            "2",
            "--seed",
            "3",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    deadline = time.monotonic() + 60
    while not broker_port_open() and time.monotonic() < deadline:  # the broker must be back for the next tests
        time.sleep(0.5)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert report["broker_restarts"] == 1 and len(report["kills"]) >= 2
    assert report["lost"] == 0 and report["duplicated"] == 0
    assert all(d["ok"] for d in report["dossiers"]) and len(report["dossiers"]) == 16
    assert {d["expected"] for d in report["dossiers"]} >= {
        "titre_remis",
        "titre_a_retirer_en_prefecture",
        "autorisation_travail_refusee",
        "hors_guichet_unique",
    }
