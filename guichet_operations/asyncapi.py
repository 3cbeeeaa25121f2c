"""The AsyncAPI 3.0 document of the bus, generated from what the code declares: the message registry
(type, version, sender, recipient, step, JSON Schema with descriptions and examples), the envelope
they travel in and the topology (`Topology(PARTIES)`): one channel per exchange and per queue with
the arguments the bus declares them with (guichet_operations/asyncapi_topology.py), the operations
(asyncapi_operations.py), the signed receipts (asyncapi_receipts.py) and the journal anchors'
copies (asyncapi_anchors.py), the reasons a message is refused (error_reasons.py), the clock, AMQP
properties and security schemes (asyncapi_contract.py) and, when given, the conversation of each
title (asyncapi_conversations.py).

An agency writing its connector in another language reads the body schema of a message (the
envelope whose `payload` is that message), its AMQP headers, the routing key it is published
under and the queue it arrives in.
"""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from guichet.delivery_receipts import AccuseReception
from guichet.envelope import CONTENT_TYPE, Envelope
from guichet.message import Message
from guichet.refusals import NOTICE_TYPE as NOTICE
from guichet.topology import Topology
from guichet_operations.asyncapi_anchors import add_anchor_copies
from guichet_operations.asyncapi_contract import description, security_schemes, servers
from guichet_operations.asyncapi_examples import example_envelope
from guichet_operations.asyncapi_operations import failure_operations, receive_operations, send_operations
from guichet_operations.asyncapi_parts import REF, failure_messages, message_of
from guichet_operations.asyncapi_receipts import add_receipts, receipt_pairs
from guichet_operations.asyncapi_refusals import attach_refusals, refusal_message, refusal_schemas
from guichet_operations.asyncapi_topology import topology_channels
from guichet_operations.error_reasons import error_reasons

# Which failure message each channel holds, by channel id.
FAILURE_CHANNELS = {
    "erreurs": "failed",
    "vers.erreurs": "failed",
    "erreurs.archive": "failed",
    "vers.erreurs.archive": "failed",
    "retard": "late",
    "vers.retard": "late",
    "non_routes": "unrouted",
    "vers.non_routes": "unrouted",
}


def reason_schema() -> dict[str, Any]:
    """`x-guichet-error-reason`: one of the reasons the code gives, each with what it means."""
    reasons = error_reasons()
    return {
        "type": "string",
        "description": "Why the message was filed: " + "; ".join(f"`{k}`: {v}" for k, v in reasons.items()),
        "enum": list(reasons),
        "x-enum-descriptions": reasons,
    }


def _messages(classes: list[type[Message]], payload_ref: dict) -> dict[str, Any]:
    messages = {cls.TYPE: message_of(cls, payload_ref[cls]) for cls in classes}
    for cls in classes:
        example = example_envelope(cls)
        if example is not None:
            messages[cls.TYPE]["examples"] = [example]
    failures = failure_messages()
    failures["failed"]["headers"]["properties"]["x-guichet-error-reason"] = reason_schema()
    messages.update(failures)
    return messages


def _attach(channels: dict[str, Any], classes: list[type[Message]], topology: Topology, messages: dict) -> None:
    """Which messages travel on each channel."""
    ref = lambda key: {"$ref": f"#/components/messages/{key}"}  # noqa: E731
    parties = topology.parties
    channels["flux"]["messages"] = {c.TYPE: ref(c.TYPE) for c in classes}
    owners = {a: (a,) for a in parties.agencies} | dict(parties.outside)
    for owner, recipients in owners.items():
        channels[owner]["messages"] = {c.TYPE: ref(c.TYPE) for c in classes if c.RECIPIENT in recipients}
    for channel_id, message in FAILURE_CHANNELS.items():
        channels[channel_id]["messages"] = {message: ref(message)}
    for seconds in topology.retry_delays:
        for channel_id in (f"attente.{seconds:g}s", f"vers.attente.{seconds:g}s"):
            channels[channel_id]["messages"] = {"waiting": ref("waiting")}


def asyncapi_document(
    registry: dict[str, type[Message]],
    topology: Topology,
    *,
    host: str = "rabbitmq",
    vhost: str = "/",
    version: str = "0.1.0",
    conversations: dict[str, Any] | None = None,
) -> dict[str, Any]:
    classes = [registry[t] for t in sorted(registry)]
    models = [(Envelope, "validation"), (AccuseReception, "validation"), *((c, "validation") for c in classes)]
    refs, defs = models_json_schema(models, ref_template=REF)
    schemas = defs.get("$defs", {})
    payload_ref = {cls: refs[(cls, "validation")]["$ref"] for cls in classes}
    messages = _messages(classes, payload_ref)
    channels = topology_channels(topology, vhost)
    _attach(channels, classes, topology, messages)
    attach_refusals(channels, topology)
    messages |= {NOTICE: refusal_message()}
    schemas |= refusal_schemas()
    operations = {**send_operations(classes), **failure_operations(topology)}
    receipt_ref = refs[(AccuseReception, "validation")]["$ref"]
    add_receipts(receipt_pairs(registry, topology), receipt_ref, channels, messages, operations)
    add_anchor_copies(topology, channels, messages, schemas, operations)
    operations |= {**receive_operations(channels), **(conversations or {})}
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "guichet", "version": version, "description": description(topology)},
        "defaultContentType": CONTENT_TYPE,
        "servers": servers(host, vhost),
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": schemas,
            "messages": messages,
            "securitySchemes": security_schemes(topology),
        },
    }
