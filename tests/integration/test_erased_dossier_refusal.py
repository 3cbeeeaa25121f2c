"""A message for a dossier an agency erased, over the real RabbitMQ: refused with the reason
`dossier_erased` and filed in the error queue without its body, so that the refusal puts none of
the person's data back on the broker (docs/retention.md, "A message arriving later for an erased
dossier"; RGPD art. 17)."""

import json
from datetime import UTC, datetime

import pytest

from guichet.agency import Agency
from guichet.bus import Bus
from guichet.clock import VirtualClock
from guichet.register import Register
from guichet.registers.erasure import ERASED_REASON, Erasure, erase
from guichet.runner import Runner
from guichet.topology import Topology
from guichet_operations.error_queue import ErrorQueue, Selection
from services.parties import PARTIES
from tests.conftest import dossier, wait_until
from tests.integration.test_agency_runtime import OFII, START, filing

pytestmark = pytest.mark.broker

SURNAME = "ZYGMUNTOWICZ"


def test_a_filing_for_an_erased_dossier_is_refused_and_filed_without_the_persons_data(amqp_url, namespace, tmp_path):
    bus = Bus(amqp_url, Topology(PARTIES, namespace=namespace, retry_delays=()))
    bus.declare()
    register = Register(str(tmp_path / "ofii.sqlite3"), "ofii")
    erase(register, [Erasure("D-1", "decision", "demande n° 17", "dpo", datetime(2026, 1, 2, tzinfo=UTC))])
    runner = Runner(Agency(OFII, register, VirtualClock(START), simulate_actors=False), bus)
    try:
        bus.publish_envelope(filing(dossier(worker={"surname": SURNAME, "given_names": "Wiesława"})))

        def filed():
            runner.poll_once()
            return ErrorQueue(bus).browse(Selection())

        entries = wait_until(filed, 30, "the refused filing in the error queue")
        assert [(e.reason, e.dossier_id) for e in entries] == [(ERASED_REASON, "D-1")]
        assert SURNAME.encode() not in entries[0].body
        assert json.loads(entries[0].body)["erased"] is True
        assert SURNAME not in json.dumps(entries[0].headers, default=str)
        assert register.state("D-1") is None, "the dossier was not opened again"
    finally:
        register.close()
        bus.delete_topology()
        bus.close()
