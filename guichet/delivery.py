"""One agency's deliveries: admitted, decoded, deduplicated, handled and committed by the agency
(guichet/agency.py), then settled with the broker.

A delivery that fails is tried again as the retry policy says (guichet/retry_policy.py), else filed
in the error queue (guichet/dead_letters.py), and its sender told by a refusal notice once the
filing was confirmed (guichet/refusals.py). No path acks a delivery before what it filed (a retry,
an error-queue filing) was confirmed by the broker (see guichet/failures.py for the filing id that
absorbs a filing done twice).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import structlog

from guichet.agency import Outcome
from guichet.envelope import PermanentError
from guichet.failures import delivery_message_id, failure_summary
from guichet.metrics import published_at

if TYPE_CHECKING:
    from guichet.admission import Admission
    from guichet.agency import Agency
    from guichet.dead_letters import DeadLetters
    from guichet.hooks import Hooks
    from guichet.refusals import Refusals
    from guichet.retry_policy import RetryPolicy
    from guichet.transport import Transport

log = structlog.get_logger("guichet.runner")
SETTLED = ("processed", "duplicate")


class Delivery:
    def __init__(
        self,
        agency: Agency,
        bus: Transport,
        admission: Admission,
        policy: RetryPolicy,
        dead_letters: DeadLetters,
        hooks: Hooks,
        queue_name: str,
        refusals: Refusals | None = None,
    ):
        self.agency, self.bus, self.admission, self.policy = agency, bus, admission, policy
        self.dead_letters, self.hooks, self.queue_name = dead_letters, hooks, queue_name
        self.refusals = refusals
        self.processed = self.failed = self.retried = 0

    def handle(
        self,
        body: bytes | str,
        headers: dict[str, Any] | None,
        content_type: str | None,
        routing_key: str | None = None,
        sent_at: float | None = None,
        message_id: str | None = None,
        user_id: str | None = None,
    ) -> Outcome:
        """Process one delivery; never raises for a bad message (see `Runner.handle`)."""
        with self.hooks.receiving(body, headers, self.queue_name, routing_key) as span:
            own = dict(headers or {})
            started = time.perf_counter()
            outcome = self.refusal(body, own, routing_key, user_id) or self._process(body, own, content_type)
            handler_seconds = time.perf_counter() - started
            outcome = self._settle_failure(body, own, content_type, routing_key, message_id, outcome, user_id)
            self.hooks.handled(span, outcome, body, headers, message_id)
        self.hooks.delivered(outcome, handler_seconds, sent_at)
        return outcome

    def handle_message(self, message: Any) -> Outcome:
        """`handle` with what the broker says of a delivery: its key, publish time, id and account."""
        return self.handle(
            message.body,
            message.headers,
            message.content_type,
            message.delivery_info.get("routing_key"),
            published_at(message),
            message.properties.get("message_id"),
            message.properties.get("user_id"),
        )

    def handle_batch(self, messages: list[Any]) -> None:
        """Handle deliveries of one queue in one register transaction, then ack them together once it
        committed. What did not go through in the batch (a handler fault, a rejection, a processed id
        another process of the agency took first) is handled again alone after the commit, through
        `handle`: same retries, same error queue, same outcome."""
        done: list[tuple[Outcome, float, float | None]] = []
        alone: list[Any] = []
        try:
            with self.agency.batch() as batch:
                for message in messages:
                    started = time.perf_counter()
                    body, headers = message.body, message.headers or {}
                    routing_key = message.delivery_info.get("routing_key")
                    if self.refusal(body, headers, routing_key, message.properties.get("user_id")) is not None:
                        alone.append(message)  # refused again there, and filed
                        continue
                    with self.hooks.receiving(body, headers, self.queue_name, routing_key) as span:
                        outcome = batch.process(body, headers, message.content_type)
                        if outcome is not None and outcome.status in SETTLED:
                            self.hooks.handled(span, outcome, body, headers)
                    if outcome is None or outcome.status not in SETTLED:
                        alone.append(message)
                    else:
                        done.append((outcome, time.perf_counter() - started, published_at(message)))
        except Exception as exc:  # the batch's own transaction failed (e.g. a lock timeout): one by one
            log.warning(
                "batch not committed, handling its deliveries one by one",
                agency=self.agency.name,
                size=len(messages),
                error=f"{type(exc).__name__}: {exc}",
            )
            done, alone = [], list(messages)
        for outcome, seconds, sent_at in done:
            self.processed += outcome.status == "processed"
            self.hooks.delivered(outcome, seconds, sent_at)
        unfiled = [m for m in alone if self.handle_message(m).status == "unfiled"]
        for message in unfiled:
            message.reject(requeue=False)
        self.bus.ack_batch([m for m in messages if m not in unfiled])

    @staticmethod
    def settle(message: Any, outcome: Outcome) -> None:
        """Ack a handled delivery; reject without requeue one whose filing the broker refused, so that
        it is dead-lettered (to the late queue, whose relay files it) instead of coming back here."""
        if outcome.status == "unfiled":
            message.reject(requeue=False)
        else:
            message.ack()

    def refusal(
        self, body: bytes | str, headers: dict[str, Any], routing_key: str | None, user_id: str | None
    ) -> Outcome | None:
        """Why a delivery is refused before its body is read (guichet/admission.py), or None."""
        try:
            self.admission.check(body, headers, routing_key, user_id)
        except PermanentError as exc:
            return Outcome("rejected", reason=exc.reason, error=str(exc))
        return None

    def _process(self, body: bytes | str, headers: dict[str, Any], content_type: str | None) -> Outcome:
        try:
            return self.policy.immediately(
                lambda: self.agency.process(body, headers, content_type),
                on_retry=lambda: self.hooks.retried("immediate"),
            )
        except Exception as exc:  # a handler fault: the message must neither be lost nor block the queue
            return Outcome(
                "failed",
                reason="handler_error",
                error=f"{type(exc).__name__}: {exc}",
                details={"exception": type(exc).__name__, "traceback": failure_summary(exc)},
            )

    def _settle_failure(
        self,
        body: bytes | str,
        headers: dict[str, Any],
        content_type: str | None,
        routing_key: str | None,
        message_id: str | None,
        outcome: Outcome,
        user_id: str | None = None,
    ) -> Outcome:
        """A failed handling retried later while the policy allows, else filed, its sender told
        (a handler fault too, once it failed every retry); what became of it."""
        if outcome.status == "failed":
            attempts = self.policy.attempts(headers)
            delay = self.policy.delay_after(attempts)
            if delay is not None:
                self._retry_later(delay, body, headers, content_type, routing_key, attempts, outcome, message_id)
                return Outcome("retrying", outcome.envelope, outcome.reason, outcome.error)
        if outcome.status in ("rejected", "failed"):
            self.failed += 1
            if not self.dead_letters.file_failure(body, headers, content_type, outcome, routing_key, message_id):
                return Outcome("unfiled", outcome.envelope, outcome.reason, outcome.error)
            if self.refusals is not None:
                self.refusals.notify(body, headers, outcome, user_id, message_id)
        elif outcome.status == "processed":
            self.processed += 1
        return outcome

    def _retry_later(
        self,
        delay: float,
        body: bytes | str,
        headers: dict[str, Any],
        content_type: str | None,
        routing_key: str | None,
        attempts: int,
        outcome: Outcome,
        message_id: str | None,
    ) -> None:
        headers = self.policy.next_headers(headers, attempts, self.agency.clock.now(), outcome.error)
        self.bus.publish_later(
            delay,
            body,
            routing_key or self.dead_letters.own_key,
            headers,
            delivery_message_id(body, headers, message_id),
            content_type=content_type or "application/json",
        )
        self.retried += 1
        self.hooks.retried("delayed")
        log.warning(
            "handler failed, retrying later",
            agency=self.agency.name,
            error=outcome.error,
            attempt=attempts + 1,
            retry_in_seconds=delay,
        )
