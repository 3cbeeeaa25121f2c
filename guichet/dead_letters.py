"""Filing in the error queue: what can never succeed, what failed every retry, and what the late
queue received that is not a transmission to relay.

A message is filed whole, with why it failed in `x-guichet-error-*` headers and a filing id that
absorbs a filing done twice (guichet/failures.py), under a routing key this agency's account may
write (guichet/admission.py). No delivery is acked before its filing was confirmed. A filing the
broker does not take is reported (`file_failure` returns False): the caller rejects the delivery
without requeue, so that the broker dead-letters it to the late queue, whose relay files it,
instead of redelivering it in a loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog

from guichet.failures import (
    ATTEMPTS,
    FILING_ID,
    FIRST_FAILURE,
    LAST_ERROR,
    delivery_message_id,
    envelope_field,
    filing_id,
    without,
)
from guichet.registers.erasure import ERASED_REASON, withheld

if TYPE_CHECKING:
    from guichet.admission import Admission
    from guichet.agency import Agency, Outcome
    from guichet.hooks import Hooks
    from guichet.transport import Transport

log = structlog.get_logger("guichet.runner")


class DeadLetters:
    def __init__(self, agency: Agency, bus: Transport, admission: Admission, hooks: Hooks, queue_name: str):
        self.agency, self.bus, self.admission, self.hooks = agency, bus, admission, hooks
        self.queue_name = queue_name
        # What went to the error queue, by dossier: a run can say which dossier it could not carry.
        self.failures: list[dict[str, Any]] = []

    @property
    def own_key(self) -> str:
        """For a message handed over without a routing key: one addressed to this agency, which its
        queue is bound to and its account may write."""
        return f"{self.agency.name}.retry"

    def file_failure(
        self,
        body: Any,
        headers: dict[str, Any],
        content_type: str | None,
        outcome: Outcome,
        routing_key: str | None,
        message_id: str | None,
    ) -> bool:
        """File a delivery this agency refused or could not handle; False when the broker did not take it."""
        now = self.agency.clock.now()
        if outcome.reason == ERASED_REASON:
            # Filed whole, it would put the erased dossier's personal data back on the broker: its ids only.
            ids = (delivery_message_id(body, headers, message_id), envelope_field(body, outcome, "dossier_id"))
            body = withheld(*ids).encode()
        self.failures.append(
            {
                "dossier_id": envelope_field(body, outcome, "dossier_id"),
                "agency": self.agency.name,
                "type": envelope_field(body, outcome, "type"),
                "reason": outcome.reason,
                "error": outcome.error,
            }
        )
        context = {
            "reason": outcome.reason,
            "message": outcome.error,
            "queue": self.queue_name,
            "routing-key": routing_key,
            "first-failure": headers.get(FIRST_FAILURE) or now,
            "last-failure": now,
            "attempts": int(headers.get(ATTEMPTS, 0)) + 1,
            "exception": outcome.details.get("exception", outcome.reason),
            "traceback": outcome.details.get("traceback", ""),
            "message_id": delivery_message_id(body, headers, message_id),
        }
        kept = without(headers, ATTEMPTS, FIRST_FAILURE, LAST_ERROR)
        kept[FILING_ID] = filing_id(body, headers, context["message_id"], self.queue_name)
        try:
            self.bus.to_error_queue(
                body, kept, content_type, context, self.admission.filing_key(routing_key or self.own_key)
            )
        except Exception as exc:
            log.error(
                "could not file a refused message in the error queue: rejected to the late queue instead",
                agency=self.agency.name,
                reason=context.get("reason"),
                error=f"{type(exc).__name__}: {exc}",
            )
            self.hooks.dead_lettered("unfiled")
            return False
        log.warning(
            "message sent to the error queue", agency=self.agency.name, reason=outcome.reason, error=outcome.error
        )
        return True

    def file_dead_lettered(self, message: Any, death: dict[str, Any], routing_key: str | None) -> None:
        """File what the broker dead-lettered to the late queue and the relay does not carry on."""
        now = self.agency.clock.now()
        context = {
            "reason": death.get("reason", "dead_lettered"),
            "message": f"dead-lettered from {death.get('queue')}",
            "queue": death.get("queue"),
            "routing-key": routing_key,
            "attempts": death.get("count", 1),
            "first-failure": now,
            "last-failure": now,
            "message_id": delivery_message_id(message.body, message.headers, message.properties.get("message_id")),
        }
        kept = without(message.headers or {}, "x-death")
        kept[FILING_ID] = filing_id(message.body, kept, context["message_id"], str(death.get("queue")))
        self.bus.to_error_queue(
            message.body, kept, message.content_type, context, self.admission.filing_key(routing_key or self.own_key)
        )
        self.hooks.dead_lettered(context["reason"])
