"""`--queue-type quorum`, for a RabbitMQ cluster: the agencies' queues are quorum queues with a
delivery limit, and a dossier goes through them; other commands leave those queues as they are."""
import json
import subprocess

import pytest

from guichet.register_reader import read_state
from schemas.base import AGENCIES
from tests.conftest import dossier, wait_until
from tests.services import guichet, running_services

pytestmark = pytest.mark.broker


def queue_types(namespace: str) -> dict[str, str]:
    out = subprocess.run(["rabbitmqctl", "-q", "list_queues", "name", "type", "arguments"],
                         capture_output=True, text=True, timeout=60).stdout
    return {line.split("\t")[0]: line for line in out.splitlines() if line.startswith(namespace + ".")}


def outcome(data) -> str | None:
    return (read_state("ofii", data, "Q-1") or {}).get("outcome")


def test_quorum_agency_queues_with_a_delivery_limit_carry_a_dossier(amqp_url, namespace, tmp_path):
    quorum = {a: ["--queue-type", "quorum"] for a in AGENCIES}
    with running_services(amqp_url, namespace, tmp_path, 400_000, extra=quorum) as bus:
        queues = queue_types(namespace)
        for agency in AGENCIES:
            line = queues[f"{namespace}.{agency}"]
            assert "quorum" in line and "x-delivery-limit" in line
        scenario = tmp_path / "s.json"
        scenario.write_text(json.dumps({"dossiers": [dossier(id="Q-1", title="carte_bleue_europeenne",
                                                             facts={"prefecture_production_days": 1})]}))
        submitted = subprocess.run(guichet("submit", str(scenario), *bus["bus"], *bus["clock"]),
                                   capture_output=True, text=True, timeout=60)
        assert submitted.returncode == 0, submitted.stderr  # no PRECONDITION_FAILED on the quorum queues
        wait_until(lambda: outcome(bus["data"]) == "titre_remis", 60, "the dossier through quorum queues")
