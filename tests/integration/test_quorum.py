"""`--queue-type quorum`, for a RabbitMQ cluster: every queue of the bus is a quorum queue (the
agencies' with a delivery limit), and a dossier goes through them; a command that asks for another
queue type is refused with the queue named, instead of deciding the type silently."""

import json
import os
import subprocess

import pytest

from guichet.register_reader import read_state
from schemas.base import AGENCIES
from tests.conftest import delete_namespace, dossier, wait_until
from tests.services import guichet, running_services

pytestmark = pytest.mark.broker


def queue_types(namespace: str) -> dict[str, str]:
    out = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "name", "type", "arguments"], capture_output=True, text=True, timeout=60
    ).stdout
    return {line.split("\t")[0]: line for line in out.splitlines() if line.startswith(namespace + ".")}


def outcome(data) -> str | None:
    return (read_state("ofii", data, "Q-1") or {}).get("outcome")


OTHER_QUEUES = ("erreurs", "retard", "attente.1s", "attente.10s", "attente.60s", "usagers", "ministere", "non_routes")


def test_quorum_queues_with_a_delivery_limit_carry_a_dossier(amqp_url, namespace, tmp_path):
    quorum = {a: ["--queue-type", "quorum"] for a in AGENCIES}
    with running_services(amqp_url, namespace, tmp_path, 400_000, extra=quorum) as bus:
        queues = queue_types(namespace)
        for agency in AGENCIES:
            line = queues[f"{namespace}.{agency}"]
            assert "quorum" in line and "x-delivery-limit" in line
        for owner in OTHER_QUEUES:
            assert "\tquorum\t" in queues[f"{namespace}.{owner}"], queues[f"{namespace}.{owner}"]
        for owner in ("attente.1s", "attente.10s", "attente.60s"):
            assert "at-least-once" in queues[f"{namespace}.{owner}"]
        scenario = tmp_path / "s.json"
        scenario.write_text(
            json.dumps(
                {
                    "dossiers": [
                        dossier(id="Q-1", title="carte_bleue_europeenne", facts={"prefecture_production_days": 1})
                    ]
                }
            )
        )
        classic = subprocess.run(
            guichet("submit", str(scenario), *bus["bus"], *bus["clock"]),
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "GUICHET_QUEUE_TYPE": ""},
        )
        assert classic.returncode == 5, classic.stderr
        assert f"queue '{namespace}." in classic.stderr and "classic queue asked" in classic.stderr
        submitted = subprocess.run(
            guichet("submit", str(scenario), *bus["bus"], *bus["clock"]),
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "GUICHET_QUEUE_TYPE": "quorum"},
        )
        assert submitted.returncode == 0, submitted.stderr  # the same type everywhere: accepted
        wait_until(lambda: outcome(bus["data"]) == "titre_remis", 60, "the dossier through quorum queues")


def test_the_first_declarer_does_not_decide_the_queue_type(amqp_url, namespace, tmp_path):
    """`guichet errors list` on a fresh broker makes classic queues; a service asking for quorum ones
    then stops with the queue named (exit 5) instead of running on unreplicated queues."""
    try:
        listed = subprocess.run(
            guichet("errors", "list", "--broker", amqp_url, "--namespace", namespace),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert listed.returncode == 0, listed.stderr
        run = subprocess.run(
            guichet(
                "run",
                "smoe",
                "--broker",
                amqp_url,
                "--namespace",
                namespace,
                "--queue-type",
                "quorum",
                "--data-dir",
                str(tmp_path),
            ),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 5, run.stderr
        assert f"queue '{namespace}." in run.stderr and "quorum queue asked" in run.stderr
        assert "Traceback" not in run.stderr
    finally:
        delete_namespace(amqp_url, namespace)
