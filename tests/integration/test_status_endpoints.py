"""`guichet run --http-port`: /livez, /readyz and /metrics of the four services on RabbitMQ, and a
service whose broker is unreachable: alive, not ready, saying why."""

import json
import subprocess

import pytest

from guichet.register_reader import read_states
from schemas.base import AGENCIES
from tests.conftest import dossier, wait_until
from tests.monitoring import free_port, handled_in_journal, http_get, samples, total
from tests.services import guichet, running_services

pytestmark = pytest.mark.broker

TIME_SCALE = 400_000  # a legal day in about 0.2 s


def test_four_services_answer_livez_readyz_and_count_what_they_handled(amqp_url, namespace, tmp_path):
    ports = {agency: free_port() for agency in AGENCIES}
    extra = {agency: ["--http-port", str(port)] for agency, port in ports.items()}
    with running_services(amqp_url, namespace, tmp_path, TIME_SCALE, extra=extra) as bus:
        data = bus["data"]
        scenario = tmp_path / "scenario.json"
        scenario.write_text(json.dumps({"dossiers": [dossier(id="M")]}))
        subprocess.run(
            guichet("submit", str(scenario), *bus["bus"], "--repeat", "3", *bus["clock"]),
            check=True,
            capture_output=True,
            timeout=60,
        )
        # While the dossiers are under way, the tasks they opened are read from the registers at scrape time.
        wait_until(
            lambda: total(samples(ports["ofii"]), "guichet_deadline_tasks_open", agency="ofii") > 0,
            30,
            "open tasks at the OFII",
        )
        wait_until(
            lambda: [s.get("outcome") for s in read_states("ofii", data).values()] == ["titre_remis"] * 3,
            90,
            "three dossiers at titre_remis",
        )
        for agency, port in ports.items():
            assert http_get(f"http://127.0.0.1:{port}/livez")[0] == 200, agency
            assert http_get(f"http://127.0.0.1:{port}/readyz") == (200, "consuming\n"), agency
            found = samples(port)
            assert total(found, "guichet_ready", agency=agency) == 1
            assert total(found, "guichet_messages_published_total", agency=agency) > 0, agency
            assert total(found, "guichet_handler_seconds_count", agency=agency) > 0, agency
            assert total(found, "guichet_delivery_latency_seconds_count", agency=agency) > 0, agency
            # Every handled message is in the journal once; reminders may still arrive, so wait for both to agree.
            wait_until(
                lambda port=port, agency=agency: (
                    total(samples(port), "guichet_messages_consumed_total", agency=agency, outcome="handled")
                    == handled_in_journal(agency, data)
                    > 0
                ),
                30,
                f"{agency}'s handled count to match its journal",
            )
        # No dossier or message id as a label: a series per dossier would grow without end.
        labels = {value for port in ports.values() for _, ls in samples(port) for _, value in ls}
        assert not any(value.startswith("M-") or value.count("-") == 4 for value in labels), labels
        health = subprocess.run(
            guichet("health", "smoe", "--url", f"http://127.0.0.1:{ports['smoe']}"),
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert health.returncode == 0 and "smoe: ready: consuming" in health.stdout, health.stdout + health.stderr


def test_a_service_whose_broker_is_unreachable_is_alive_but_not_ready_and_says_why(tmp_path):
    closed, port = free_port(), free_port()
    data = tmp_path / "data"
    with open(tmp_path / "ofii.log", "wb") as log:
        proc = subprocess.Popen(
            guichet(
                "run",
                "ofii",
                "--broker",
                f"amqp://guest:guest@127.0.0.1:{closed}//",
                "--data-dir",
                str(data),
                "--http-port",
                str(port),
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(
            lambda: "broker unreachable" in http_get(f"http://127.0.0.1:{port}/readyz")[1],
            30,
            "/readyz to give the reason",
        )
        code, reason = http_get(f"http://127.0.0.1:{port}/readyz")
        assert code == 503 and "Connection refused" in reason, reason
        assert http_get(f"http://127.0.0.1:{port}/livez")[0] == 200
        assert total(samples(port), "guichet_ready", agency="ofii") == 0
        # The heartbeat beats while the service waits to reconnect: the file-based health check says alive.
        alive = wait_until(
            lambda: (
                subprocess.run(
                    guichet("health", "ofii", "--data-dir", str(data)), capture_output=True, text=True, timeout=30
                ).returncode
                == 0
            ),
            30,
            "the heartbeat during the reconnect backoff",
        )
        assert alive
        health = subprocess.run(
            guichet("health", "ofii", "--url", f"http://127.0.0.1:{port}"), capture_output=True, text=True, timeout=30
        )
        assert health.returncode == 1 and "ofii: not ready: broker unreachable" in health.stdout, health.stdout
        assert proc.poll() is None, (tmp_path / "ofii.log").read_text()
    finally:
        proc.terminate()
        assert proc.wait(timeout=20) == 0
