"""The embedded default (`memory://`): kombu's in-process broker, keeping RabbitMQ's rules for what
the runtime relies on, so that the runtime runs one code path whichever bus it is on.

What kombu's memory broker does not do, and this one does, on the bus's clock (the simulator's
virtual clock: a one-minute retry waits one virtual minute; real time by default):
- TTL: a queue's `x-message-ttl` and a message's `expiration` date each message as it is queued;
  an expired message leaves the head of its queue (RabbitMQ expires at the head only) and is
  dead-lettered to the queue's `x-dead-letter-exchange`, or dropped when it has none. So a delayed
  retry waits in its wait queue and comes back by dead-lettering, and a transmission that outlived
  its deadline goes to the late queue.
- Dead-lettering of a delivery rejected without requeue, as RabbitMQ does (reason `rejected`).
- A queue's `x-max-length` with `x-overflow: drop-head` (the refusal queues): the oldest message
  makes room for the newest, so that notices nobody reads stay bounded.
- Each dead-lettered message carries an `x-death` header as RabbitMQ writes it (reason, queue,
  exchange, routing keys, count), which the late relay reads.
Expired messages are looked for whenever a queue is read, and the next instant one expires is
`next_due`: a caller that moves the clock (the simulator) jumps there.

Two costs kombu pays on every message for the sake of other stores are not paid:
- Bodies are kept as they are. kombu's virtual transports encode every body in base64 on publish
  and decode it on delivery, for stores that only hold text (Redis, SQS); a Python queue holds the
  bytes themselves.
- Delivery tags are counted. kombu draws a random UUID for each; a tag only has to be unique among
  the deliveries a channel has not acked yet, and a counter shared by every channel is.

Everything else (exchanges, bindings, topic routing, queues shared by every connection of the
process, acks) is kombu's own.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count
from typing import Any

from kombu.connection import Connection
from kombu.transport import memory

from guichet.clock import Clock, SystemClock
from guichet.settings import TLSSettings
from guichet.transport.base import CONNECT_TIMEOUT_SECONDS, Transport

_delivery_tags = count(1)
# Kept in a queued message: when it expires, on which clock.
_EXPIRES = "x-embedded-expires"
# Kept in a delivered message: the queue it came from, which dead-lettering names.
_QUEUE = "x-embedded-queue"


class Channel(memory.Channel):
    body_encoding = None  # type: ignore[assignment]  # kombu infers str; None keeps bodies as they are
    # Each queue's declared arguments, process-wide as kombu's queues themselves.
    arguments: dict[str, dict[str, Any]] = {}

    def _next_delivery_tag(self) -> int:
        return next(_delivery_tags)

    @property
    def _clock(self) -> Clock:
        return self.connection.client.transport_options.get("clock") or SystemClock()

    def _new_queue(self, queue: str, **kwargs: Any) -> None:
        super()._new_queue(queue, **kwargs)
        Channel.arguments[queue] = dict(kwargs.get("arguments") or {})

    def _delete(self, queue: str, *args: Any, **kwargs: Any) -> None:
        super()._delete(queue, *args, **kwargs)
        Channel.arguments.pop(queue, None)

    def _put(self, queue: str, message: dict[str, Any], **kwargs: Any) -> None:
        arguments = Channel.arguments.get(queue, {})
        ttl = _ttl_seconds(arguments.get("x-message-ttl"), message["properties"].get("expiration"))
        if ttl is not None:
            clock = self._clock
            # A copy per queue: one publish may reach several, each dating it as it queues it.
            message = {**message, _EXPIRES: (clock, clock.now() + timedelta(seconds=ttl))}
        super()._put(queue, message, **kwargs)
        limit = arguments.get("x-max-length")
        if limit is not None and arguments.get("x-overflow") == "drop-head":
            pending = self._queue_for(queue).queue
            while len(pending) > int(limit):
                pending.popleft()

    def _put_fanout(
        self, exchange: str, message: dict[str, Any], routing_key: str | None = None, **kwargs: Any
    ) -> None:
        for queue in self._lookup(exchange, routing_key):
            self._put(queue, message)

    def _get(self, queue: str, timeout: float | None = None) -> dict[str, Any]:
        self._expire()
        return {**super()._get(queue, timeout), _QUEUE: queue}

    def _expire(self) -> None:
        """Dead-letter (or drop) every expired message at the head of a queue."""
        for name, queue in list(self.queues.items()):
            pending = queue.queue
            while pending and _expired(pending[0]):
                message = pending.popleft()
                self._dead_letter(name, message, "expired")

    def basic_reject(self, delivery_tag: int, requeue: bool = False) -> None:
        if not requeue:
            try:
                raw = self.qos.get(delivery_tag)._raw
            except KeyError:
                raw = None
            if raw is not None and raw.get(_QUEUE):
                self._dead_letter(raw[_QUEUE], raw, "rejected")
        super().basic_reject(delivery_tag, requeue=requeue)

    def _dead_letter(self, queue: str, message: dict[str, Any], reason: str) -> None:
        """What RabbitMQ does with a message that expired or was rejected: to the queue's
        dead-letter exchange, under its own routing key, an `x-death` entry telling why."""
        arguments = Channel.arguments.get(queue, {})
        exchange = arguments.get("x-dead-letter-exchange")
        if exchange is None:
            return  # dropped, as RabbitMQ drops it
        properties = {k: v for k, v in message["properties"].items() if k != "expiration"}
        info = properties.get("delivery_info") or {}
        routing_key = arguments.get("x-dead-letter-routing-key") or info.get("routing_key") or ""
        headers = dict(message.get("headers") or {})
        deaths = [dict(d) for d in headers.get("x-death") or []]
        same = next((d for d in deaths if d.get("queue") == queue and d.get("reason") == reason), None)
        if same is not None:
            deaths.remove(same)
            same["count"] = int(same.get("count", 1)) + 1
        else:
            same = {
                "count": 1,
                "reason": reason,
                "queue": queue,
                "exchange": info.get("exchange") or "",
                "routing-keys": [info.get("routing_key") or ""],
            }
        same["time"] = self._clock.now()
        headers["x-death"] = [same, *deaths]
        headers.setdefault("x-first-death-queue", queue)
        headers.setdefault("x-first-death-reason", reason)
        headers.setdefault("x-first-death-exchange", info.get("exchange") or "")
        properties["delivery_info"] = {}
        dead = {k: v for k, v in message.items() if k not in (_EXPIRES, _QUEUE)}
        dead.update(headers=headers, properties=properties)
        self.basic_publish(dead, exchange, routing_key)


class EmbeddedBroker(memory.Transport):
    Channel = Channel


def _ttl_seconds(queue_ttl_ms: Any, expiration_ms: Any) -> float | None:
    """The shorter of a queue's and a message's TTL, in seconds; None when neither has one."""
    ttls = [int(v) / 1000 for v in (queue_ttl_ms, expiration_ms) if v not in (None, "")]
    return min(ttls) if ttls else None


def _expired(message: dict[str, Any]) -> bool:
    stamp = message.get(_EXPIRES)
    return stamp is not None and stamp[0].now() >= stamp[1]


class Embedded(Transport):
    """The bus in this process: nothing to connect, no link to lose, no broker to nack."""

    schemes = ("memory",)

    def _connection(self, urls: list[str], heartbeat: int, tls: TLSSettings | None) -> Connection:
        return Connection(
            urls,
            heartbeat=0,
            transport_options={"clock": self.clock},
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            transport=EmbeddedBroker,
        )

    def next_due(self) -> datetime | None:
        due = []
        for queue in self.topology.queues():
            if "x-dead-letter-exchange" not in Channel.arguments.get(queue.name, {}):
                continue  # what expires there is dropped, not moved: nothing for a clock to wait for
            pending = Channel.queues.get(queue.name)
            if pending is not None and pending.queue and _EXPIRES in pending.queue[0]:
                due.append(pending.queue[0][_EXPIRES][1])
        return min(due) if due else None
