"""The refusal notices in the AsyncAPI document (guichet/refusals.py): the refusal exchange, one
queue per sending party, the notice's message and schema, and each party's receive operation.
Self-contained, so that any generator of the document adds it with `refusal_parts`."""

from __future__ import annotations

from typing import Any

from guichet.amqp_headers import BY_NAME
from guichet.envelope import CONTENT_TYPE
from guichet.refusals import NOTICE_TYPE, NOTICE_VERSION, notice_schema
from guichet.topology import REFUSAL_QUEUE_LENGTH, REFUSAL_TTL_SECONDS, Topology
from guichet_operations.asyncapi_parts import AMQP_BINDING, REF, exchange_binding, queue_binding

SCHEMA = "RefusalNotice"


def refusal_parts(topology: Topology, vhost: str = "/") -> dict[str, dict[str, Any]]:
    """`channels`, `operations`, `messages` and `schemas` to merge into the document's own."""
    message = {
        "name": NOTICE_TYPE,
        "title": "A refusal notice: a message of this party was refused, and why",
        "summary": "Ids, reason and error texts of the refusal; never the refused payload",
        "contentType": CONTENT_TYPE,
        "headers": {
            "type": "object",
            "properties": {
                "type": BY_NAME["type"].schema() | {"const": NOTICE_TYPE},
                "version": BY_NAME["version"].schema() | {"const": NOTICE_VERSION},
                "refused_by": BY_NAME["refused_by"].schema(),
            },
        },
        "payload": {"$ref": REF.format(model=SCHEMA)},
    }
    ref = {"$ref": f"#/components/messages/{NOTICE_TYPE}"}
    exchange = topology.refusals_exchange.name
    channels: dict[str, Any] = {
        "refusals": {
            "address": exchange,
            "title": "The refusal exchange",
            "description": "Topic exchange the agencies publish refusal notices on, under the routing key of the "
            "party notified (the account that published the refused message), once the refused message is filed "
            "in the error queue. An agency's account may write only the names of the parties it receives from.",
            "messages": {NOTICE_TYPE: ref},
            "bindings": exchange_binding(exchange, "topic", vhost),
        }
    }
    operations: dict[str, Any] = {}
    for party in topology.parties.notified:
        name, key = topology.refusal_queue_name(party), f"refusals.{party}"
        channels[key] = {
            "address": name,
            "title": f"{party} refusal queue",
            "description": f"The refusal notices of {party}, bound to `{party}` on `{exchange}`, readable by its own "
            f"account only. Bounded: {REFUSAL_QUEUE_LENGTH} notices at most (the oldest dropped first, "
            f"`x-overflow: drop-head`), each kept {REFUSAL_TTL_SECONDS // 86400} days at most (`x-message-ttl`).",
            "messages": {NOTICE_TYPE: ref},
            "bindings": queue_binding(name, vhost),
        }
        operations[f"receive.{key}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{key}"},
            "summary": f"{party} reads why its messages were refused: consume {name}",
            "messages": [{"$ref": f"#/channels/{key}/messages/{NOTICE_TYPE}"}],
            "bindings": {"amqp": {"ack": True, "bindingVersion": AMQP_BINDING}},
        }
    return {
        "channels": channels,
        "operations": operations,
        "messages": {NOTICE_TYPE: message},
        "schemas": {SCHEMA: notice_schema()},
    }
