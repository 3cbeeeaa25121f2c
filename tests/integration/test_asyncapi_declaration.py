"""Every exchange and queue declared as the AsyncAPI document says, with pika (another client than
the bus's kombu) on the real RabbitMQ: a connector that starts before the bus, then the bus
declaring its topology, meets no PRECONDITION_FAILED; and once the bus declared it, the document's
declaration is equivalent to what exists."""

from __future__ import annotations

from urllib.parse import urlparse

import pika
import pytest
from kombu import Connection

from guichet.topology import Topology
from guichet_cli.commands.asyncapi_cmd import document
from services.parties import PARTIES
from tests.conftest import delete_namespace

pytestmark = pytest.mark.broker


def connect(url: str, doc: dict) -> pika.BlockingConnection:
    """On the document's virtual host (pika reads kombu's `amqp://host//` as the empty vhost)."""
    parsed = urlparse(url)
    return pika.BlockingConnection(
        pika.ConnectionParameters(
            parsed.hostname,
            parsed.port or 5672,
            doc["servers"]["rabbitmq"]["pathname"],
            pika.PlainCredentials(parsed.username or "guest", parsed.password or "guest"),
        )
    )


def declare_as_documented(url: str, doc: dict) -> list[str]:
    """Declare what the document's `x-guichet-declare` says, exchanges first; the names declared."""
    declared = []
    connection = connect(url, doc)
    try:
        channel = connection.channel()
        entities = [c["x-guichet-declare"] for c in doc["channels"].values()]
        for e in (e for e in entities if "exchange" in e):
            channel.exchange_declare(
                e["exchange"], e["type"], durable=e["durable"], auto_delete=e["autoDelete"], arguments=e["arguments"]
            )
            declared.append(e["exchange"])
        for q in (e for e in entities if "queue" in e):
            channel.queue_declare(
                q["queue"],
                durable=q["durable"],
                exclusive=q["exclusive"],
                auto_delete=q["autoDelete"],
                arguments=q["arguments"],
            )
            for b in q["bindings"]:
                channel.queue_bind(q["queue"], b["exchange"], routing_key=b["routingKey"])
            declared.append(q["queue"])
    finally:
        connection.close()
    return declared


def bus_declares(url: str, topology: Topology) -> None:
    with Connection(url) as connection:
        assert topology.declare(connection) == {}


@pytest.mark.parametrize("queue_type", ["classic", "quorum"])
def test_a_connector_declaring_first_as_documented_agrees_with_the_bus(amqp_url, namespace, queue_type):
    doc = document(namespace, queue_type=queue_type)
    topology = Topology(PARTIES, namespace=namespace, queue_type=queue_type)
    try:
        declared = declare_as_documented(amqp_url, doc)
        expected = {e.name for e in topology.exchanges()} | {q.name for q in topology.queues()}
        assert set(declared) == expected, "the document declares every exchange and queue of the bus"
        bus_declares(amqp_url, topology)  # raises TopologyMismatch on any difference
    finally:
        delete_namespace(amqp_url, namespace)


@pytest.mark.parametrize("queue_type", ["classic", "quorum"])
def test_declaring_as_documented_after_the_bus_is_equivalent(amqp_url, namespace, queue_type):
    doc = document(namespace, queue_type=queue_type)
    topology = Topology(PARTIES, namespace=namespace, queue_type=queue_type)
    try:
        bus_declares(amqp_url, topology)
        declare_as_documented(amqp_url, doc)  # PRECONDITION_FAILED would raise here
    finally:
        delete_namespace(amqp_url, namespace)


def test_a_declaration_other_than_documented_is_refused(amqp_url, namespace):
    """The check can fail: an agency queue declared without its dead-letter exchange is refused."""
    doc = document(namespace)
    topology = Topology(PARTIES, namespace=namespace)
    try:
        bus_declares(amqp_url, topology)
        consulat = doc["channels"]["consulat"]["x-guichet-declare"]
        connection = connect(amqp_url, doc)
        try:
            with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="PRECONDITION_FAILED"):
                connection.channel().queue_declare(consulat["queue"], durable=True, arguments={})
        finally:
            connection.close()
    finally:
        delete_namespace(amqp_url, namespace)
