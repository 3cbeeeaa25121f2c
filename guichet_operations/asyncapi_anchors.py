"""The copies of the journal anchors in the AsyncAPI document (guichet/anchor_copies.py): each
agency publishes its signed anchors on the flow exchange under `<auditor>.<agency>.ancre_journal`,
received in the auditor's inbox (the ministry's queue). The body is the signed statement itself."""

from __future__ import annotations

from typing import Any

from guichet import anchor_copies
from guichet.journal_anchor import KIND
from guichet.topology import Topology
from guichet_operations.asyncapi_bindings import AMQP_BINDING
from guichet_operations.asyncapi_parts import REF
from guichet_operations.asyncapi_topology import owner_of

SCHEMA = "JournalAnchor"
HEX = {"type": "string", "pattern": "^[0-9a-f]{64}$"}


def anchor_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "title": "A journal anchor, signed by the agency whose journal it is",
        "description": "Record `seq` of `agency`'s journal has the hash `head`. `signature`: Ed25519 (base64) "
        "of the RFC 8785 canonical JSON of every other member, with the key `key_id` of the key directory "
        "(docs/keys.md); valid if the key was the agency's at `signed_at`.",
        "required": ["kind", "canonical", "agency", "seq", "head", "signed_at", "key_id", "signature"],
        "additionalProperties": False,
        "properties": {
            "kind": {"const": KIND},
            "canonical": {"const": "rfc8785"},
            "agency": {"type": "string"},
            "seq": {
                "type": "integer",
                "minimum": 1,
                "description": "The journal record the anchor proves, and every one before",
            },
            "head": HEX | {"description": "That record's hash"},
            "signed_at": {"type": "string", "format": "date-time"},
            "key_id": {"type": "string"},
            "signature": {"type": "string", "maxLength": 200},
        },
    }


def add_anchor_copies(
    topology: Topology, channels: dict[str, Any], messages: dict[str, Any], schemas: dict[str, Any], operations: dict
) -> None:
    auditor = topology.parties.auditor
    if auditor is None:
        return
    schemas[SCHEMA] = anchor_schema()
    inbox = owner_of(topology, topology.queue_name(auditor))
    for agency in topology.parties.agencies:
        key = anchor_copies.routing_key(auditor, agency)
        messages[key] = {
            "name": key,
            "title": f"{anchor_copies.anchor_type(agency)}: {agency} signs its journal's head",
            "summary": f"A copy of an anchor of {agency}'s journal, for the {auditor}'s safekeeping",
            "contentType": anchor_copies.CONTENT_TYPE,
            "headers": {
                "type": "object",
                "properties": {
                    "type": {"type": "string", "const": anchor_copies.anchor_type(agency)},
                    "version": {"type": "integer", "const": anchor_copies.VERSION},
                    "sender": {"type": "string", "const": agency},
                },
            },
            "payload": {"$ref": REF.format(model=SCHEMA)},
            "bindings": {"amqp": {"contentEncoding": "utf-8", "bindingVersion": AMQP_BINDING}},
            "x-guichet-routing-key": key,
        }
        ref = {"$ref": f"#/components/messages/{key}"}
        channels["flux"]["messages"][key] = ref
        channels[inbox].setdefault("messages", {})[key] = ref
        operations[f"send.{key}"] = {
            "action": "send",
            "channel": {"$ref": "#/channels/flux"},
            "title": f"{agency} copies its journal anchors to {auditor}",
            "summary": f"routing key {key}, once per anchor, after the broker's confirm marked copied",
            "messages": [{"$ref": f"#/channels/flux/messages/{key}"}],
            "x-guichet-routing-key": key,
        }
