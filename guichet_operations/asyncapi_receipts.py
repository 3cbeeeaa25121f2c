"""The signed receipts in the AsyncAPI document (guichet/delivery_receipts.py): one message per
receiver and sender, published on the flow exchange under `<sender>.<receiver>.accuse_reception`
and received in the sender's queue. Every receipt's payload has the one schema `AccuseReception`."""

from __future__ import annotations

from typing import Any

from guichet.delivery_receipts import receipt_class
from guichet.message import Message
from guichet.topology import Topology
from guichet_operations.asyncapi_operations import send_operations
from guichet_operations.asyncapi_parts import message_of


def receipt_pairs(registry: dict[str, type[Message]], topology: Topology) -> list[tuple[str, str]]:
    """(receiver, sender): each agency acknowledges what another agency sends it."""
    agencies = set(topology.parties.agencies)
    pairs = {
        (c.RECIPIENT, c.SENDER)
        for c in registry.values()
        if c.RECIPIENT in agencies and c.SENDER in agencies and c.SENDER != c.RECIPIENT
    }
    return sorted(pairs)


def receipt_key(receiver: str, sender: str) -> str:
    cls = receipt_class(receiver, sender)
    return f"{cls.RECIPIENT}.{cls.TYPE}"


def add_receipts(
    pairs: list[tuple[str, str]],
    payload_ref: str,
    channels: dict[str, Any],
    messages: dict[str, Any],
    operations: dict[str, Any],
) -> None:
    """The receipts' messages (keyed by routing key: one type goes to several senders), the flow's
    and each sender's queue's channel carrying them, and each receiver's send operation."""
    for receiver, sender in pairs:
        cls, key = receipt_class(receiver, sender), receipt_key(receiver, sender)
        messages[key] = message_of(cls, payload_ref) | {"name": key}
        ref = {"$ref": f"#/components/messages/{key}"}
        channels["flux"]["messages"][key] = ref
        channels[sender]["messages"][key] = ref
        (operation,) = send_operations([cls]).values()
        operation["messages"] = [{"$ref": f"#/channels/flux/messages/{key}"}]
        operations[f"send.{key}"] = operation
