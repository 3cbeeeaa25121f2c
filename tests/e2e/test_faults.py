"""The running services under faults: bad messages on every agency's queue, a dropped broker
connection, an unroutable message. Nothing stops, nothing is lost."""

import json
import subprocess

import pytest

from guichet.bus import Bus
from guichet.register_reader import read_state
from guichet.topology import Topology
from schemas.base import AGENCIES
from services.parties import PARTIES
from tests.conftest import dossier, wait_until
from tests.integration.test_error_queue import BAD, EXPECTED_REASON, addressed_to
from tests.services import guichet, running_services

pytestmark = pytest.mark.broker
QUICK = {
    "visa_instruction_days": 1,
    "arrival_days_after_visa": 0,
    "titre_deposit_days_after_arrival": 0,
    "prefecture_production_days": 1,
}


def outcome(data, dossier_id: str):
    return (read_state("ofii", data, dossier_id) or {}).get("outcome")


def submit(bus, tmp_path, dossier_id: str) -> None:
    scenario = tmp_path / f"{dossier_id}.json"
    scenario.write_text(json.dumps({"dossiers": [dossier(id=dossier_id, title="carte_bleue_europeenne", facts=QUICK)]}))
    subprocess.run(
        guichet("submit", str(scenario), *bus["bus"], *bus["clock"]), check=True, capture_output=True, timeout=60
    )


def drain(amqp_url, namespace, queue: str) -> list:
    bus = Bus(amqp_url, Topology(PARTIES, namespace=namespace))
    got = []
    try:
        while (message := bus.get(bus.topology.queue_name(queue))) is not None:
            got.append(dict(message.headers or {}))
            message.ack()
    finally:
        bus.close()
    return got


def test_ten_kinds_of_bad_message_on_every_agency_queue_and_a_valid_dossier_still_completes(
    amqp_url, namespace, tmp_path
):
    with running_services(amqp_url, namespace, tmp_path, 400_000) as bus:
        raw = Bus(amqp_url, Topology(PARTIES, namespace=namespace))
        channel = raw.publishing.default_channel
        for agency in AGENCIES:
            for body, content_type in BAD.values():
                channel.basic_publish(
                    channel.prepare_message(body, content_type=content_type),
                    exchange=f"{namespace}.flux",
                    routing_key=addressed_to(agency, body),
                )
        raw.close()
        submit(bus, tmp_path, "AFTER-BAD")
        wait_until(lambda: outcome(bus["data"], "AFTER-BAD") == "titre_remis", 60, "the valid dossier")
        failed: list = []
        failures = wait_until(lambda: drain_into(failed, amqp_url, namespace), 30, "40 messages in the error queue")
        for agency, proc in bus["procs"].items():
            assert proc.poll() is None, f"{agency} stopped"
    by_queue = {}
    for headers in failures:
        by_queue.setdefault(headers["x-guichet-error-queue"], []).append(headers["x-guichet-error-reason"])
    expected = [EXPECTED_REASON.get(kind, kind) for kind in BAD]
    for agency in AGENCIES:
        # The préfecture knows the act of production, but not the dossier it names.
        here = [("unknown_dossier" if agency == "prefecture" and r == "not_for_this_agency" else r) for r in expected]
        assert sorted(by_queue[f"{namespace}.{agency}"]) == sorted(here)


def drain_into(acc: list, amqp_url, namespace) -> list | None:
    acc.extend(drain(amqp_url, namespace, "erreurs"))
    return acc if len(acc) >= 4 * len(BAD) else None


def test_services_survive_a_dropped_connection_and_unroutable_messages_are_kept(amqp_url, namespace, tmp_path):
    with running_services(amqp_url, namespace, tmp_path, 400_000) as bus:
        closed = subprocess.run(
            ["rabbitmqctl", "close_all_connections", "guichet test: dropped connection"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert closed.returncode == 0, closed.stderr
        submit(bus, tmp_path, "AFTER-DROP")
        wait_until(
            lambda: outcome(bus["data"], "AFTER-DROP") == "titre_remis",
            90,
            "the dossier after every connection was closed by the broker",
        )
        for agency, proc in bus["procs"].items():
            assert proc.poll() is None, f"{agency} stopped"
        raw = Bus(amqp_url, Topology(PARTIES, namespace=namespace))
        raw.publish('{"lost": false}', "nobody.listens", {}, "unroutable-1")
        raw.close()
        kept = wait_until(lambda: drain(amqp_url, namespace, "non_routes"), 10, "the unroutable message")
        assert len(kept) == 1
    assert bus["stopped"] == dict.fromkeys(AGENCIES, 0)
