"""The named points where an agency's runtime is watched: metrics and traces hook in here, so that
the parts that move messages (delivery, retries, dead letters, relay, outbox) say what happened and
never how it is counted or traced.

| point | when |
|---|---|
| `receiving` | a delivery is being handled (its consumer span; personal data kept out of logs) |
| `handled` | its outcome is known (recorded on the span) |
| `delivered` | it is settled, with its handler time and its publish time |
| `retried` | a failed handling is tried again, `immediate` or `delayed` |
| `dead_lettered` | a message could not be filed, or was filed from the late queue |
| `published` | the broker took a message the agency sent |
| `late` | a transmission expired in its recipient's queue and was relayed |
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from guichet import tracing
from guichet.failures import delivery_message_id
from guichet.privacy import PersonalBody, personal_data

if TYPE_CHECKING:
    from guichet.agency import Outcome
    from guichet.envelope import Envelope
    from guichet.metrics import Metrics, Observe


class Hooks:
    def __init__(self, metrics: Metrics, observe: Observe | None = None):
        self.metrics = metrics
        self._observe = observe

    @contextmanager
    def receiving(self, body: Any, headers: Any, queue: str, routing_key: str | None) -> Iterator[Any]:
        with personal_data(PersonalBody(body)), tracing.processing(headers, queue, routing_key, None) as span:
            yield span

    @contextmanager
    def relaying(self, headers: Any, queue: str, routing_key: str | None) -> Iterator[Any]:
        with tracing.processing(headers, queue, routing_key, None) as span:
            yield span

    def handled(self, span: Any, outcome: Outcome, body: Any, headers: Any, message_id: str | None = None) -> None:
        tracing.record_outcome(
            span, outcome, lambda: delivery_message_id(body, headers, message_id), (headers or {}).get("dossier_id")
        )

    def delivered(self, outcome: Outcome, handler_seconds: float | None, sent_at: float | None) -> None:
        self.metrics.delivered(outcome, handler_seconds, sent_at)

    def retried(self, tier: str) -> None:
        self.metrics.retry(tier)

    def dead_lettered(self, reason: str) -> None:
        self.metrics.dead_lettered(reason)

    def published(self, envelope: Envelope) -> None:
        self.metrics.published(envelope, self._observe)

    def late(self, recipient: str) -> None:
        self.metrics.late_transmission(recipient)
