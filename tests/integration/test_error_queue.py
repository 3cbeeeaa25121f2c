"""Bad messages never stop an agency: each goes to the error queue whole, with why, and the next
valid message is processed. Once on the in-memory transport, once on RabbitMQ."""

import json
from datetime import datetime

import pytest

from guichet.agency import Agency
from guichet.bus import Bus
from guichet.clock import VirtualClock
from guichet.envelope import Sender, wrap
from guichet.register import Register
from guichet.runner import Runner
from guichet.timeutil import PARIS
from guichet.topology import Topology
from schemas.remise import RemiseTitre
from services.bootstrap import compose
from services.intake import filing
from services.parties import PARTIES
from tests.conftest import DIRECTORY, delete_namespace, dossier, scenario

OFII = compose(DIRECTORY).agencies["ofii"]

START = datetime(2026, 1, 5, 9, tzinfo=PARIS)


def valid_envelope(**changes) -> dict:
    env = wrap(RemiseTitre(card_number="1"), dossier_id="D-1", sender=Sender(agency="ofii"), sent_at=START)
    raw = json.loads(env.body())
    raw.update(changes)
    return raw


BAD = {
    "undecodable": (b"\x00\xff garbage", "application/json"),
    "not_an_object": (b"[]", "application/json"),
    "wrong_content_type": (json.dumps(valid_envelope()).encode(), "text/plain"),
    "unknown_type": (json.dumps(valid_envelope(type="ofii.inconnu")).encode(), "application/json"),
    "version_too_high": (json.dumps(valid_envelope(version=7)).encode(), "application/json"),
    "invalid_payload": (json.dumps(valid_envelope(payload={"card_number": None})).encode(), "application/json"),
    "wrong_sender": (json.dumps(valid_envelope(sender={"agency": "consulat"})).encode(), "application/json"),
    "missing_dossier_id": (
        json.dumps({k: v for k, v in valid_envelope().items() if k != "dossier_id"}).encode(),
        "application/json",
    ),
    "bad_date": (json.dumps(valid_envelope(sent_at="yesterday")).encode(), "application/json"),
    "not_for_this_agency": (
        json.dumps(
            valid_envelope(
                type="prefecture.agent.titre_produit",
                recipient="prefecture",
                sender={"agency": "prefecture"},
                payload={},
            )
        ).encode(),
        "application/json",
    ),
}
EXPECTED_REASON = {
    "not_an_object": "undecodable",
    "missing_dossier_id": "invalid_payload",
    "bad_date": "invalid_payload",
    "version_too_high": "unsupported_version",
    "wrong_sender": "unknown_sender",
}


def addressed_to(agency: str, body: bytes) -> str:
    """The key a connector sends a body under, `<agency>.<its type>`; one without a type under any
    key addressed to the agency (the codec refuses it for what its body lacks)."""
    try:
        return f"{agency}.{json.loads(body)['type']}"
    except (ValueError, KeyError, TypeError):
        return f"{agency}.anything"


@pytest.fixture
def ofii_runner(broker, namespace, tmp_path):
    bus = Bus(broker, Topology(PARTIES, namespace=namespace))
    bus.declare()
    runner = Runner(Agency(OFII, Register(str(tmp_path / "ofii.sqlite3"), "ofii"), VirtualClock(START)), bus)
    yield runner, bus
    runner.agency.register.close()
    delete_namespace(broker, namespace)
    bus.close()


def test_ten_kinds_of_bad_message_land_in_the_error_queue_and_a_valid_dossier_still_goes_on(ofii_runner):
    runner, bus = ofii_runner
    for body, content_type in BAD.values():
        bus.publishing.default_channel.basic_publish(
            bus.publishing.default_channel.prepare_message(body, content_type=content_type),
            exchange=bus.topology.flow.name,
            routing_key=addressed_to("ofii", body),
        )
    good = filing("D-OK", scenario(dossier(id="D-OK")).dossiers[0], "circulaire-2012", START, DIRECTORY)
    bus.publish_envelope(good)

    handled = 0
    while runner.poll_once():
        handled += 1
    assert handled == len(BAD) + 1
    assert runner.agency.register.state("D-OK")["waiting_for"] == "transmission_smoe"

    errors_queue = bus.topology.queue_name("erreurs")
    reasons, bodies = [], []
    while (message := bus.get(errors_queue)) is not None:
        bodies.append(message.body if isinstance(message.body, bytes) else message.body.encode())
        headers = message.headers
        assert headers["x-guichet-error-queue"] == runner.queue_name
        assert headers["x-guichet-error-message"] and headers["x-guichet-error-first-failure"]
        reasons.append(headers["x-guichet-error-reason"])
        message.ack()
    expected = [EXPECTED_REASON.get(kind, kind) for kind in BAD]
    assert reasons == expected
    assert bodies == [body for body, _ in BAD.values()], "every failed message is kept whole, byte for byte"
