"""The AMQP bindings (0.3.0) of the AsyncAPI document: a queue, an exchange, a publish, a consume."""

from __future__ import annotations

AMQP_BINDING = "0.3.0"


def queue_binding(name: str, vhost: str) -> dict:
    return {
        "amqp": {
            "is": "queue",
            "queue": {"name": name, "durable": True, "exclusive": False, "autoDelete": False, "vhost": vhost},
            "bindingVersion": AMQP_BINDING,
        }
    }


def exchange_binding(name: str, type_: str, vhost: str) -> dict:
    return {
        "amqp": {
            "is": "routingKey",
            "exchange": {"name": name, "type": type_, "durable": True, "autoDelete": False, "vhost": vhost},
            "bindingVersion": AMQP_BINDING,
        }
    }
