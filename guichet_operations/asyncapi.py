"""The AsyncAPI 3.0 document of the bus, generated from what the code declares: the message
registry (type, version, sender, recipient, step, JSON Schema with descriptions and examples),
the envelope they travel in and the topology (`Topology(PARTIES)`): the flow exchange, one channel
per queue, the wait, late and error queues, and how a party authenticates.

An agency writing its connector in another language reads the body schema of a message (the
envelope whose `payload` is that message), its AMQP headers, the routing key it is published
under and the queue it arrives in.
"""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from guichet.envelope import CONTENT_TYPE, Envelope
from guichet.message import Message
from guichet.topology import Topology
from guichet_operations.asyncapi_parts import (
    AMQP_BINDING,
    REF,
    exchange_binding,
    failure_messages,
    message_of,
    queue_binding,
)
from guichet_operations.asyncapi_refusals import refusal_parts


def asyncapi_document(
    registry: dict[str, type[Message]],
    topology: Topology,
    *,
    host: str = "rabbitmq",
    vhost: str = "/",
    version: str = "0.1.0",
) -> dict[str, Any]:
    classes = [registry[t] for t in sorted(registry)]
    refs, defs = models_json_schema([(Envelope, "validation"), *((c, "validation") for c in classes)], ref_template=REF)
    schemas = defs.get("$defs", {})
    payload_ref = {cls: refs[(cls, "validation")]["$ref"] for cls in classes}
    messages = {cls.TYPE: message_of(cls, payload_ref[cls]) for cls in classes}
    messages.update(failure_messages())
    ns, parties = topology.namespace, topology.parties
    ref = lambda key: {"$ref": f"#/components/messages/{key}"}  # noqa: E731

    channels: dict[str, Any] = {
        "flux": {
            "address": topology.flow.name,
            "title": "The flow exchange",
            "description": "Topic exchange of every message; routing key `<recipient>.<type>`. Unroutable "
            f"messages go to its alternate exchange `{topology.unrouted_exchange.name}`.",
            "messages": {t: ref(t) for t in messages if t in registry},
            "bindings": exchange_binding(topology.flow.name, "topic", vhost),
        }
    }
    owners = {a: (a,) for a in parties.agencies} | dict(parties.outside)
    for owner, recipients in owners.items():
        held = [c.TYPE for c in classes if c.RECIPIENT in recipients]
        kind = "agency" if owner in parties.agencies else "outside parties' (" + ", ".join(recipients) + ")"
        channels[owner] = {
            "address": topology.queue_name(owner),
            "title": f"{owner} queue",
            "description": f"The {kind} queue, bound to "
            + ", ".join(f"`{r}.#`" for r in recipients)
            + f" on `{topology.flow.name}`.",
            "messages": {t: ref(t) for t in held},
            "bindings": queue_binding(topology.queue_name(owner), vhost),
        }
    failure = [
        (
            "erreurs",
            "failed",
            "The error queue: what can never succeed or failed every retry, with "
            "x-guichet-error-* headers; `guichet errors` lists and replays it",
        ),
        ("retard", "late", "Transmissions dead-lettered from an agency queue past their legal deadline"),
        ("non_routes", "unrouted", "Messages the flow exchange could route to no queue"),
    ]
    failure += [
        (f"attente.{s:g}s", "waiting", f"Retry after {s:g} s: dead-lettered back to the flow exchange")
        for s in topology.retry_delays
    ]
    for owner, message, text in failure:
        channels[owner] = {
            "address": topology.queue_name(owner),
            "description": text,
            "messages": {message: ref(message)},
            "bindings": queue_binding(topology.queue_name(owner), vhost),
        }

    operations: dict[str, Any] = {}
    for cls in classes:
        operations[f"send.{cls.TYPE}"] = {
            "action": "send",
            "channel": {"$ref": "#/channels/flux"},
            "title": f"{cls.SENDER} sends {cls.TYPE}",
            "summary": f"{cls.SENDER} → {cls.RECIPIENT}, routing key {cls.RECIPIENT}.{cls.TYPE}",
            "messages": [{"$ref": f"#/channels/flux/messages/{cls.TYPE}"}],
            "bindings": {
                "amqp": {
                    "cc": [f"{cls.RECIPIENT}.{cls.TYPE}"],
                    "deliveryMode": 2,
                    "mandatory": False,
                    "bindingVersion": AMQP_BINDING,
                }
            },
        }
    for owner, channel in channels.items():
        if owner == "flux":
            continue
        operations[f"receive.{owner}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{owner}"},
            "summary": f"consume {channel['address']}",
            "messages": [{"$ref": f"#/channels/{owner}/messages/{m}"} for m in channel["messages"]],
            "bindings": {"amqp": {"ack": True, "bindingVersion": AMQP_BINDING}},
        }

    refusals = refusal_parts(topology, vhost)
    channels |= refusals["channels"]
    operations |= refusals["operations"]
    messages |= refusals["messages"]
    schemas |= refusals["schemas"]

    security = [{"$ref": "#/components/securitySchemes/account"}]
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "guichet",
            "version": version,
            "description": "The OFII 'guichet unique' for qualified foreign workers between the DT-OFII, the "
            "SMOE, the consulates and the préfectures (circulaire NOR INTV1231400C), on "
            f"RabbitMQ. Every name below is prefixed with the namespace `{ns}`.",
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "rabbitmq": {
                "host": f"{host}:5672",
                "protocol": "amqp",
                "protocolVersion": "0-9-1",
                "pathname": vhost,
                "description": "RabbitMQ",
                "security": security,
            },
            "rabbitmq-tls": {
                "host": f"{host}:5671",
                "protocol": "amqps",
                "protocolVersion": "0-9-1",
                "pathname": vhost,
                "description": "RabbitMQ over TLS; the server's certificate and name are always verified",
                "security": security,
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": schemas,
            "messages": messages,
            "securitySchemes": {
                "account": {
                    "type": "userPassword",
                    "description": "One broker account per agency, an operator and an employers' portal "
                    "(`guichet broker setup`); each may publish only its own message types and "
                    "read only its own queue.",
                }
            },
        },
    }
