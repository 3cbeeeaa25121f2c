"""The operations of the AsyncAPI document: publishing each message type on the flow exchange,
consuming each queue, filing in the error exchange, waiting in a wait exchange."""

from __future__ import annotations

from typing import Any

from guichet.message import Message
from guichet.topology import Topology
from guichet_operations.asyncapi_bindings import AMQP_BINDING

PUBLISH = {"deliveryMode": 2, "mandatory": False, "timestamp": True}


def _publish_binding(routing_key: str) -> dict[str, Any]:
    return {
        "amqp": {
            # The routing key of the publish: AMQP binding 0.3.0 has no other field for it. The bus sets
            # no CC header (a publish with CC or BCC is refused: `cc_refused`).
            "cc": [routing_key],
            **PUBLISH,
            "bindingVersion": AMQP_BINDING,
        }
    }


def send_operations(classes: list[type[Message]]) -> dict[str, Any]:
    return {
        f"send.{cls.TYPE}": {
            "action": "send",
            "channel": {"$ref": "#/channels/flux"},
            "title": f"{cls.SENDER} sends {cls.TYPE}",
            "summary": f"{cls.SENDER} → {cls.RECIPIENT}, routing key {cls.RECIPIENT}.{cls.TYPE}",
            "description": f"Published on the flow exchange under the routing key `{cls.RECIPIENT}.{cls.TYPE}` "
            "(the binding's `cc` names that routing key; no CC header is set), persistent, with the "
            "publishing account as AMQP `user_id`.",
            "messages": [{"$ref": f"#/channels/flux/messages/{cls.TYPE}"}],
            "bindings": _publish_binding(f"{cls.RECIPIENT}.{cls.TYPE}"),
            "x-guichet-routing-key": f"{cls.RECIPIENT}.{cls.TYPE}",
        }
        for cls in classes
    }


def receive_operations(channels: dict[str, Any]) -> dict[str, Any]:
    operations = {}
    for owner, channel in channels.items():
        if channel["bindings"]["amqp"]["is"] != "queue" or not channel.get("messages"):
            continue
        operations[f"receive.{owner}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{owner}"},
            "summary": f"consume {channel['address']}",
            "description": "Ack each delivery once handled or filed in the error exchange; a reject "
            "without requeue takes the late path (see Acknowledgements).",
            "messages": [{"$ref": f"#/channels/{owner}/messages/{m}"} for m in channel["messages"]],
            "bindings": {"amqp": {"ack": True, "bindingVersion": AMQP_BINDING}},
        }
    return operations


def failure_operations(topology: Topology) -> dict[str, Any]:
    """What a connector publishes when a delivery fails: filed in the error exchange, or retried
    later through a wait exchange."""
    errors = topology.errors_exchange.name
    operations: dict[str, Any] = {
        "send.error": {
            "action": "send",
            "channel": {"$ref": "#/channels/vers.erreurs"},
            "title": "An agency files a delivery it refused or could not handle",
            "summary": f"file in {errors} under the key the message was delivered with",
            "description": f"Publish the delivery's body unchanged on `{errors}` under the routing key it was "
            "delivered with (`<recipient>.<type>`, addressed to the filing agency), or "
            "`<agency>.retry` for a delivery without one. Headers: the delivery's own, plus the "
            "`x-guichet-error-*` headers; `x-guichet-error-reason` is one of the published reasons. Ack the "
            "delivery only once the broker confirmed the filing; if the filing is refused, reject the "
            "delivery without requeue (it takes the late path and the relay files it).",
            "messages": [{"$ref": "#/channels/vers.erreurs/messages/failed"}],
            "bindings": _publish_binding("<agency>.<type>"),
            "x-guichet-routing-key": "<recipient>.<type> as delivered, or <agency>.retry",
        }
    }
    delays = ", ".join(f"{s:g}" for s in topology.retry_delays)
    for seconds in topology.retry_delays:
        wait = f"attente.{seconds:g}s"
        operations[f"send.wait.{seconds:g}s"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/vers.{wait}"},
            "title": f"Retry a failed handling in {seconds:g} s",
            "summary": f"publish on {topology.wait_exchange(seconds).name} under the original routing key",
            "description": f"The delivery's body under its original routing key (addressed to the retrying "
            f"agency), with `x-guichet-attempts` raised by one: it waits {seconds:g} real seconds in "
            f"`{topology.queue_name(wait)}` and is dead-lettered back to `{topology.flow.name}`, to the "
            f"same queue. guichet retries after {delays} s, then files the message (`handler_error`).",
            "messages": [{"$ref": f"#/channels/vers.{wait}/messages/waiting"}],
            "bindings": _publish_binding("<agency>.<type>"),
        }
    return operations
