"""The pieces of the AsyncAPI document (guichet_operations/asyncapi.py): the AMQP bindings of a
queue or an exchange, each message of the registry with its headers, body schema and example, and
what the wait, late and error queues hold."""

from __future__ import annotations

from guichet import amqp_headers
from guichet.envelope import CONTENT_TYPE
from guichet.failures import ATTEMPTS, FIRST_FAILURE, LAST_ERROR
from guichet.message import Message
from guichet_operations.asyncapi_bindings import AMQP_BINDING

REF = "#/components/schemas/{model}"
# The x-guichet-error-* headers of a filing, without their prefix (guichet/amqp_headers.py).
ERROR_HEADERS = amqp_headers.error_suffixes()


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
        # No messageType: the bus sets no AMQP `type` property; the type is in the body and the headers.
        "bindings": {"amqp": {"contentEncoding": "utf-8", "bindingVersion": AMQP_BINDING}},
        "x-guichet-version": cls.VERSION,
        "x-guichet-sender": cls.SENDER,
        "x-guichet-recipient": cls.RECIPIENT,
        "x-guichet-routing-key": f"{cls.RECIPIENT}.{cls.TYPE}",
    }
    if cls.STEP:
        message["x-guichet-step"] = cls.STEP
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
                "properties": {
                    ATTEMPTS: {"type": "integer", "description": "Delayed attempts made so far"},
                    FIRST_FAILURE: {
                        "type": "string",
                        "format": "date-time",
                        "description": "When handling first failed, on the bus clock of the retrying agency",
                    },
                    LAST_ERROR: {"type": "string", "description": "The last handling error"},
                },
            },
        },
        "late": {
            "name": "late",
            "title": "A transmission that expired in its recipient's queue (past its "
            "legal deadline); relayed back and reported to the référent",
            "description": "Dead-lettered by an agency queue. The relay republishes a late transmission "
            "between agencies on the flow under its own routing key, without the x-death headers and with "
            "`x-guichet-late: true`, so the recipient still receives it; anything else is filed in the "
            "error queue with the broker's dead-letter reason.",
            "contentType": CONTENT_TYPE,
            "payload": envelope,
            "headers": {
                "type": "object",
                "properties": {
                    "x-death": {"type": "array", "description": "Set by RabbitMQ: queue, reason, count, routing-keys"},
                    "x-first-death-reason": {
                        "type": "string",
                        "description": "Set by RabbitMQ: expired, rejected, delivery_limit, maxlen",
                    },
                },
            },
        },
        "unrouted": {
            "name": "unrouted",
            "title": "A message no queue was bound to take",
            "contentType": CONTENT_TYPE,
            "payload": envelope,
        },
    }
