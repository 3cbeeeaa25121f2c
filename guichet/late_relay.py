"""The late relay: what an agency queue dead-letters to the late queue, handled by the agency the
domain names (the DT-OFII, référent of the deadline alerts).

- A transmission between two agencies that expired in its recipient's queue before its legal
  deadline was met (its consumer was down) is republished under its own routing key, marked late,
  and raises the alert; it is delivered all the same once the consumer is back.
- Anything else dead-lettered there (a quorum queue's delivery limit, a delivery its agency
  rejected because the broker refused its filing, a message a sender made expire on purpose) is
  filed in the error queue, never relayed: the relay carries on only what an agency sent.
"""
from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import structlog

from guichet import tracing
from guichet.envelope import PermanentError, Sender, decode, wrap
from guichet.failures import FILING_ID, _message_id, _without, filing_id

if TYPE_CHECKING:
    from guichet.runner import Runner

log = structlog.get_logger("guichet.late_relay")


class LateRelay:
    def __init__(self, runner: "Runner"):
        self.agency, self.bus, self.metrics = runner.agency, runner.bus, runner.metrics
        self.admission = runner.admission
        # For a dead-lettered message without a routing key: one addressed to this agency.
        self.own_key = f"{runner.agency.name}.retry"

    def on_late(self, message) -> None:
        """A transmission expired in its recipient's queue before its deadline was met: raise the
        alert to the DT-OFII's référent and deliver it all the same once its consumer is back."""
        with tracing.processing(message.headers, self.bus.topology.queue_name("retard"),
                                message.delivery_info.get("routing_key"), None):
            self._relay_late(message)

    def _relay_late(self, message) -> None:
        headers = dict(message.headers or {})
        death = (headers.get("x-death") or [{}])[0]
        routing_key = (death.get("routing-keys") or [message.delivery_info.get("routing_key")])[0]
        refused = self._not_relayable(message, death, routing_key)
        if refused is not None:
            # A quorum queue's delivery limit (a message that keeps crashing its consumer), a delivery
            # its agency could not file, or anything but an agency's transmission: filed, not relayed.
            self.handle_poison(message, {**death, "reason": refused}, routing_key)
            message.ack()
            return
        envelope, late = decode(message.body, headers, message.content_type)
        clean = _without(headers, "x-death", "x-first-death-queue", "x-first-death-reason", "x-first-death-exchange")
        try:
            self.bus.publish(message.body, routing_key, {**clean, "x-guichet-late": True},
                             _message_id(message.body, headers, message.properties.get("message_id")),
                             content_type=message.content_type or "application/json")
        except Exception as exc:  # refused by the broker: filed rather than tried again for ever
            log.error("late transmission could not be relayed: filed in the error queue", error=str(exc))
            self.handle_poison(message, {**death, "reason": "relay_refused"}, routing_key)
            message.ack()
            return
        self.metrics.late_transmission(envelope.recipient if envelope is not None else (routing_key or "?").split(".")[0])
        late_alert = self.agency.definition.late_alert
        alert = late_alert(envelope, late) if envelope is not None and late_alert is not None else None
        if alert is not None:
            # A relay done twice alerts once: the alert's id follows from the late message's.
            out = wrap(alert, dossier_id=envelope.dossier_id, sender=Sender(agency=self.agency.name),
                       sent_at=self.agency.clock.now(), causation_id=envelope.message_id,
                       message_id=uuid.uuid5(envelope.message_id, "transmission_en_retard"))
            if self.agency.trust is not None:
                out = self.agency.trust.sign(out)
            self.bus.publish_envelope(out)
            self.metrics.published(out, self.agency.definition.observe)
            log.warning("late transmission relayed", type=envelope.type, dossier_id=envelope.dossier_id,
                        recipient=envelope.recipient)
        message.ack()

    def _not_relayable(self, message, death: dict, routing_key: str | None) -> str | None:
        """Why a dead-lettered message is not relayed, or None: only a transmission between two
        agencies that expired in its recipient's queue, under its own routing key, is carried on."""
        if death.get("reason") != "expired":
            return death.get("reason", "dead_lettered")
        agencies = self.bus.topology.parties.agencies
        try:
            envelope, _ = decode(message.body, message.headers, message.content_type)
        except PermanentError as exc:
            return exc.reason
        if routing_key != envelope.routing_key or envelope.sender.agency not in agencies \
                or envelope.recipient not in agencies or any(str(k).upper() in ("CC", "BCC") for k in message.headers or {}):
            return "not_relayable"
        return None

    def handle_poison(self, message, death: dict, routing_key: str) -> None:
        context = {"reason": death.get("reason", "dead_lettered"), "message": f"dead-lettered from {death.get('queue')}",
                   "queue": death.get("queue"), "routing-key": routing_key, "attempts": death.get("count", 1),
                   "first-failure": self.agency.clock.now(), "last-failure": self.agency.clock.now(),
                   "message_id": _message_id(message.body, message.headers, message.properties.get("message_id"))}
        kept = _without(message.headers or {}, "x-death")
        kept[FILING_ID] = filing_id(message.body, kept, context["message_id"], str(death.get("queue")))
        self.bus.to_error_queue(message.body, kept, message.content_type, context,
                                self.admission.filing_key(routing_key or self.own_key))
        self.metrics.dead_lettered(context["reason"])
