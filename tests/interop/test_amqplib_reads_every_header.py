"""A connector in another language reads every header the bus writes: real deliveries on the real
RabbitMQ (an ordinary flow message, one published in a batch, a delayed retry that came back
through its wait queue, a filing in the error queue, a late transmission relayed, a message the
broker dead-lettered, a refusal notice) are consumed by stock amqplib, which must decode each of them, and every
header of the table (guichet/amqp_headers.py) with the JSON type the table documents."""

import time
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from guichet.admission import AccountPlan
from guichet.amqp_headers import BROKER, BUS, BY_NAME, HEADERS
from guichet.bus import Bus
from guichet.dead_letters import DeadLetters
from guichet.envelope import Envelope, Sender, wrap
from guichet.hooks import Hooks
from guichet.late_relay import LateRelay
from guichet.metrics import Metrics
from guichet.outcome import Outcome
from guichet.refusals import Refusals
from guichet.retry_policy import RetryPolicy
from guichet.topology import Topology
from schemas.visa import TransmissionConsulat
from services.parties import PARTIES
from tests.conftest import MESSAGES, delete_namespace, wait_until

pytestmark = pytest.mark.broker
WAIT = 0.2  # the retry's wait queue, in seconds
NOW = datetime(2026, 1, 5, 9, tzinfo=UTC)
# What amqplib gives for each JSON type of the table (typeOf in tests/interop/amqp/consume.mjs).
DECODED_AS = {"string": {"string"}, "integer": {"integer"}, "number": {"integer", "number"}, "boolean": {"boolean"}}
DECODED_AS["array"] = {"array"}
# One value of each JSON type, for the headers a test run does not produce by itself.
SAMPLE = {"string": "x", "integer": 3, "number": 1.5, "boolean": True}
TRACE = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "tracestate": "guichet=1"}


def envelope(dossier_id: str) -> Envelope:
    example = {name: f.examples[0] for name, f in TransmissionConsulat.model_fields.items() if f.examples}
    message = TransmissionConsulat.model_validate(example)
    return wrap(message, dossier_id=dossier_id, sender=Sender(agency="ofii"), sent_at=NOW)


def test_amqplib_decodes_every_delivery_and_every_header_with_its_documented_type(
    amqp_url, namespace, amqplib_consume, finished_spans
):
    topology = Topology(PARTIES, namespace=namespace, retry_delays=(WAIT,))
    bus = Bus(amqp_url, topology)
    consulat, errors, late = (topology.queue_name(q) for q in ("consulat", "erreurs", "retard"))
    notices = topology.refusal_queue_name("ofii")
    clock = SimpleNamespace(now=lambda: NOW)
    agency = SimpleNamespace(name="ofii", clock=clock, messages=MESSAGES, trust=None)
    agency.definition = SimpleNamespace(late_alert=None)
    hooks = Hooks(Metrics("ofii"))
    dead_letters = DeadLetters(agency, bus, SimpleNamespace(filing_key=lambda key: key), hooks, consulat)
    try:
        bus.declare()
        # Two transmissions that expire in the consulate's queue (a queue expires only what is at
        # its head, so both before anything else): the first relayed late, the second left in
        # the late queue as the broker dead-lettered it (x-death, x-first-death-*).
        bus.publish_envelope(envelope("D-LATE"), expiration=0.05)
        bus.publish_envelope(envelope("D-DEAD"), expiration=0.05)
        wait_until(lambda: bus.depth(late) == 2, 10, "the expired transmissions in the late queue")
        LateRelay(agency, bus, dead_letters, hooks).on_late(bus.get(late))

        bus.publish_envelope(envelope("D-FLOW"))
        batched = envelope("D-BATCH")
        batch = [(batched.body().decode(), batched.routing_key, batched.headers(), str(batched.message_id), None)]
        bus.publish_batch(batch)
        retried = envelope("D-RETRY")
        headers = RetryPolicy.next_headers(retried.headers(), 0, NOW, "boom")
        bus.publish_later(WAIT, retried.body().decode(), retried.routing_key, headers, str(retried.message_id))
        failed = envelope("D-FAILED")
        outcome = Outcome(
            "error", envelope=failed, reason="handler_failed", error="boom", details={"exception": "RuntimeError"}
        )
        assert dead_letters.file_failure(
            failed.body(),
            RetryPolicy.next_headers(failed.headers(), 0, NOW, "boom"),
            "application/json",
            outcome,
            failed.routing_key,
            str(failed.message_id),
        )
        refused = Outcome("rejected", envelope=failed, reason="invalid_payload", error="payload.x: missing")
        unchecked = SimpleNamespace(account_prefix=None, plan=AccountPlan())
        assert Refusals(agency, bus, unchecked).notify(failed.body(), failed.headers(), refused, None, None)
        # The headers of a replay, an archive and a trace state, which this run does not produce,
        # and an integer beyond 32 bits, which py-amqp alone would write with the tag amqplib refuses.
        unwritten = [h for h in HEADERS if h.writer not in (BUS, BROKER) and h.json_type in SAMPLE]
        others = {h.name: SAMPLE[h.json_type] for h in unwritten}
        sample = envelope("D-SAMPLE")
        extra = {**others, **sample.headers(), **TRACE, "x-test-big": 2**40, "x-test-none": None}
        bus.publish(sample.body().decode(), sample.routing_key, extra, str(sample.message_id))
        wait_until(lambda: bus.depth(consulat) == 5, 10, "the retried message back in the consulate's queue")
    finally:
        bus.close()
    try:
        deliveries = amqplib_consume(amqp_url, [consulat, errors, late, notices], expected=8)
    finally:
        delete_namespace(amqp_url, namespace)

    [notice] = [d for d in deliveries if d["queue"] == notices]
    assert notice["headers"]["type"] == "refusal_notice" and notice["headers"]["refused_by"] == "ofii"
    assert notice["types"]["version"] == "integer"
    deliveries = [d for d in deliveries if d is not notice]
    by_dossier = {d["headers"].get("dossier_id"): d for d in deliveries}
    assert len(deliveries) == 7 and set(by_dossier) == {f"D-{d}" for d in ("LATE", "DEAD", "FLOW", "BATCH")} | {
        "D-RETRY",
        "D-FAILED",
        "D-SAMPLE",
    }
    seen = set()
    for delivery in [*deliveries, notice]:
        for name, kind in delivery["types"].items():
            if name in BY_NAME:
                seen.add(name)
                assert kind in DECODED_AS[BY_NAME[name].json_type], (name, kind, delivery["headers"][name])
        assert delivery["types"]["timestamp_in_ms"] in ("integer", "number")
        assert abs(delivery["headers"]["timestamp_in_ms"] / 1000 - time.time()) < 600
        assert delivery["properties"]["messageId"]
    assert seen == set(BY_NAME), f"never delivered: {set(BY_NAME) - seen}"

    relayed, dead = by_dossier["D-LATE"]["headers"], by_dossier["D-DEAD"]
    assert relayed["x-guichet-late"] is True and "x-death" not in relayed
    assert dead["queue"] == late and dead["headers"]["x-first-death-reason"] == "expired"
    retry = by_dossier["D-RETRY"]["headers"]
    assert retry["x-guichet-attempts"] == 1
    assert retry["x-death"][0]["queue"] == topology.queue_name(f"attente.{WAIT:g}s")
    filing = by_dossier["D-FAILED"]
    assert filing["queue"] == errors and filing["headers"]["x-guichet-error-reason"] == "handler_failed"
    assert filing["headers"]["x-guichet-error-attempts"] == 2 and filing["headers"]["x-guichet-filing-id"]
    sampled = by_dossier["D-SAMPLE"]
    assert sampled["headers"]["x-test-big"] == 2**40 and sampled["types"]["x-test-big"] == "integer"
    assert "x-test-none" not in sampled["headers"]
    assert all(d["headers"].get("traceparent") for d in deliveries), "every publish carries its trace context"
