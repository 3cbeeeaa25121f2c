"""The pieces of the AsyncAPI document (guichet_operations/asyncapi.py): the AMQP bindings of a
queue or an exchange, each message of the registry with its headers, body schema and example, and
what the wait, late and error queues hold."""

from __future__ import annotations

from guichet import amqp_headers
from guichet.envelope import CONTENT_TYPE
from guichet.message import Message

AMQP_BINDING = "0.3.0"
REF = "#/components/schemas/{model}"
# The x-guichet-error-* headers of a filing, without their prefix (guichet/amqp_headers.py).
ERROR_HEADERS = amqp_headers.error_suffixes()


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


def _example(cls: type[Message]) -> dict | None:
    """A payload made of the first example of every field, if the class accepts it."""
    values = {name: field.examples[0] for name, field in cls.model_fields.items() if field.examples}
    try:
        return cls.model_validate(values).model_dump(mode="json")
    except Exception:  # a field without example, or examples that only make sense apart
        return None


def _headers(cls: type[Message]) -> dict:
    """The AMQP headers of a flow message, from the table of guichet/amqp_headers.py: the envelope's
    (Envelope.headers), required, and those the bus adds on publish."""
    properties = {h.name: h.schema() for h in amqp_headers.carried_by("flow")}
    properties["type"]["const"] = cls.TYPE
    properties["sender"]["const"] = cls.SENDER
    properties["version"] |= {"minimum": 1, "maximum": cls.VERSION}
    properties["version"]["description"] += " A version above the known one is refused."
    return {"type": "object", "required": ["type", "version", "dossier_id", "sender"], "properties": properties}


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


def message_of(cls: type[Message], payload_ref: str) -> dict:
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


def failure_messages() -> dict:
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
