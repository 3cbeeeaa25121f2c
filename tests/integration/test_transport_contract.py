"""What the runtime asks of a bus, asserted on both transports: the embedded one and RabbitMQ
(`broker` runs each test on both; the RabbitMQ half fails, never skips, when the broker is down).
The embedded broker keeps its TTLs on the bus's clock: a virtual clock here, moved by the test;
RabbitMQ keeps real time, so its delays are short and waited for on a condition."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from guichet.bus import Bus
from guichet.clock import SystemClock, VirtualClock
from guichet.timeutil import PARIS
from guichet.topology import Topology
from services.parties import PARTIES
from tests.conftest import wait_until

DELAY = 0.3


@pytest.fixture
def bus(broker, namespace):
    clock = VirtualClock(datetime(2026, 1, 5, 9, tzinfo=PARIS)) if broker == "memory://" else SystemClock()
    made = Bus(broker, Topology(PARTIES, namespace=namespace, retry_delays=(DELAY,)), clock=clock)
    assert made.declare() == {}
    yield made
    made.delete_topology()
    made.close()


def later(bus, seconds: float) -> None:
    """Let `seconds` pass on the bus's clock: moved on a virtual one, waited for on a real one."""
    if isinstance(bus.clock, VirtualClock):
        bus.clock.advance_to(bus.clock.now() + timedelta(seconds=seconds))


def raw(message) -> bytes:
    """The body as bytes: a UTF-8 body comes back as text on one transport, as bytes on the other."""
    return message.body if isinstance(message.body, bytes) else message.body.encode()


def take(bus, owner: str, what: str, timeout: float = 10):
    queue = bus.topology.queue_name(owner)
    return wait_until(lambda: bus.get(queue), timeout, what, interval=0.02)


def test_a_confirmed_publish_is_in_its_recipient_queue_with_its_properties(bus):
    message_id = str(uuid.uuid4())
    bus.publish('{"a": 1}', "ofii.essai", {"type": "essai"}, message_id)
    got = take(bus, "ofii", "the published message")
    assert (raw(got), got.headers["type"], got.properties["message_id"]) == (b'{"a": 1}', "essai", message_id)
    assert got.delivery_info["routing_key"] == "ofii.essai"
    got.ack()
    assert bus.get(bus.topology.queue_name("smoe")) is None, "routed to its recipient only"


def test_a_delayed_publish_comes_back_on_the_flow_after_its_delay_and_not_before(bus):
    bus.publish_later(DELAY, "retry", "smoe.essai", {"x-guichet-attempts": 1}, "m-1")
    own = bus.topology.queue_name("smoe")
    assert bus.get(own) is None, "held for its delay"
    if isinstance(bus.clock, VirtualClock):
        assert bus.next_due() == bus.clock.now() + timedelta(seconds=DELAY)
        later(bus, DELAY / 2)
        assert bus.get(own) is None, "not before its delay ran out"
        later(bus, DELAY)
    got = take(bus, "smoe", "the delayed message back")
    assert got.delivery_info["routing_key"] == "smoe.essai" and got.headers["x-guichet-attempts"] == 1
    got.ack()
    assert bus.next_due() is None


def test_a_batch_is_consumed_in_order_and_acked_together(bus):
    bus.publish_batch([(f"m{i}", "consulat.essai", {}, f"id-{i}", None) for i in range(5)])
    queue = bus.topology.queue_name("consulat")
    taken = [take(bus, "consulat", f"message {i}") for i in range(5)]
    assert [raw(m) for m in taken] == [f"m{i}".encode() for i in range(5)]
    bus.ack_batch(taken)
    bus.close()  # unacked deliveries would come back when the channel closes
    assert wait_until(lambda: bus.depth(queue) == 0 or None, 5, "an empty queue") is True


def test_a_transmission_that_outlives_its_ttl_goes_to_the_late_queue_with_its_death(bus):
    bus.publish("late", "prefecture.essai", {"type": "essai"}, "late-1", expiration=DELAY)
    later(bus, DELAY * 2)
    dead = take(bus, "retard", "the expired message in the late queue")
    death = dead.headers["x-death"][0]
    assert (death["reason"], death["queue"]) == ("expired", bus.topology.queue_name("prefecture"))
    assert death["routing-keys"] == ["prefecture.essai"] and raw(dead) == b"late"
    dead.ack()
    assert bus.get(bus.topology.queue_name("prefecture")) is None, "gone from its queue"


def test_a_delivery_rejected_without_requeue_is_dead_lettered_to_the_late_queue(bus):
    bus.publish("refused", "ofii.essai", {}, "r-1")
    take(bus, "ofii", "the message").reject(requeue=False)
    dead = take(bus, "retard", "the rejected message in the late queue")
    assert dead.headers["x-death"][0]["reason"] == "rejected" and raw(dead) == b"refused"
    dead.ack()


def test_an_error_filing_keeps_the_message_whole_under_its_key_with_its_context(bus):
    bus.to_error_queue(
        b"\xff raw", {"type": "essai"}, "application/json", {"reason": "undecodable", "message_id": "e-1"}, "ofii.essai"
    )
    filed = take(bus, "erreurs", "the filing")
    assert filed.body == b"\xff raw" and filed.delivery_info["routing_key"] == "ofii.essai"
    assert filed.headers["x-guichet-error-reason"] == "undecodable" and filed.headers["type"] == "essai"
    assert filed.headers["x-guichet-original-content-type"] == "application/json"
    filed.ack()
