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

AMQP_BINDING = "0.3.0"
REF = "#/components/schemas/{model}"
ERROR_HEADERS = (
    "reason",
    "exception",
    "message",
    "traceback",
    "attempts",
    "queue",
    "routing-key",
    "first-failure",
    "last-failure",
    "message_id",
)


def _queue_binding(name: str, vhost: str) -> dict:
    return {
        "amqp": {
            "is": "queue",
            "queue": {"name": name, "durable": True, "exclusive": False, "autoDelete": False, "vhost": vhost},
            "bindingVersion": AMQP_BINDING,
        }
    }


def _exchange_binding(name: str, type_: str, vhost: str) -> dict:
    return {
        "amqp": {
            "is": "routingKey",
            "exchange": {"name": name, "type": type_, "durable": True, "autoDelete": False, "vhost": vhost},
            "bindingVersion": AMQP_BINDING,
        }
    }


def _example(cls: type[Message]) -> dict | None:
    """A payload made of the first example of every field, if the class accepts it."""
    values = {name: field.examples[0] for name, field in cls.model_fields.items() if field.examples}
    try:
        return cls.model_validate(values).model_dump(mode="json")
    except Exception:  # a field without example, or examples that only make sense apart
        return None


def _headers(cls: type[Message]) -> dict:
    """The envelope's AMQP headers (guichet/envelope.py: Envelope.headers)."""
    return {
        "type": "object",
        "required": ["type", "version", "dossier_id", "sender"],
        "properties": {
            "type": {"type": "string", "const": cls.TYPE, "description": "The message type"},
            "version": {
                "type": "integer",
                "minimum": 1,
                "maximum": cls.VERSION,
                "description": "The payload's version; a version above the known one is refused",
            },
            "dossier_id": {"type": "string", "description": "The dossier the message is about"},
            "sender": {"type": "string", "const": cls.SENDER, "description": "The party that sent it"},
        },
    }


def _body(cls: type[Message], payload_ref: str) -> dict:
    """The body on the wire: the envelope, whose `payload` is this message."""
    return {
        "title": f"{cls.TYPE} v{cls.VERSION}",
        "description": (cls.__doc__ or "").strip(),
        "allOf": [{"$ref": REF.format(model="Envelope")}],
        "properties": {
            "type": {"const": cls.TYPE},
            "version": {"type": "integer", "maximum": cls.VERSION},
            "recipient": {"const": cls.RECIPIENT},
            "sender": {"type": "object", "properties": {"agency": {"const": cls.SENDER}}},
            "payload": {"$ref": payload_ref},
        },
    }


def _message(cls: type[Message], payload_ref: str) -> dict:
    doc = (cls.__doc__ or cls.TYPE).strip()
    message = {
        "name": cls.TYPE,
        "title": f"{cls.TYPE} (v{cls.VERSION})",
        "summary": doc.splitlines()[0],
        "description": f"{doc}\n\nSent by `{cls.SENDER}` to `{cls.RECIPIENT}`, version {cls.VERSION}"
        + (f", step `{cls.STEP}`" if cls.STEP else "")
        + ".",
        "contentType": CONTENT_TYPE,
        "headers": _headers(cls),
        "payload": _body(cls, payload_ref),
        "correlationId": {"description": "The dossier", "location": "$message.payload#/dossier_id"},
        "tags": [{"name": cls.SENDER}],
        "bindings": {"amqp": {"messageType": cls.TYPE, "bindingVersion": AMQP_BINDING}},
        "x-guichet-version": cls.VERSION,
        "x-guichet-sender": cls.SENDER,
        "x-guichet-recipient": cls.RECIPIENT,
        "x-guichet-routing-key": f"{cls.RECIPIENT}.{cls.TYPE}",
    }
    if cls.STEP:
        message["x-guichet-step"] = cls.STEP
    example = _example(cls)
    if example is not None:
        message["examples"] = [
            {
                "name": "example",
                "headers": {"type": cls.TYPE, "version": cls.VERSION, "dossier_id": "D-1", "sender": cls.SENDER},
                "payload": {
                    "type": cls.TYPE,
                    "version": cls.VERSION,
                    "dossier_id": "D-1",
                    "sender": {"agency": cls.SENDER},
                    "recipient": cls.RECIPIENT,
                    "sent_at": "2026-01-05T09:00:00+01:00",
                    "payload": example,
                },
            }
        ]
    return message


def _failure_messages() -> dict:
    """What the wait, late and error queues hold: a flow message, whole, with headers of their own."""
    envelope = {"$ref": REF.format(model="Envelope")}
    error_headers = {
        "type": "object",
        "properties": {
            f"x-guichet-error-{h}": {
                "type": "string" if h != "attempts" else "integer",
                "description": f"Why it failed: {h}",
            }
            for h in ERROR_HEADERS
        },
    }
    error_headers["properties"]["x-guichet-history"] = {
        "type": "string",
        "description": "JSON list of the failures before the last replay",
    }
    return {
        "failed": {
            "name": "failed",
            "title": "A message that can never succeed or failed every retry",
            "contentType": CONTENT_TYPE,
            "headers": error_headers,
            "payload": {"description": "The original body, whole (possibly not JSON)"},
        },
        "waiting": {
            "name": "waiting",
            "title": "A flow message waiting for its next attempt",
            "contentType": CONTENT_TYPE,
            "payload": envelope,
            "headers": {
                "type": "object",
                "properties": {"x-guichet-attempts": {"type": "integer", "description": "Attempts made so far"}},
            },
        },
        "late": {
            "name": "late",
            "title": "A transmission that expired in its recipient's queue (past its "
            "legal deadline); relayed back and reported to the référent",
            "contentType": CONTENT_TYPE,
            "payload": envelope,
        },
        "unrouted": {
            "name": "unrouted",
            "title": "A message no queue was bound to take",
            "contentType": CONTENT_TYPE,
            "payload": envelope,
        },
    }


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
    messages = {cls.TYPE: _message(cls, payload_ref[cls]) for cls in classes}
    messages.update(_failure_messages())
    ns, parties = topology.namespace, topology.parties
    ref = lambda key: {"$ref": f"#/components/messages/{key}"}  # noqa: E731

    channels: dict[str, Any] = {
        "flux": {
            "address": topology.flow.name,
            "title": "The flow exchange",
            "description": "Topic exchange of every message; routing key `<recipient>.<type>`. Unroutable "
            f"messages go to its alternate exchange `{topology.unrouted_exchange.name}`.",
            "messages": {t: ref(t) for t in messages if t in registry},
            "bindings": _exchange_binding(topology.flow.name, "topic", vhost),
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
            "bindings": _queue_binding(topology.queue_name(owner), vhost),
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
            "bindings": _queue_binding(topology.queue_name(owner), vhost),
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
