"""Publishing many messages with one wait for their confirms (RabbitMQ's publisher confirms).

A confirm per message costs a round trip each: the outbox of a batch of deliveries would wait
for every message in turn. Here the messages of a batch go out back to back on one confirmed
channel, and the broker's acks (which may each confirm several messages at once, `multiple`) are
awaited together. The batch counts as sent only when every message of it was acked; a nack or a
lost connection raises, and the caller publishes the batch again (its receivers' dedup absorbs
what had gone through).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from amqp import Message as AmqpMessage


class NotConfirmed(ConnectionError):
    """The broker nacked a message of the batch, or did not confirm it in time."""


@dataclass(frozen=True)
class Outgoing:
    body: bytes | str
    exchange: str
    routing_key: str
    headers: dict[str, Any]
    message_id: str
    content_type: str = "application/json"
    expiration: float | None = None
    # The publishing account, which the broker checks and the receiver reads (guichet/admission.py).
    user_id: str | None = None


class PipelinedPublisher:
    """Wraps the publishing connection's channel; one instance per channel (confirm tags count per channel)."""

    def __init__(self, channel: Any, timeout: float = 30.0):
        self.channel = channel
        self.timeout = timeout
        self._sent = 0  # delivery tags the broker gives this channel's publishes: 1, 2, 3...
        self._acked = 0  # highest tag acked so far
        self._acked_tags: set[int] = set()
        self._nacked = False
        if not getattr(channel, "_confirm_selected", False):
            # The connection may publish single messages with a wait each (confirm_publish): same mode.
            channel._confirm_selected = True
            channel.confirm_select()
        channel.events["basic_ack"].add(self._on_ack)
        channel.events["basic_nack"].add(self._on_nack)

    def _on_ack(self, tag: int, multiple: bool) -> None:
        # Acks come out of order (each queue confirms on its own): single tags above a gap wait in
        # the set until the gap is acked, alone or by a `multiple` ack that may come after them.
        if multiple:
            self._acked = max(self._acked, tag)
            self._acked_tags = {t for t in self._acked_tags if t > self._acked}
        else:
            self._acked_tags.add(tag)
        while self._acked + 1 in self._acked_tags:
            self._acked += 1
            self._acked_tags.discard(self._acked)

    def _on_nack(self, tag: int, multiple: bool) -> None:
        self._nacked = True

    def publish_all(self, messages: list[Outgoing]) -> None:
        """Send every message, then return once the broker confirmed them all."""
        if not messages:
            return
        for out in messages:
            body = out.body if isinstance(out.body, bytes) else out.body.encode()
            properties: dict[str, Any] = {
                "content_type": out.content_type,
                "content_encoding": "binary" if isinstance(out.body, bytes) else "utf-8",
                "application_headers": out.headers,
                "delivery_mode": 2,
                "message_id": out.message_id,
            }
            if out.user_id is not None:
                properties["user_id"] = out.user_id
            if out.expiration is not None:
                properties["expiration"] = str(max(0, int(out.expiration * 1000)))
            # _basic_publish: the channel's own basic_publish would wait for this one message's confirm.
            self.channel._basic_publish(
                AmqpMessage(body, **properties), exchange=out.exchange, routing_key=out.routing_key
            )
            self._sent += 1
        self._wait_confirms()

    def _wait_confirms(self) -> None:
        deadline = time.monotonic() + self.timeout
        connection = self.channel.connection
        while self._acked < self._sent and not self._nacked:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise NotConfirmed(f"{self._sent - self._acked} message(s) not confirmed within {self.timeout:g} s")
            try:
                connection.drain_events(timeout=min(remaining, 1.0))
            except TimeoutError:
                pass
        if self._nacked:
            self._nacked = False
            raise NotConfirmed("the broker refused (nacked) a message of the batch")
