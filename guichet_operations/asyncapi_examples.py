"""The example of each message in the AsyncAPI document: a whole envelope as it travels (message
id, dossier, sender, recipient, bus dates, payload) with its AMQP headers, built by the product's own
`wrap` so that the product's decoder takes it (a test checks it does)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from guichet.envelope import Sender, wrap
from guichet.message import Message
from guichet_operations.asyncapi_parts import _example

SENT_AT = datetime.fromisoformat("2026-01-05T09:00:00+01:00")
# An employer signs as itself: its SIRET is the office of its sender.
EMPLOYER_SIRET = "55208131766522"
# A field's examples are given one by one: the first of `granted` (True) and the first of `reason`
# ("refus consulaire") each make sense, not together. An example decision is a favourable one, and a
# favourable decision gives no reason for a refusal.
FAVOURABLE = ("granted", "favorable")
REFUSAL_REASON = "reason"


def example_id(cls: type[Message], what: str) -> uuid.UUID:
    """Stable from one generation to the next: the document does not change when nothing did."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"guichet:example:{cls.TYPE}:{what}")


def example_envelope(cls: type[Message]) -> dict[str, Any] | None:
    """{"name", "headers", "payload"}: the example of an AsyncAPI message, or None without a payload example."""
    payload = _example(cls)
    if payload is None:
        return None
    if any(payload.get(f) is True for f in FAVOURABLE) and REFUSAL_REASON in payload:
        payload[REFUSAL_REASON] = None
    office = EMPLOYER_SIRET if cls.SENDER == "employeur" else None
    envelope = wrap(
        cls.model_validate(payload),
        dossier_id="D-1",
        sender=Sender(agency=cls.SENDER, office=office),
        sent_at=SENT_AT,
        causation_id=example_id(cls, "cause"),
        message_id=example_id(cls, "message"),
    )
    return {
        "name": "example",
        "summary": "A whole envelope: `causation_id` is the message this one answers",
        "headers": envelope.headers(),
        "payload": envelope.model_dump(mode="json"),
    }
