"""The refusal notice (guichet/refusals.py): what it may carry, and how the embedded bus delivers and
bounds it, with the sender claimed by the message when the bus has no per-party accounts."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import pytest

from guichet import agency as runtime
from guichet.agency import Agency, Outcome
from guichet.bus import Bus
from guichet.clock import VirtualClock
from guichet.envelope import InvalidPayload
from guichet.refusals import RefusalNotice, error_texts, notice_id, notice_schema
from guichet.register import Register
from guichet.runner import Runner
from guichet.timeutil import PARIS
from guichet.topology import REFUSAL_QUEUE_LENGTH, Topology
from guichet_operations.asyncapi import asyncapi_document
from schemas.catalogue import message_registry
from services.bootstrap import compose
from services.intake import filing
from services.parties import PARTIES
from tests.conftest import DIRECTORY, dossier, scenario

START = datetime(2026, 1, 5, 9, tzinfo=PARIS)


def test_the_notice_carries_ids_and_reasons_never_a_payload_or_a_person():
    fields = set(RefusalNotice.model_fields)
    assert fields == {
        "notice",
        "version",
        "notice_id",
        "message_id",
        "type",
        "dossier_id",
        "reason",
        "error",
        "errors",
        "recipient",
        "identified_by",
        "refused_by",
        "refused_at",
    }
    assert not fields & {"payload", "facts", "body", "name", "nom", "passport", "passeport", "sender", "office"}
    schema = notice_schema()
    assert schema["additionalProperties"] is False and set(schema["properties"]) == fields


def test_the_notice_id_is_one_per_message_receiver_and_sender():
    assert notice_id("m", "ofii", "employeur") == notice_id("m", "ofii", "employeur")
    others = {notice_id("m", "smoe", "employeur"), notice_id("n", "ofii", "employeur"), notice_id("m", "ofii", "smoe")}
    assert len(others | {notice_id("m", "ofii", "employeur")}) == 4
    assert isinstance(notice_id("m", "ofii", "employeur"), uuid.UUID)


def test_validation_errors_keep_where_and_what_never_the_value_refused():
    errors = [{"loc": ("payload", "granted"), "msg": "Input should be a valid boolean", "input": "Jean Dupont"}, "x: y"]
    assert error_texts(errors) == ["payload.granted: Input should be a valid boolean", "x: y"]
    assert error_texts([{"field": "payload.amount", "error": "Input should be a valid number"}]) == [
        "payload.amount: Input should be a valid number"
    ]
    assert error_texts(None) == []


@pytest.fixture
def ofii(tmp_path):
    bus = Bus("memory://", Topology(PARTIES, namespace=f"t{uuid.uuid4().hex[:8]}"))
    bus.declare()
    register = Register(str(tmp_path / "ofii.sqlite3"), "ofii")
    yield Runner(Agency(compose(DIRECTORY).agencies["ofii"], register, VirtualClock(START)), bus)
    register.close()
    bus.delete_topology()
    bus.close()


def refused_deposit(dossier_id: str) -> tuple[str, dict, str]:
    envelope = filing(dossier_id, scenario(dossier(id=dossier_id)).dossiers[0], "circulaire-2012", START, DIRECTORY)
    raw = json.loads(envelope.body())
    raw["payload"] = {}
    return json.dumps(raw), envelope.headers(), str(envelope.message_id)


def test_without_accounts_the_claimed_sender_is_told_and_the_notice_says_so(ofii):
    body, headers, message_id = refused_deposit("D-1")
    ofii.bus.publish(body, "ofii.employeur.depot_autorisation_travail", headers, message_id)
    assert ofii.poll_once()
    queue = ofii.bus.topology.refusal_queue_name("employeur")
    message = ofii.bus.get(queue)
    notice = RefusalNotice.model_validate_json(message.body)
    message.ack()
    assert (notice.message_id, notice.reason, notice.identified_by) == (message_id, "invalid_payload", "claimed_sender")
    assert notice.refused_at == START and notice.refused_by == "ofii"
    assert ofii.bus.get(queue) is None
    assert ofii.bus.get(ofii.bus.topology.queue_name("erreurs")) is not None, "still filed"


def test_a_handler_fault_is_told_without_its_exception(ofii):
    body, headers, message_id = refused_deposit("D-2")
    fault = Outcome("failed", reason="handler_error", error="KeyError: 'Jean Dupont'")
    notice = ofii.refusals.notice(body.encode(), headers, fault, None, message_id)
    assert notice is not None and "Dupont" not in notice.model_dump_json()


def test_notices_nobody_reads_stay_within_the_bound_on_the_embedded_bus(ofii):
    exchange = ofii.bus.topology.refusals_exchange
    for n in range(REFUSAL_QUEUE_LENGTH + 5):
        ofii.bus.publish(str(n), "employeur", {}, str(n), exchange=exchange)
    assert ofii.bus.depth(ofii.bus.topology.refusal_queue_name("employeur")) == REFUSAL_QUEUE_LENGTH
    assert ofii.bus.get(ofii.bus.topology.refusal_queue_name("employeur")).body in (b"5", "5")


def test_the_asyncapi_document_names_each_party_s_refusal_queue_and_the_notice_schema():
    document = asyncapi_document(message_registry(), Topology(PARTIES, namespace="gu"))
    assert document["channels"]["refusals"]["address"] == "gu.refusals"
    for party in (*PARTIES.agencies, "employeur"):
        channel = document["channels"][f"{party}.refusals"]
        assert channel["address"] == f"gu.{party}.refusals"
        assert list(channel["messages"]) == ["refusal_notice"]
        assert channel["x-guichet-declare"]["arguments"]["x-overflow"] == "drop-head"
        assert document["operations"][f"receive.{party}.refusals"]["action"] == "receive"
    assert document["components"]["schemas"]["RefusalNotice"] == notice_schema()


def test_a_notice_waiting_in_its_queue_does_not_move_the_simulator_s_clock(ofii):
    """Its TTL drops it; only what expires to somewhere (a retry, a late transmission) is due."""
    ofii.bus.publish("{}", "employeur", {}, "n", exchange=ofii.bus.topology.refusals_exchange)
    assert ofii.bus.next_due() is None


def test_every_validation_error_the_codec_lists_reaches_the_notice(ofii, monkeypatch):
    """The codec may list every error of a payload (`errors` on the exception): all are told."""
    refused = InvalidPayload("payload.granted: Input should be a valid boolean (and 1 more)")
    refused.errors = [  # type: ignore[attr-defined]  # set by a codec that lists them
        {"loc": ["payload", "granted"], "msg": "Input should be a valid boolean", "input": "yes"},
        {"loc": ["payload", "amount"], "msg": "Input should be a valid number", "input": "5200"},
    ]
    monkeypatch.setattr(runtime, "decode", lambda *a, **k: (_ for _ in ()).throw(refused))
    body, headers, message_id = refused_deposit("D-3")
    outcome = ofii.agency.process(body, headers)
    notice = ofii.refusals.notice(body, headers, outcome, None, message_id)
    assert notice is not None and notice.errors == [
        "payload.granted: Input should be a valid boolean",
        "payload.amount: Input should be a valid number",
    ]
    assert "5200" not in notice.model_dump_json()
