"""A real Alertmanager, configured from deploy/alertmanager, receives alerts as Prometheus sends them:
RabbitMQ down holds back the queue alerts it causes, and leaves the référent's deadline alerts alone."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import wait_until
from tests.monitoring import free_port, http_get

CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "alertmanager" / "alertmanager.yml"
BINARY = "prometheus-alertmanager"  # Debian's name for alertmanager


@pytest.fixture
def alertmanager(tmp_path):
    if shutil.which(BINARY) is None:
        pytest.fail(
            f"{BINARY} is missing: scripts/setup-monitoring installs it (Debian package prometheus-alertmanager)"
        )
    port = free_port()
    log = tmp_path / "alertmanager.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                BINARY,
                f"--config.file={CONFIG}",
                f"--storage.path={tmp_path / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",  # one instance of the test's own, no gossip
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: process.poll() is None and http_get(f"{url}/-/ready")[0] == 200, 30, "alertmanager ready")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def post(url: str, alerts: list[dict]) -> None:
    request = urllib.request.Request(
        f"{url}/api/v2/alerts", json.dumps(alerts).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


def status(url: str) -> dict[str, dict]:
    code, body = http_get(f"{url}/api/v2/alerts")
    assert code == 200, body
    return {a["labels"]["alertname"]: a["status"] for a in json.loads(body)}


def test_rabbitmq_down_holds_back_the_queue_alerts_not_the_referents(alertmanager):
    post(
        alertmanager,
        [
            {
                "labels": {
                    "alertname": "GuichetRabbitMQDown",
                    "severity": "critical",
                    "team": "astreinte",
                    "component": "rabbitmq",
                    "job": "rabbitmq",
                    "instance": "rabbitmq:15692",
                }
            },
            {
                "labels": {
                    "alertname": "GuichetQueueWithoutConsumer",
                    "severity": "critical",
                    "team": "astreinte",
                    "component": "file",
                    "vhost": "/",
                    "queue": "guichet.smoe",
                }
            },
            {
                "labels": {
                    "alertname": "GuichetServiceNotReady",
                    "severity": "critical",
                    "team": "astreinte",
                    "component": "service",
                    "agency": "smoe",
                    "instance": "smoe:9102",
                }
            },
            {
                "labels": {
                    "alertname": "GuichetDeadlineBreach",
                    "severity": "warning",
                    "team": "referent",
                    "component": "delai",
                    "agency": "smoe",
                    "step": "decision_autorisation_travail",
                }
            },
        ],
    )

    def received() -> dict[str, dict] | None:
        found = status(alertmanager)
        return found if len(found) == 4 else None

    found = wait_until(received, 30, "the four alerts received")
    assert found["GuichetQueueWithoutConsumer"]["state"] == "suppressed"
    assert found["GuichetQueueWithoutConsumer"]["inhibitedBy"]
    assert found["GuichetServiceNotReady"]["state"] == "suppressed"
    assert found["GuichetRabbitMQDown"]["state"] == "active"
    assert found["GuichetDeadlineBreach"]["state"] == "active" and not found["GuichetDeadlineBreach"]["inhibitedBy"]
